using System.IO.MemoryMappedFiles;

namespace Ballast.Serving;

/// <summary>
/// A write-ahead file of the prediction log, appended through a shared memory mapping: an append is a copy into the
/// file's pages in the page cache, without a system call, and like a <c>write()</c> it survives the process being
/// killed (the pages belong to the file, not to the process). Its space is allocated when it is created, so that a full
/// disk fails the creation rather than a copy (which would kill the process with SIGBUS). Closing it flushes it to disk
/// and cuts it to what was appended; a crash leaves zeros after the last line, which a roll cuts with any torn line
/// (<see cref="CompleteLength"/>). Not thread-safe: the log's writer role is its only user.
/// </summary>
internal sealed class WalFile
{
    private readonly FileStream _file;
    private readonly MemoryMappedFile _map;
    private readonly MemoryMappedViewAccessor _view;

    private WalFile(FileStream file, MemoryMappedFile map, MemoryMappedViewAccessor view, long capacity)
    {
        (_file, _map, _view, Capacity) = (file, map, view, capacity);
    }

    /// <summary>The file's absolute path.</summary>
    public string Name => _file.Name;

    /// <summary>The bytes appended so far.</summary>
    public long Length { get; private set; }

    /// <summary>The bytes it can take.</summary>
    public long Capacity { get; }

    /// <summary>Creates the file (it must not exist) with <paramref name="capacity"/> bytes allocated on disk and mapped.</summary>
    public static WalFile Create(string path, long capacity)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(capacity);
        var file = new FileStream(path, new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.ReadWrite,
            Share = FileShare.Read,
            BufferSize = 0,
            PreallocationSize = capacity,
        });
        try
        {
            var map = MemoryMappedFile.CreateFromFile(file, mapName: null, capacity, MemoryMappedFileAccess.ReadWrite, HandleInheritability.None, leaveOpen: true);
            try
            {
                return new WalFile(file, map, map.CreateViewAccessor(0, capacity, MemoryMappedFileAccess.ReadWrite), capacity);
            }
            catch
            {
                map.Dispose();
                throw;
            }
        }
        catch
        {
            file.Dispose();
            File.Delete(path);
            throw;
        }
    }

    /// <summary>Appends <paramref name="bytes"/> when they fit in what is left (false otherwise, nothing appended).</summary>
    public bool TryAppend(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length > Capacity - Length)
        {
            return false;
        }

        _view.SafeMemoryMappedViewHandle.WriteSpan((ulong)(_view.PointerOffset + Length), bytes);
        Length += bytes.Length;
        return true;
    }

    /// <summary>Flushes the appended bytes to disk, cuts the file to them and closes it; an empty file is deleted. Returns whether it was kept.</summary>
    public bool Close()
    {
        var path = Name;
        try
        {
            _view.Flush();
        }
        finally
        {
            _view.Dispose();
            _map.Dispose();
            try
            {
                _file.SetLength(Length);
                _file.Flush(flushToDisk: true);
            }
            finally
            {
                _file.Dispose();
            }
        }

        if (Length == 0)
        {
            File.Delete(path);
            return false;
        }

        return true;
    }

    /// <summary>
    /// The length of <paramref name="stream"/> up to and including its last newline: what follows is a line torn by a
    /// crash mid-copy, or the zeros after the last line of a file a crash left mapped.
    /// </summary>
    public static long CompleteLength(FileStream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var block = new byte[64 * 1024];
        var end = stream.Length;
        while (end > 0)
        {
            var size = (int)Math.Min(block.Length, end);
            stream.Position = end - size;
            stream.ReadExactly(block, 0, size);
            var newline = block.AsSpan(0, size).LastIndexOf((byte)'\n');
            if (newline >= 0)
            {
                return end - size + newline + 1;
            }

            end -= size;
        }

        return 0;
    }
}
