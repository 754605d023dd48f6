namespace Ballast.Tracking;

/// <summary>
/// Where a page starts: below (or above, as the search orders) <see cref="LastKey"/>, the sort key of the previous
/// page's last result, when the token carries one; else after <see cref="Offset"/> results.
/// </summary>
/// <param name="Offset">How many results the pages before this one held (or, without a key, skip that many).</param>
/// <param name="LastKey">The previous page's last key, or null to page by <see cref="Offset"/>.</param>
public readonly record struct PageCursor(long Offset, long? LastKey);
