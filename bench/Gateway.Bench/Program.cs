using System.Globalization;
using System.Net.WebSockets;
using System.Text.Json;
using Gateway.Bench;
using Gateway.Bench.Report;
using Gateway.Bench.Results;
using Gateway.Bench.Scenarios;

const string Usage = """
    Load generator and report writer for bench/run.sh. Each scenario command runs one case against one
    contender and appends one JSON line to --out.

    Common options: --url URL --contender NAME --round N --out FILE --warmup SECONDS --duration SECONDS
      throughput    --connections N --size BYTES
      latency       --connections N --rate MESSAGES_PER_SECOND --size BYTES
      connect-rate  --workers N
      idle-memory   --connections N --pids PID,PID... --settle SECONDS [--start-kib KIB]
      flood         --connections N --pids PID,PID... --duration SECONDS    (the URL ends in /flood)
      max-connections --pids PID,PID... --upstream-pid PID --settle SECONDS --timeout SECONDS [--at-most N]
                    (as many idle connections as the open-file limits of the proxy, the upstream and
                    the load generator allow)
      http          --connections N --threads N              (runs wrk)
      heap          --connections N --pid PID --gcdump TOOL --dumps DIR   (heap snapshots of a .NET proxy)
      report        --results FILE --machine FILE --page FILE --chart FILE --baselines DIR --summary FILE
    """;

if (args.Length == 0 || args[0] is "--help" or "-h")
{
    Console.WriteLine(Usage);
    return args.Length == 0 ? 2 : 0;
}

var command = args[0];
var options = new Options(args[1..]);
try
{
    if (command == "report")
    {
        WriteReport(options);
        return 0;
    }

    var warmup = options.Seconds("warmup", 1);
    var duration = options.Seconds("duration", 5);
    var caseName = command switch
    {
        "throughput" => Figure.ThroughputCase(options.Integer("connections"), options.Integer("size")),
        "latency" => Figure.LatencyCase,
        "connect-rate" => Figure.ConnectCase,
        "idle-memory" => Figure.IdleCase(options.Integer("connections")),
        "flood" => Figure.FloodCase(options.Integer("connections")),
        "max-connections" => Figure.MaxConnectionsCase,
        "http" => Figure.HttpCase,
        "heap" => Figure.HeapCase(options.Integer("connections")),
        _ => null,
    };
    if (caseName is null)
    {
        Console.Error.WriteLine($"Unknown command '{command}'.");
        Console.Error.WriteLine(Usage);
        return 2;
    }

    var record = new ResultRecord(command, caseName, options.Text("contender"), options.Integer("round", 1), new());
    var output = options.Text("out");
    try
    {
        var result = await RunScenarioAsync(command, options, warmup, duration);
        record = record with { Metrics = result.Metrics, FirstError = result.FirstError };
    }
    catch (SkippedException skipped)
    {
        Console.Error.WriteLine($"Skipping {command} {caseName} against {record.Contender}: {skipped.Message}.");
        record = record with { Skipped = skipped.Message };
    }
    catch (Exception error) when (error is WebSocketException or HttpRequestException or IOException or InvalidOperationException)
    {
        // A case that fails against a contender is recorded with the error, and the run goes on with the next case.
        Console.Error.WriteLine($"{command} {caseName} against {record.Contender} failed: {error}");
        record = record with { Skipped = $"failed with {error.GetType().Name}: {error.Message}" };
    }

    record.AppendTo(output);
    return 0;
}
catch (ArgumentException error)
{
    Console.Error.WriteLine(error.Message);
    Console.Error.WriteLine(Usage);
    return 2;
}

static void WriteReport(Options options)
{
    var machine = JsonSerializer.Deserialize<Dictionary<string, string>>(File.ReadAllText(options.Text("machine")))!;
    var summary = Summary.FromRecords(ResultRecord.ReadAll(options.Text("results")), machine);
    summary.Save(options.Text("summary"));

    var baselineFolder = options.Text("baselines", "");
    var baselines = baselineFolder.Length > 0 && Directory.Exists(baselineFolder)
        ? Directory.GetFiles(baselineFolder, "*.json").Order(StringComparer.Ordinal)
            .Select(file => (Path.GetFileNameWithoutExtension(file), Summary.Load(file)))
            .ToList()
        : [];

    var page = options.Text("page");
    var chart = options.Text("chart");
    var chartLink = Path.GetRelativePath(Path.GetDirectoryName(Path.GetFullPath(page))!, Path.GetFullPath(chart));
    File.WriteAllText(page, ReportWriter.Write(summary, baselines, chartLink));
    ChartWriter.Write(summary, chart);
    Console.WriteLine($"Wrote {page} and {chart}.");
}

static async Task<ScenarioResult> RunScenarioAsync(string command, Options options, TimeSpan warmup, TimeSpan duration)
{
    int[] Pids() => options.Text("pids").Split(',').Select(int.Parse).ToArray();
    switch (command)
    {
        case "throughput":
            return new(await ThroughputScenario.RunAsync(options.Url(), options.Integer("connections"), options.Integer("size"), warmup, duration));
        case "latency":
            return new(await LatencyScenario.RunAsync(options.Url(), options.Integer("connections"), options.Integer("rate"),
                options.Integer("size", 64), warmup, duration));
        case "connect-rate":
            return new(await ConnectRateScenario.RunAsync(options.Url(), options.Integer("workers"), warmup, duration));
        case "idle-memory":
            var connections = options.Integer("connections");
            var pids = Pids();
            var problem = IdleMemoryScenario.CheckDescriptorLimits(pids, connections);
            if (problem is not null)
            {
                throw new SkippedException(problem);
            }

            var start = options.Text("start-kib", "");
            long? startKiB = start.Length == 0 ? null : long.Parse(start, CultureInfo.InvariantCulture);
            return new(await IdleMemoryScenario.RunAsync(options.Url(), pids, connections, options.Seconds("settle", 3), startKiB));
        case "flood":
            return new(await FloodScenario.RunAsync(options.Url(), Pids(), options.Integer("connections"), duration));
        case "max-connections":
            var proxyPids = Pids();
            var count = MaxConnectionsScenario.CountConnections(proxyPids, options.Integer("upstream-pid"), options.Integer("at-most", int.MaxValue));
            if (count == 0)
            {
                throw new SkippedException("the open-file limits leave room for no connection");
            }

            Console.Error.WriteLine($"Opening {count} idle connections to {options.Url()}.");
            return await MaxConnectionsScenario.RunAsync(options.Url(), proxyPids, count, options.Seconds("settle", 3), options.Seconds("timeout", 600));
        case "heap":
            return new(await HeapScenario.RunAsync(options.Url(), options.Integer("pid"), options.Integer("connections"),
                options.Text("gcdump"), options.Text("dumps")));
        default:
            return new(await HttpScenario.RunAsync(options.Url(), options.Integer("connections"), options.Integer("threads", 2), duration));
    }
}

/// <summary>A case that cannot run here, with the reason.</summary>
internal sealed class SkippedException(string reason) : Exception(reason);
