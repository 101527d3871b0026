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
      idle-memory   --connections N --pids PID,PID... --settle SECONDS
      http          --connections N --threads N              (runs wrk)
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
    string caseName;
    Dictionary<string, double>? metrics = null;
    string? skipped = null;
    switch (command)
    {
        case "throughput":
            var connections = options.Integer("connections");
            var size = options.Integer("size");
            caseName = Figure.ThroughputCase(connections, size);
            metrics = await ThroughputScenario.RunAsync(options.Url(), connections, size, warmup, duration);
            break;
        case "latency":
            caseName = Figure.LatencyCase;
            metrics = await LatencyScenario.RunAsync(options.Url(), options.Integer("connections"), options.Integer("rate"),
                options.Integer("size", 64), warmup, duration);
            break;
        case "connect-rate":
            caseName = Figure.ConnectCase;
            metrics = await ConnectRateScenario.RunAsync(options.Url(), options.Integer("workers"), warmup, duration);
            break;
        case "idle-memory":
            var idle = options.Integer("connections");
            var pids = options.Text("pids").Split(',').Select(int.Parse).ToArray();
            caseName = Figure.IdleCase(idle);
            skipped = IdleMemoryScenario.CheckDescriptorLimits(pids, idle);
            if (skipped is null)
            {
                metrics = await IdleMemoryScenario.RunAsync(options.Url(), pids, idle, options.Seconds("settle", 3));
            }
            else
            {
                Console.Error.WriteLine($"Skipping idle-memory with {idle} connections: {skipped}.");
            }

            break;
        case "http":
            caseName = Figure.HttpCase;
            metrics = await HttpScenario.RunAsync(options.Url(), options.Integer("connections"), options.Integer("threads", 2), duration);
            break;
        default:
            Console.Error.WriteLine($"Unknown command '{command}'.");
            Console.Error.WriteLine(Usage);
            return 2;
    }

    new ResultRecord(command, caseName, options.Text("contender"), options.Integer("round", 1), metrics ?? new(), skipped)
        .AppendTo(options.Text("out"));
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
