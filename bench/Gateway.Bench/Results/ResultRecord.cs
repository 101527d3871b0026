using System.Text.Json;
using System.Text.Json.Serialization;

namespace Gateway.Bench.Results;

/// <summary>
/// One measurement: a scenario case run against one contender in one round, with its figures.
/// The harness appends one record per line (JSON Lines) to the run's results file. <c>FirstError</c>
/// is the first failure of a case that counts failures and goes on, such as max-connections.
/// </summary>
public sealed record ResultRecord(
    string Scenario,
    string Case,
    string Contender,
    int Round,
    Dictionary<string, double> Metrics,
    string? Skipped = null,
    string? FirstError = null)
{
    private static readonly JsonSerializerOptions s_json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,

        // A percentile of a window without samples is NaN.
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public static JsonSerializerOptions Json => s_json;

    public void AppendTo(string path)
    {
        var line = JsonSerializer.Serialize(this, s_json);
        File.AppendAllText(path, line + Environment.NewLine);
        Console.WriteLine(line);
    }

    public static List<ResultRecord> ReadAll(string path) =>
        File.ReadLines(path)
            .Where(line => line.Length > 0)
            .Select(line => JsonSerializer.Deserialize<ResultRecord>(line, s_json)!)
            .ToList();
}
