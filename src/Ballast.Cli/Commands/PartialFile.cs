namespace Ballast.Cli.Commands;

/// <summary>
/// A file a command downloads whole or not at all: written as <c>TARGET.partial</c> and moved over the target once
/// complete. When the download fails the partial file is removed, and an error about the file names the target the
/// user asked for, not the temporary name.
/// </summary>
internal static class PartialFile
{
    public static async Task<T> WriteAsync<T>(string target, Func<Stream, Task<T>> write)
    {
        ArgumentNullException.ThrowIfNull(write);
        var partial = target + ".partial";
        try
        {
            T result;
            await using (var stream = new FileStream(partial, FileMode.Create, FileAccess.Write, FileShare.None, 81_920, FileOptions.Asynchronous))
            {
                result = await write(stream).ConfigureAwait(false);
            }

            File.Move(partial, target, overwrite: true);
            return result;
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            try
            {
                File.Delete(partial);
            }
            catch (Exception cleanup) when (cleanup is IOException or UnauthorizedAccessException)
            {
                // Nothing was written there, or it cannot be removed: the error below is what the user needs.
            }

            if (exception is IOException or UnauthorizedAccessException && exception.Message.Contains(partial, StringComparison.Ordinal))
            {
                throw new IOException(exception.Message.Replace(partial, target, StringComparison.Ordinal), exception);
            }

            throw;
        }
    }

    public static Task WriteAsync(string target, Func<Stream, Task> write)
    {
        ArgumentNullException.ThrowIfNull(write);
        return WriteAsync(target, async stream =>
        {
            await write(stream).ConfigureAwait(false);
            return true;
        });
    }
}
