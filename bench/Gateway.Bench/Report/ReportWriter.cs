using System.Globalization;
using System.Text;

namespace Gateway.Bench.Report;

/// <summary>Writes the results page in Markdown from a run's summary and the recorded baselines.</summary>
public static class ReportWriter
{
    public static readonly string[] Contenders = ["direct", "gateway", "nginx", "yarp"];

    // Memory that keeps growing while a client does not read means the proxy keeps reading its
    // upstream. Bounded buffers fill within the flood's first second, so the second half of the window
    // may show only noise: at most one 16 KiB pump buffer's worth per connection (Pump.DefaultBufferSize).
    private const double FloodBudgetKiB = 16;

    public static string Write(Summary summary, IReadOnlyList<(string Label, Summary Summary)> baselines, string chartFile)
    {
        var page = new StringBuilder();
        var machine = summary.Machine;
        string Fact(string key) => machine.TryGetValue(key, out var value) ? value : "unknown";

        page.AppendLine("# Benchmarks");
        page.AppendLine();
        page.AppendLine("The gateway, nginx, a minimal YARP proxy and a direct connection, side by side on one machine in one run of");
        page.AppendLine("`bench/run.sh`. This page is generated from the run's JSON results by");
        page.AppendLine("`bench/Gateway.Bench report`; rerun the script to regenerate it.");
        page.AppendLine();

        page.AppendLine("## Machine and versions");
        page.AppendLine();
        page.AppendLine($"- CPU: {Fact("cpu")}, {Fact("nproc")} cores; memory {Fact("memory")}");
        page.AppendLine($"- Kernel {Fact("kernel")}; .NET SDK {Fact("dotnet")}; {Fact("nginx")}; YARP {Fact("yarp")}; {Fact("wrk")}");
        page.AppendLine($"- Gateway commit {Fact("commit")}; run {Fact("date")} ({Fact("mode")} mode, {Fact("rounds")} rounds)");
        page.AppendLine($"- Load average (1, 5, 15 min): {Fact("load")}. A figure above the core count means");
        page.AppendLine("  other work shared the cores during the run, and every figure is noisier for it.");
        page.AppendLine();

        page.AppendLine("## Method");
        page.AppendLine();
        page.AppendLine("Every contender proxies to the same upstream: the gateway's own echo server");
        page.AppendLine("(`Gateway.Host echo`, Release build). *Direct* connects the load generator to it;");
        page.AppendLine("*gateway* is `Gateway.Host` (Release) with `bench/gateway-bench.conf`; *nginx* runs");
        page.AppendLine("the WebSocket proxy configuration from its documentation (`proxy_http_version 1.1`,");
        page.AppendLine("`Upgrade` and `Connection` headers, keep-alive to the upstream) with one worker per");
        page.AppendLine("core. *yarp* is `bench/YarpProxy`: an empty ASP.NET Core application on Kestrel whose only");
        page.AppendLine("route sends everything under `/echo/` to the upstream with YARP's defaults, which proxy");
        page.AppendLine("WebSocket upgrades; it uses the gateway's garbage collector settings (workstation,");
        page.AppendLine("concurrent). All three proxies log only warnings. The load generator (`bench/Gateway.Bench`,");
        page.AppendLine("`ClientWebSocket`, HdrHistogram) runs on the same machine, so every figure includes");
        page.AppendLine("the generator and the upstream competing for the same cores. All traffic is on loopback.");
        page.AppendLine("Before the first round every contender runs each kind of case once, unrecorded, so");
        page.AppendLine("that the .NET processes are measured after tiered compilation has settled. Each round");
        page.AppendLine("then runs every case against direct, gateway, nginx and yarp in turn, and the table gives");
        page.AppendLine("the median over the rounds.");
        page.AppendLine();
        page.AppendLine($"- **Echo throughput**: {Fact("throughput")}. Each connection keeps one message in flight:");
        page.AppendLine("  it sends, waits for the whole echo and sends again. MiB/s counts echoed payload, one way.");
        page.AppendLine($"- **Latency**: {Fact("latency")}. Open-loop: a clock schedules the sends round-robin");
        page.AppendLine("  over the connections, each message carries its intended send time, and latency runs from");
        page.AppendLine("  that time to the echo, so a stall counts against every message due during it. *Added*");
        page.AppendLine("  latency is the contender's percentile minus the direct connection's in the same round.");
        page.AppendLine($"- **New connections**: {Fact("connect")}. A connection counts when its first echo");
        page.AppendLine("  has come back; each is then closed with a close handshake.");
        page.AppendLine($"- **Idle memory**: {Fact("memory-method")}. The proxy's resident set (VmRSS, summed over");
        page.AppendLine("  nginx's workers and master) is read before and after opening the connections; each");
        page.AppendLine("  connection carries one echo and then stays idle. The 100,000 figure is an estimate:");
        page.AppendLine("  baseline plus 100,000 times the growth per connection at 8,000.");
        page.AppendLine($"- **HTTP**: {Fact("http")}.");
        page.AppendLine($"- **Flood**: {Fact("flood")}. The echo upstream's `/flood` path sends 16 KiB binary");
        page.AppendLine("  messages as fast as the connection takes them from the client's first message on, and the");
        page.AppendLine("  client reads nothing more. The proxy's resident set is read with the connections open and");
        page.AppendLine("  idle, then once a second; the figure is the peak growth over the idle reading. With few");
        page.AppendLine("  connections, 1 MiB of unrelated growth (a garbage collection, the JIT) moves the figure per");
        page.AppendLine("  connection by 1 MiB divided by the connection count.");
        page.AppendLine($"- **Open-file limit**: {Fact("max-connections")}. Each connection carries one echo and then");
        page.AppendLine("  stays idle; a failed connection is counted and the rest go on. The 100,000 figure is an");
        page.AppendLine("  estimate: baseline plus 100,000 times the growth per connection.");
        page.AppendLine();
        page.AppendLine("When the load average is above the core count, each process waits for a core, and");
        page.AppendLine("latency percentiles above the median mostly measure those waits: they can change tenfold");
        page.AppendLine("between rounds of one run. Trust the medians and the ratios of one run more than the tails.");
        page.AppendLine();

        page.AppendLine("## Results");
        page.AppendLine();
        page.AppendLine("| Figure | direct | gateway | nginx | yarp | gateway/nginx | gateway/yarp | gateway/direct |");
        page.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var figure in Figure.All)
        {
            var values = Contenders.Select(contender => summary.Get(figure, contender)).ToArray();
            if (values.All(value => value is null))
            {
                continue;
            }

            var cells = values.Select(value => value is null ? "–"
                : figure.Unit == "conn" ? $"{Count(value.Value)} conn"
                : $"{Format(value.Value)} {figure.Unit}");
            page.AppendLine($"| {figure.Label} | {string.Join(" | ", cells)} | {Ratio(values[1], values[2])} | {Ratio(values[1], values[3])} | {Ratio(values[1], values[0])} |");
        }

