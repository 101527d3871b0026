using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace Gateway.Bench.Scenarios;

/// <summary>HTTP requests per second for a small GET, measured by wrk with keep-alive connections.</summary>
public static partial class HttpScenario
{
    public static async Task<Dictionary<string, double>> RunAsync(Uri url, int connections, int threads, TimeSpan duration)
    {
        var arguments = $"-t{threads} -c{connections} -d{(int)Math.Ceiling(duration.TotalSeconds)}s --latency {url}";
        using var process = Process.Start(new ProcessStartInfo("wrk", arguments)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        }) ?? throw new InvalidOperationException("wrk did not start.");
        var output = await process.StandardOutput.ReadToEndAsync();
        var errors = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"wrk {arguments} failed with exit code {process.ExitCode}: {errors}{output}");
        }

        var requests = RequestsPerSecond().Match(output);
        if (!requests.Success)
        {
            throw new InvalidOperationException($"wrk printed no 'Requests/sec' line:\n{output}");
        }

        var metrics = new Dictionary<string, double>
        {
            ["requestsPerSecond"] = double.Parse(requests.Groups[1].Value, CultureInfo.InvariantCulture),
            ["p50Us"] = Percentile(output, "50%"),
            ["p99Us"] = Percentile(output, "99%"),
        };

        // wrk reports failed and non-2xx responses on lines of their own; a run with any is not a result.
        var errorsLine = SocketErrors().Match(output);
        var non2xx = Non2xx().Match(output);
        metrics["errors"] = (non2xx.Success ? double.Parse(non2xx.Groups[1].Value, CultureInfo.InvariantCulture) : 0)
            + (errorsLine.Success ? errorsLine.Groups.Cast<Group>().Skip(1).Sum(group => double.Parse(group.Value, CultureInfo.InvariantCulture)) : 0);
        return metrics;
    }

    private static double Percentile(string output, string label)
    {
        var match = Regex.Match(output, $@"^\s*{Regex.Escape(label)}\s+([\d.]+)(us|ms|s)\s*$", RegexOptions.Multiline);
        if (!match.Success)
        {
            return double.NaN;
        }

        var value = double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
        return match.Groups[2].Value switch
        {
            "us" => value,
            "ms" => value * 1000,
            _ => value * 1_000_000,
        };
    }

    [GeneratedRegex(@"Requests/sec:\s+([\d.]+)")]
    private static partial Regex RequestsPerSecond();

    [GeneratedRegex(@"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")]
    private static partial Regex SocketErrors();

    [GeneratedRegex(@"Non-2xx or 3xx responses: (\d+)")]
    private static partial Regex Non2xx();
}
