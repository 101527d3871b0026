namespace Gateway.Bench.Report;

/// <summary>One row of the results table: which measurement it reads, its unit and which way is better.</summary>
public sealed record Figure(string Label, string Scenario, string Case, string Metric, string Unit, bool HigherIsBetter)
{
    public static IReadOnlyList<Figure> All { get; } = Build();

    private static List<Figure> Build()
    {
        var figures = new List<Figure>();
        foreach (var connections in new[] { 1, 64, 1024 })
        {
            foreach (var (size, sizeLabel) in new[] { (64, "64 B"), (16384, "16 KiB") })
            {
                var caseName = ThroughputCase(connections, size);
                figures.Add(new($"Echo, {connections:N0} conn, {sizeLabel}: messages/s", "throughput", caseName, "messagesPerSecond", "msg/s", true));
                figures.Add(new($"Echo, {connections:N0} conn, {sizeLabel}: MiB/s", "throughput", caseName, "mibPerSecond", "MiB/s", true));
            }
        }

        figures.Add(new("Latency p50 at a fixed rate", "latency", LatencyCase, "p50Us", "µs", false));
        figures.Add(new("Latency p99 at a fixed rate", "latency", LatencyCase, "p99Us", "µs", false));
        figures.Add(new("Latency p99.9 at a fixed rate", "latency", LatencyCase, "p999Us", "µs", false));
        figures.Add(new("Added latency p50 (over direct)", "latency", LatencyCase, "addedP50Us", "µs", false));
        figures.Add(new("Added latency p99 (over direct)", "latency", LatencyCase, "addedP99Us", "µs", false));
        figures.Add(new("Added latency p99.9 (over direct)", "latency", LatencyCase, "addedP999Us", "µs", false));
        figures.Add(new("New connections/s (handshake to first echo)", "connect-rate", ConnectCase, "connectionsPerSecond", "conn/s", true));
        figures.Add(new("Handshake to first echo p99", "connect-rate", ConnectCase, "p99Us", "µs", false));
        foreach (var connections in new[] { 1000, 8000 })
        {
            figures.Add(new($"Memory per idle connection, {connections:N0} conn", "idle-memory", IdleCase(connections), "kibPerConnection", "KiB", false));
        }

        figures.Add(new("Memory at 100,000 idle conn (estimate from 8,000)", "idle-memory", IdleCase(8000), "extrapolatedMiB", "MiB", false));
        figures.Add(new("HTTP small GET: requests/s", "http", HttpCase, "requestsPerSecond", "req/s", true));
        figures.Add(new("HTTP small GET: p99", "http", HttpCase, "p99Us", "µs", false));

        var flood = FloodCase(FloodConnections);
        figures.Add(new($"Flood, {FloodConnections} conn not reading: peak growth per conn", "flood", flood, "kibPerConnection", "KiB", false));
        figures.Add(new($"Flood, {FloodConnections} conn not reading: peak growth", "flood", flood, "peakGrowthMiB", "MiB", false));
        figures.Add(new($"Flood, {FloodConnections} conn not reading: growth per conn in the second half", "flood", flood, "lateGrowthKiBPerConnection", "KiB", false));
        figures.Add(new("Conn at the open-file limit: attempted", "max-connections", MaxConnectionsCase, "target", "conn", true));
        figures.Add(new("Conn at the open-file limit: opened", "max-connections", MaxConnectionsCase, "opened", "conn", true));
        figures.Add(new("Conn at the open-file limit: failed", "max-connections", MaxConnectionsCase, "failed", "conn", false));
        figures.Add(new("Memory per idle conn at the open-file limit", "max-connections", MaxConnectionsCase, "kibPerConnection", "KiB", false));
        figures.Add(new("Memory at 100,000 idle conn (estimate from the open-file limit)", "max-connections", MaxConnectionsCase, "extrapolatedMiB", "MiB", false));
        return figures;
    }

    public const string LatencyCase = "fixed-rate";
    public const string ConnectCase = "open-echo-close";
    public const string HttpCase = "small-get";
    public const string MaxConnectionsCase = "file-limit";

    /// <summary>Connections of the flood case that bench/run.sh runs; the table shows that case only.</summary>
    public const int FloodConnections = 64;

    public static string ThroughputCase(int connections, int size) => $"{connections}conn-{size}B";

    public static string IdleCase(int connections) => $"{connections}conn";

    public static string FloodCase(int connections) => $"{connections}conn";

    public static string HeapCase(int connections) => $"{connections}conn";
}
