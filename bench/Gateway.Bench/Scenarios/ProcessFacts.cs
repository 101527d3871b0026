using System.Globalization;

namespace Gateway.Bench.Scenarios;

/// <summary>Facts about a running process read from /proc: resident memory and the open-file limit.</summary>
public static class ProcessFacts
{
    // Descriptors a proxy needs besides its connections: listeners, epoll, logs, the runtime's own.
    public const int DescriptorMargin = 200;

    /// <summary>Sums VmRSS over the processes, in KiB.</summary>
    public static long ResidentKiB(IEnumerable<int> processes) =>
        processes.Sum(process => ReadStatusKiB(process, "VmRSS:"));

    private static long ReadStatusKiB(int process, string field)
    {
        foreach (var line in File.ReadLines($"/proc/{process}/status"))
        {
            if (line.StartsWith(field, StringComparison.Ordinal))
            {
                return long.Parse(line[field.Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
            }
        }

        throw new InvalidOperationException($"/proc/{process}/status has no {field} line.");
    }

    /// <summary>Counts the descriptors a process ("self" for this one) has open now.</summary>
    public static int OpenDescriptors(string process) => Directory.GetFileSystemEntries($"/proc/{process}/fd").Length;

    /// <summary>Reads the soft limit on open files of a process ("self" for this one) from /proc.</summary>
    public static int SoftOpenFileLimit(string process)
    {
        foreach (var line in File.ReadLines($"/proc/{process}/limits"))
        {
            if (line.StartsWith("Max open files", StringComparison.Ordinal))
            {
                var soft = line["Max open files".Length..].Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries)[0];
                return soft == "unlimited" ? int.MaxValue : int.Parse(soft, CultureInfo.InvariantCulture);
            }
        }

        throw new InvalidOperationException($"/proc/{process}/limits has no 'Max open files' line.");
    }
}
