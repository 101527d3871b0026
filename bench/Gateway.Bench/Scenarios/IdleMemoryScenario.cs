using System.Globalization;
using Gateway.Bench.Client;

namespace Gateway.Bench.Scenarios;

/// <summary>
/// Memory per idle proxied connection: the resident set of the proxy's processes is read before and
/// after opening the connections (each carries one echo, then stays idle), and the growth is divided
/// by the number of connections.
/// </summary>
/// <remarks>
/// The growth is counted from the resident set before the first idle case when the caller gives it.
/// A .NET process keeps the heap that an earlier case's connections used, so a second case measured
/// from its own start would get that memory for free (17 KiB instead of 21 KiB per connection).
/// </remarks>
public static class IdleMemoryScenario
{
    public const int Extrapolated = 100_000;

    /// <summary>Returns why the case cannot run within the file-descriptor limits, or null when it can.</summary>
    public static string? CheckDescriptorLimits(IReadOnlyList<int> proxyProcesses, int connections)
    {
        var own = ProcessFacts.SoftOpenFileLimit("self");
        if (connections + ProcessFacts.DescriptorMargin > own)
        {
            return $"the load generator may open {own} files and {connections} connections need about {connections + ProcessFacts.DescriptorMargin}";
        }

        // nginx spreads connections over its workers, but one worker may take most of them, so each
        // process is checked for the whole count.
        foreach (var process in proxyProcesses)
        {
            var limit = ProcessFacts.SoftOpenFileLimit(process.ToString(CultureInfo.InvariantCulture));
            if (2 * connections + ProcessFacts.DescriptorMargin > limit)
            {
                return $"process {process} may open {limit} files and {connections} proxied connections need about {2 * connections + ProcessFacts.DescriptorMargin} (two each)";
            }
        }

        return null;
    }

    /// <param name="startKiB">The proxy's resident set before the first idle case; null measures from now.</param>
    public static async Task<Dictionary<string, double>> RunAsync(Uri url, IReadOnlyList<int> proxyProcesses, int connections, TimeSpan settle, long? startKiB = null)
    {
        var caseStart = ProcessFacts.ResidentKiB(proxyProcesses);
        var baseline = startKiB ?? caseStart;
        var sockets = await WebSocketConnector.ConnectManyAsync(url, connections, parallel: 64, CancellationToken.None);
        try
        {
            var message = new byte[64];
            await Task.WhenAll(sockets.Select(socket => WebSocketConnector.EchoOnceAsync(socket, message, new byte[64], CancellationToken.None)));
            await Task.Delay(settle);
            var loaded = ProcessFacts.ResidentKiB(proxyProcesses);
            var perConnection = (loaded - baseline) / (double)connections;
            return new Dictionary<string, double>
            {
                ["baselineKiB"] = baseline,
                ["caseStartKiB"] = caseStart,
                ["loadedKiB"] = loaded,
                ["kibPerConnection"] = perConnection,
                ["extrapolatedMiB"] = (baseline + perConnection * Extrapolated) / 1024.0,
            };
        }
        finally
        {
            await WebSocketConnector.CloseAllAsync(sockets);
        }
    }
}
