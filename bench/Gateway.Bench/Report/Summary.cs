using System.Text.Json;
using System.Text.Json.Serialization;
using Gateway.Bench.Results;

namespace Gateway.Bench.Report;

/// <summary>
/// The medians of one run: for each figure and contender, the median over the rounds that measured it.
/// Added latency is computed per round as the contender's percentile minus the direct connection's.
/// </summary>
public sealed class Summary
{
    public Dictionary<string, string> Machine { get; init; } = new();

    /// <summary>Median per "scenario/case/metric", then per contender.</summary>
    public Dictionary<string, Dictionary<string, double>> Medians { get; init; } = new();

    /// <summary>Rounds behind each median, keyed like <see cref="Medians"/>.</summary>
    public Dictionary<string, Dictionary<string, int>> Rounds { get; init; } = new();

    /// <summary>Cases that did not run, with the reason.</summary>
    public Dictionary<string, string> Skipped { get; init; } = new();

    /// <summary>The first error of each case that ran with failures, keyed by case, contender and round.</summary>
    public Dictionary<string, string> Errors { get; init; } = new();

    public static string Key(string scenario, string caseName, string metric) => $"{scenario}/{caseName}/{metric}";

    public double? Get(Figure figure, string contender) =>
        Medians.TryGetValue(Key(figure.Scenario, figure.Case, figure.Metric), out var byContender)
        && byContender.TryGetValue(contender, out var value) ? value : null;

    public static Summary FromRecords(IReadOnlyList<ResultRecord> records, Dictionary<string, string> machine)
    {
        var samples = new Dictionary<string, Dictionary<string, List<double>>>();
        void Add(string key, string contender, double value)
        {
            if (!samples.TryGetValue(key, out var byContender))
            {
                samples[key] = byContender = new Dictionary<string, List<double>>();
            }

            if (!byContender.TryGetValue(contender, out var values))
            {
                byContender[contender] = values = new List<double>();
            }

            values.Add(value);
        }

        var skipped = new Dictionary<string, string>();
        var errors = new Dictionary<string, string>();
        // Round 0 is the unrecorded warm-up; a record of it that reached the results file does not count.
        foreach (var record in records.Where(record => record.Round > 0))
        {
            if (record.Skipped is not null)
            {
                skipped[$"{record.Scenario} {record.Case} ({record.Contender})"] = record.Skipped;
                continue;
            }

            if (record.FirstError is not null)
            {
                errors[$"{record.Scenario} {record.Case} ({record.Contender}, round {record.Round})"] = record.FirstError;
            }

            foreach (var (metric, value) in record.Metrics)
            {
                Add(Key(record.Scenario, record.Case, metric), record.Contender, value);
            }

            if (record.Scenario == "latency" && record.Contender != "direct")
            {
                var direct = records.FirstOrDefault(other => other.Scenario == "latency" && other.Case == record.Case
                    && other.Contender == "direct" && other.Round == record.Round && other.Skipped is null);
                if (direct is not null)
                {
                    foreach (var (metric, added) in new[] { ("p50Us", "addedP50Us"), ("p99Us", "addedP99Us"), ("p999Us", "addedP999Us") })
                    {
                        Add(Key(record.Scenario, record.Case, added), record.Contender, record.Metrics[metric] - direct.Metrics[metric]);
                    }
                }
            }
        }

        return new Summary
        {
            Machine = machine,
            Medians = samples.ToDictionary(pair => pair.Key, pair => pair.Value.ToDictionary(inner => inner.Key, inner => Median(inner.Value))),
            Rounds = samples.ToDictionary(pair => pair.Key, pair => pair.Value.ToDictionary(inner => inner.Key, inner => inner.Value.Count)),
            Skipped = skipped,
            Errors = errors,
        };
    }

    private static readonly JsonSerializerOptions s_json = new()
    {
        WriteIndented = true,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public void Save(string path) => File.WriteAllText(path, JsonSerializer.Serialize(this, s_json));

    public static Summary Load(string path) => JsonSerializer.Deserialize<Summary>(File.ReadAllText(path), s_json)!;

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToArray();
        var middle = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
    }
}
