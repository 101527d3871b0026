using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Gateway.Bench.Client;

namespace Gateway.Bench.Scenarios;

/// <summary>
/// Where the gateway's memory per idle connection goes: heap snapshots (dotnet-gcdump) before and
/// after opening the connections give the live managed heap per connection and the types that make
/// it up. Each snapshot forces a full garbage collection, so this runs apart from the RSS measurement.
/// </summary>
public static partial class HeapScenario
{
    /// <summary>Types listed in the results: the largest per connection.</summary>
    private const int ListedTypes = 15;

    public static async Task<Dictionary<string, double>> RunAsync(Uri url, int process, int connections, string gcdump, string dumpFolder)
    {
        var before = await SnapshotAsync(gcdump, process, Path.Combine(dumpFolder, "before.gcdump"));
        var sockets = await WebSocketConnector.ConnectManyAsync(url, connections, parallel: 64, CancellationToken.None);
        try
        {
            var message = new byte[64];
            await Task.WhenAll(sockets.Select(socket => WebSocketConnector.EchoOnceAsync(socket, message, new byte[64], CancellationToken.None)));
            var after = await SnapshotAsync(gcdump, process, Path.Combine(dumpFolder, "after.gcdump"));

            var metrics = new Dictionary<string, double>
            {
                ["liveHeapBytesPerConnection"] = (after.TotalBytes - before.TotalBytes) / (double)connections,
            };

            // Types with at least one object per two connections are the ones the connections hold;
            // the rest is the process's own state.
            var perConnection = after.Types
                .Select(type => (type.Name, Bytes: (type.Bytes - before.BytesOf(type.Name)) / (double)connections, Objects: (type.Count - before.CountOf(type.Name)) / (double)connections))
                .Where(type => type.Objects >= 0.5)
                .OrderByDescending(type => type.Bytes)
                .Take(ListedTypes);
            foreach (var type in perConnection)
            {
                metrics[$"bytes:{type.Name}"] = type.Bytes;
                metrics[$"objects:{type.Name}"] = type.Objects;
            }

            return metrics;
        }
        finally
        {
            await WebSocketConnector.CloseAllAsync(sockets);
        }
    }

    private static async Task<HeapSnapshot> SnapshotAsync(string gcdump, int process, string path)
    {
        await RunToolAsync(gcdump, $"collect -p {process} -o {path}");
        return HeapSnapshot.Parse(await RunToolAsync(gcdump, $"report {path}"));
    }

    private static async Task<string> RunToolAsync(string tool, string arguments)
    {
        using var child = Process.Start(new ProcessStartInfo(tool, arguments)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        }) ?? throw new InvalidOperationException($"{tool} did not start.");
        var output = await child.StandardOutput.ReadToEndAsync();
        var errors = await child.StandardError.ReadToEndAsync();
        await child.WaitForExitAsync();
        if (child.ExitCode != 0)
        {
            throw new InvalidOperationException($"{tool} {arguments} failed with exit code {child.ExitCode}: {errors}{output}");
        }

        return output;
    }

    /// <summary>The totals of one <c>dotnet-gcdump report</c>: heap bytes, and bytes and objects per type.</summary>
    private sealed record HeapSnapshot(long TotalBytes, List<(string Name, long Bytes, long Count)> Types)
    {
        public long BytesOf(string name) => Types.FirstOrDefault(type => type.Name == name).Bytes;

        public long CountOf(string name) => Types.FirstOrDefault(type => type.Name == name).Count;

        public static HeapSnapshot Parse(string report)
        {
            var total = TotalLine().Match(report);
            if (!total.Success)
            {
                throw new InvalidOperationException($"dotnet-gcdump report printed no 'GC Heap bytes' line:\n{report}");
            }

            // Each row gives a size, the object count and the type name. For a type the size is that of
            // one object. For an array size bucket such as "System.Byte[] (Bytes > 1K)" it follows the
            // largest array in the bucket, so the product is an upper bound there.
            var types = TypeLine().Matches(report)
                .Select(match => (
                    Name: Regex.Replace(match.Groups[3].Value.Trim(), @"\s+", " "),
                    Bytes: long.Parse(match.Groups[1].Value.Replace(",", ""), CultureInfo.InvariantCulture)
                        * long.Parse(match.Groups[2].Value.Replace(",", ""), CultureInfo.InvariantCulture),
                    Count: long.Parse(match.Groups[2].Value.Replace(",", ""), CultureInfo.InvariantCulture)))
                .ToList();
            return new HeapSnapshot(long.Parse(total.Groups[1].Value.Replace(",", ""), CultureInfo.InvariantCulture), types);
        }
    }

    [GeneratedRegex(@"^\s*([\d,]+)\s+GC Heap bytes", RegexOptions.Multiline)]
    private static partial Regex TotalLine();

    [GeneratedRegex(@"^\s*([\d,]+)\s+([\d,]+)\s+(\S.*)$", RegexOptions.Multiline)]
    private static partial Regex TypeLine();
}
