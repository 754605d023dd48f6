using System.Runtime.InteropServices;

namespace Ballast.Serving;

/// <summary>
/// Lowers the scheduling priority of the calling thread for CPU-heavy background work that runs beside request
/// serving (the prediction log's conversion of write-ahead files to Parquet): on a busy machine the kernel then gives
/// request threads the CPU first, and the background work takes what is left, so it adds no queueing to requests.
/// .NET's <see cref="Thread.Priority"/> does nothing on Linux; a thread's nice value does. Elsewhere this is a no-op.
/// </summary>
public static class BackgroundPriority
{
    /// <summary>The nice value background threads run at (0 is normal, 19 the lowest).</summary>
    public const int Nice = 10;

    /// <summary>Lowers the calling thread (only it: on Linux a nice value is per thread); true if it took effect.</summary>
    public static bool LowerCurrentThread()
    {
        if (!OperatingSystem.IsLinux())
        {
            return false;
        }

        try
        {
            // Only ever lower: a process already started at a lower priority keeps it (raising it needs privileges).
            return CurrentThreadNice() >= Nice || SetPriority(ProcessWho, GetThreadId(), Nice) == 0;
        }
        catch (Exception exception) when (exception is DllNotFoundException or EntryPointNotFoundException or IOException or FormatException)
        {
            return false;
        }
    }

    /// <summary>The calling thread's nice value on Linux (null elsewhere), for tests.</summary>
    public static int? CurrentThreadNice()
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }

        var fields = File.ReadAllText($"/proc/self/task/{GetThreadId()}/stat");
        // After the command name in parentheses: state is field 3, nice is field 19.
        var rest = fields[(fields.LastIndexOf(')') + 2)..].Split(' ');
        return int.Parse(rest[16], System.Globalization.CultureInfo.InvariantCulture);
    }

    private const int ProcessWho = 0; // PRIO_PROCESS: with a thread id, that thread alone

    [DllImport("libc", EntryPoint = "setpriority")]
    private static extern int SetPriority(int which, int who, int priority);

    [DllImport("libc", EntryPoint = "gettid")]
    private static extern int GetThreadId();
}
