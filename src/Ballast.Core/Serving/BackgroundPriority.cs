using System.Runtime.InteropServices;

namespace Ballast.Serving;

/// <summary>
/// Lowers the scheduling priority of the calling thread for CPU-heavy background work that runs beside request
/// serving (the prediction log's conversion of write-ahead files to Parquet, its compaction): the kernel then gives
/// request threads the CPU first, and the background work takes what is left, so it adds little queueing to requests.
/// On Linux the thread gets nice <see cref="Nice"/>: a share of a busy core (about a tenth beside a thread at nice 0),
/// but a thread that wakes may wait for it to finish its time slice, milliseconds. Asked for <c>idle</c>, it gets the
/// <c>SCHED_IDLE</c> policy instead: it runs only when no other thread wants its core, and a request thread that wakes
/// takes the core from it at once (half-load p99 on one core 3.1-3.2 against 3.8-4.1 ms, bench/results/serving.md),
/// but on a core kept busy it gets next to nothing. .NET's <see cref="Thread.Priority"/> does nothing on Linux;
/// elsewhere this is a no-op. Threads the lowered thread starts do not inherit the policy (.NET starts its threads as
/// <c>SCHED_OTHER</c>) but would inherit a nice value, so the idle policy leaves the nice value alone.
/// </summary>
public static class BackgroundPriority
{
    /// <summary>The nice value background threads run at (0 is normal, 19 the lowest), and idle ones where <c>SCHED_IDLE</c> cannot be set.</summary>
    public const int Nice = 10;

    /// <summary>Linux's <c>SCHED_IDLE</c> scheduling policy.</summary>
    public const int IdlePolicy = 5;

    /// <summary>Lowers the calling thread (only it: on Linux a policy and a nice value are per thread); true if it took effect.</summary>
    public static bool LowerCurrentThread(bool idle = false)
    {
        if (!OperatingSystem.IsLinux())
        {
            return false;
        }

        try
        {
            var thread = GetThreadId();
            var parameters = default(SchedulingParameters);
            // Only ever lower: a thread already at a lower priority keeps it (raising it needs privileges).
            return (idle && SetScheduler(thread, IdlePolicy, ref parameters) == 0)
                || CurrentThreadNice() >= Nice
                || SetPriority(ProcessWho, thread, Nice) == 0;
        }
        catch (Exception exception) when (exception is DllNotFoundException or EntryPointNotFoundException or IOException or FormatException)
        {
            return false;
        }
    }

    /// <summary>The calling thread's nice value on Linux (null elsewhere), for tests.</summary>
    public static int? CurrentThreadNice() => StatField(16);

    /// <summary>The calling thread's scheduling policy on Linux (0 is <c>SCHED_OTHER</c>; null elsewhere), for tests.</summary>
    public static int? CurrentThreadPolicy() => StatField(38);

    // A field of /proc/self/task/TID/stat, counted from 0 after the command name in parentheses (state is 0).
    private static int? StatField(int index)
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }

        var fields = File.ReadAllText($"/proc/self/task/{GetThreadId()}/stat");
        var rest = fields[(fields.LastIndexOf(')') + 2)..].Split(' ');
        return int.Parse(rest[index], System.Globalization.CultureInfo.InvariantCulture);
    }

    private const int ProcessWho = 0; // PRIO_PROCESS: with a thread id, that thread alone

    [StructLayout(LayoutKind.Sequential)]
    private struct SchedulingParameters
    {
        public int Priority;
    }

    [DllImport("libc", EntryPoint = "sched_setscheduler")]
    private static extern int SetScheduler(int thread, int policy, ref SchedulingParameters parameters);

    [DllImport("libc", EntryPoint = "setpriority")]
    private static extern int SetPriority(int which, int who, int priority);

    [DllImport("libc", EntryPoint = "gettid")]
    private static extern int GetThreadId();
}
