namespace Ballast.Tests.Storage;

/// <summary>
/// Serves <c>content</c> but, once <see cref="PauseAt"/> bytes were read, waits for <see cref="Resume"/> (or the read's
/// cancellation), or throws at <see cref="FailAt"/>: a writer caught in the middle of an upload, deterministically.
/// </summary>
public sealed class ScriptedStream(byte[] content) : Stream
{
    private readonly TaskCompletionSource _paused = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _resume = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _position;

    public int? PauseAt { get; init; }

    public int? FailAt { get; init; }

    /// <summary>Completes when the reader reached <see cref="PauseAt"/> and is waiting.</summary>
    public Task Paused => _paused.Task;

    public void Resume() => _resume.TrySetResult();

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => content.Length;

    public override long Position
    {
        get => _position;
        set => throw new NotSupportedException();
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_position == PauseAt)
        {
            _paused.TrySetResult();
            await _resume.Task.WaitAsync(cancellationToken);
        }

        if (_position == FailAt)
        {
            throw new IOException("The source broke off in the middle of the content.");
        }

        var stop = Math.Min(content.Length, NextStop());
        var count = Math.Min(buffer.Length, stop - _position);
        content.AsSpan(_position, count).CopyTo(buffer.Span);
        _position += count;
        return count;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    private int NextStop()
    {
        var stop = int.MaxValue;
        if (PauseAt is { } pause && pause > _position)
        {
            stop = pause;
        }

        if (FailAt is { } fail && fail > _position)
        {
            stop = Math.Min(stop, fail);
        }

        return stop;
    }
}