        page.AppendLine();
        page.AppendLine($"![Throughput and latency per contender]({chartFile})");
        page.AppendLine();

        if (summary.Skipped.Count > 0)
        {
            page.AppendLine("Cases that did not run:");
            page.AppendLine();
            foreach (var (caseName, reason) in summary.Skipped)
            {
                page.AppendLine($"- {caseName}: {reason}.");
            }

            page.AppendLine();
        }

        if (summary.Errors.Count > 0)
        {
            page.AppendLine("First error of each case that counted failures:");
            page.AppendLine();
            foreach (var (caseName, error) in summary.Errors)
            {
                page.AppendLine($"- {caseName}: {error}");
            }

            page.AppendLine();
        }

        WriteBudgets(page, summary);
        WriteHeapBreakdown(page, summary);
        WriteBeforeAndAfter(page, summary, baselines);
        return page.ToString();
    }

    private static void WriteBudgets(StringBuilder page, Summary summary)
    {
        page.AppendLine("## Budgets");
        page.AppendLine();
        page.AppendLine("| Budget | Gateway | Limit | Met |");
        page.AppendLine("|---|---:|---:|:---:|");
        void Row(string label, string scenario, string caseName, string metric, Func<double, double, bool> met, Func<double, string> limit, string unit)
        {
            var figure = Figure.All.First(f => f.Scenario == scenario && f.Case == caseName && f.Metric == metric);
            var gateway = summary.Get(figure, "gateway");
            var nginx = summary.Get(figure, "nginx") ?? double.NaN;
            if (gateway is null)
            {
                page.AppendLine($"| {label} | not measured | | |");
                return;
            }

            page.AppendLine($"| {label} | {Format(gateway.Value)} {unit} | {limit(nginx)} | {(met(gateway.Value, nginx) ? "yes" : "no")} |");
        }

        Row("Echo throughput, 64 conn, 64 B: at least nginx's", "throughput", Figure.ThroughputCase(64, 64), "messagesPerSecond",
            (g, n) => g >= n, n => $"{Format(n)} msg/s", "msg/s");
        Row("Echo throughput, 64 conn, 16 KiB: at least nginx's", "throughput", Figure.ThroughputCase(64, 16384), "messagesPerSecond",
            (g, n) => g >= n, n => $"{Format(n)} msg/s", "msg/s");
        Row("Added p99 latency: at most nginx's", "latency", Figure.LatencyCase, "addedP99Us",
            (g, n) => g <= n, n => $"{Format(n)} µs", "µs");
        Row("New connections/s: at least 0.8 of nginx's", "connect-rate", Figure.ConnectCase, "connectionsPerSecond",
            (g, n) => g >= 0.8 * n, n => $"{Format(0.8 * n)} conn/s", "conn/s");
        Row("Memory per idle connection at 8,000: at most 16 KiB", "idle-memory", Figure.IdleCase(8000), "kibPerConnection",
            (g, _) => g <= 16, _ => "16 KiB", "KiB");
        Row("HTTP requests/s: at least 0.8 of nginx's", "http", Figure.HttpCase, "requestsPerSecond",
            (g, n) => g >= 0.8 * n, n => $"{Format(0.8 * n)} req/s", "req/s");
        Row($"Flood into a client that stopped reading: memory stops growing (second half of the window, at most {FloodBudgetKiB} KiB per connection)", "flood",
            Figure.FloodCase(Figure.FloodConnections), "lateGrowthKiBPerConnection", (g, _) => g <= FloodBudgetKiB, _ => $"{FloodBudgetKiB} KiB", "KiB");
        WriteFileLimitBudget(page, summary);
        page.AppendLine();
    }

    /// <summary>Writes the row of the budget "as many connections as the open-file limit allows, with no error".</summary>
    private static void WriteFileLimitBudget(StringBuilder page, Summary summary)
    {
        const string Label = "Connections up to the open-file limit, with no error";
        double? Metric(string name) =>
            summary.Medians.TryGetValue(Summary.Key("max-connections", Figure.MaxConnectionsCase, name), out var byContender)
            && byContender.TryGetValue("gateway", out var value) ? value : null;
        var (target, opened, failed) = (Metric("target"), Metric("opened"), Metric("failed"));
        if (target is null || opened is null || failed is null)
        {
            page.AppendLine($"| {Label} | not measured | | |");
            return;
        }

        var met = failed.Value == 0 && opened.Value >= target.Value;
        page.AppendLine($"| {Label} | {Count(opened.Value)} opened, {Count(failed.Value)} failed | {Count(target.Value)} conn | {(met ? "yes" : "no")} |");
    }

    private static void WriteHeapBreakdown(StringBuilder page, Summary summary)
    {
        var prefix = "heap/";
        var total = summary.Medians.FirstOrDefault(pair => pair.Key.StartsWith(prefix, StringComparison.Ordinal) && pair.Key.EndsWith("/liveHeapBytesPerConnection", StringComparison.Ordinal));
        if (total.Key is null || !total.Value.TryGetValue("gateway", out var liveHeap))
        {
            return;
        }

        var caseName = total.Key.Split('/')[1];
        page.AppendLine("## Where the gateway's idle memory goes");
        page.AppendLine();
        page.AppendLine($"Heap snapshots (dotnet-gcdump) of the gateway before and after opening {caseName.Replace("conn", "", StringComparison.Ordinal)} idle");
        page.AppendLine($"connections: the live managed heap grows by {Format(liveHeap / 1024)} KiB per connection. The types with");
        page.AppendLine("at least one object per two connections, largest first:");
        page.AppendLine();
        page.AppendLine("| Type | bytes per connection | objects per connection |");
        page.AppendLine("|---|---:|---:|");
        var bytesPrefix = $"{prefix}{caseName}/bytes:";
        var rows = summary.Medians
            .Where(pair => pair.Key.StartsWith(bytesPrefix, StringComparison.Ordinal) && pair.Value.ContainsKey("gateway"))
            .Select(pair => (Type: pair.Key[bytesPrefix.Length..], Bytes: pair.Value["gateway"]))
            .OrderByDescending(row => row.Bytes)
            .ToList();
        foreach (var (type, bytes) in rows)
        {
            var objects = summary.Medians.TryGetValue($"{prefix}{caseName}/objects:{type}", out var counts) ? counts["gateway"] : double.NaN;
            var bound = type.Contains("(Bytes >", StringComparison.Ordinal) ? "at most " : "";
            page.AppendLine($"| `{type.Replace("|", "\\|", StringComparison.Ordinal)}` | {bound}{Format(bytes)} | {Format(objects)} |");
        }

        page.AppendLine();
        page.AppendLine("A row named \"(Bytes > 1K)\" or similar is a size bucket of arrays, for which dotnet-gcdump");
        page.AppendLine("reports a size that follows the largest array in the bucket, so its bytes are an upper bound.");
        page.AppendLine();
    }

    private static void WriteBeforeAndAfter(StringBuilder page, Summary summary, IReadOnlyList<(string Label, Summary Summary)> baselines)
    {
        page.AppendLine("## Before and after");
        page.AppendLine();
        if (baselines.Count == 0)
        {
            page.AppendLine("No baseline is recorded yet under `bench/baselines/`.");
            page.AppendLine();
            return;
        }

        page.AppendLine("Gateway figures from the summaries recorded under `bench/baselines/` (each the");
        page.AppendLine("`summary.json` of a full run, named after the commit it measured) and from this run.");
        page.AppendLine("Brackets give the ratio gateway/nginx measured in the same run, which is steadier");
        page.AppendLine("between runs than the raw figure.");
        page.AppendLine();
        var columns = baselines.Append(("this run", summary)).ToList();
        page.AppendLine($"| Figure | {string.Join(" | ", columns.Select(column => column.Item1))} |");
        page.AppendLine($"|---|{string.Concat(columns.Select(_ => "---:|"))}");
        var tracked = new[]
        {
            ("throughput", Figure.ThroughputCase(64, 64), "messagesPerSecond"),
            ("throughput", Figure.ThroughputCase(64, 16384), "mibPerSecond"),
            ("throughput", Figure.ThroughputCase(1024, 64), "messagesPerSecond"),
            ("latency", Figure.LatencyCase, "addedP99Us"),
            ("connect-rate", Figure.ConnectCase, "connectionsPerSecond"),
            ("idle-memory", Figure.IdleCase(8000), "kibPerConnection"),
            ("http", Figure.HttpCase, "requestsPerSecond"),
        };
        foreach (var (scenario, caseName, metric) in tracked)
        {
            var figure = Figure.All.First(f => f.Scenario == scenario && f.Case == caseName && f.Metric == metric);
            var cells = columns.Select(column =>
            {
                var gateway = column.Item2.Get(figure, "gateway");
                var nginx = column.Item2.Get(figure, "nginx");
                return gateway is null ? "–" : $"{Format(gateway.Value)} {figure.Unit} ({Ratio(gateway, nginx)})";
            });
            page.AppendLine($"| {figure.Label} | {string.Join(" | ", cells)} |");
        }

        page.AppendLine();
    }

    private static string Ratio(double? numerator, double? denominator) =>
        numerator is null || denominator is null || denominator.Value == 0
            ? "–"
            : (numerator.Value / denominator.Value).ToString("0.00", CultureInfo.InvariantCulture);

    private static string Count(double value) => value.ToString("N0", CultureInfo.InvariantCulture);

    public static string Format(double value) =>
        Math.Abs(value) >= 100 ? value.ToString("N0", CultureInfo.InvariantCulture)
        : Math.Abs(value) >= 10 ? value.ToString("0.0", CultureInfo.InvariantCulture)
        : value.ToString("0.00", CultureInfo.InvariantCulture);
}
