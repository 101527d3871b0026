using System.Diagnostics;
using System.Net.WebSockets;
using Gateway.Bench.Client;
using HdrHistogram;

namespace Gateway.Bench.Scenarios;

/// <summary>
/// New connections per second: each worker opens a WebSocket, sends one 64-byte message, waits for its
/// echo and closes with a close handshake, again and again. A connection counts once its echo arrived.
/// </summary>
public static class ConnectRateScenario
{
    public static async Task<Dictionary<string, double>> RunAsync(Uri url, int workers, TimeSpan warmup, TimeSpan duration)
    {
        var message = new byte[64];
        Random.Shared.NextBytes(message);
        var histograms = Enumerable.Range(0, workers).Select(_ => new LongHistogram(TimeStamp.Seconds(60), 3)).ToArray();
        var completed = new long[workers];
        var failures = 0L;
        var start = Stopwatch.GetTimestamp();
        var measureStart = start + (long)(warmup.TotalSeconds * Stopwatch.Frequency);
        var end = measureStart + (long)(duration.TotalSeconds * Stopwatch.Frequency);

        async Task Worker(int index)
        {
            var buffer = new byte[message.Length];
            while (true)
            {
                var began = Stopwatch.GetTimestamp();
                if (began >= end)
                {
                    return;
                }

                try
                {
                    using var socket = await WebSocketConnector.ConnectAsync(url, CancellationToken.None);
                    await WebSocketConnector.EchoOnceAsync(socket, message, buffer, CancellationToken.None);
                    var echoed = Stopwatch.GetTimestamp();
                    if (began >= measureStart && echoed < end)
                    {
                        completed[index]++;
                        histograms[index].RecordValue(echoed - began);
                    }

                    await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
                }
                catch (Exception error) when (error is WebSocketException or IOException or HttpRequestException)
                {
                    Interlocked.Increment(ref failures);
                }
            }
        }

        await Task.WhenAll(Enumerable.Range(0, workers).Select(index => Task.Run(() => Worker(index))));

        var merged = new LongHistogram(TimeStamp.Seconds(60), 3);
        foreach (var histogram in histograms)
        {
            merged.Add(histogram);
        }

        // HdrHistogram rejects percentile queries on an empty histogram, which a window without a single
        // completed echo leaves.
        double Microseconds(double percentile) =>
            merged.TotalCount == 0 ? double.NaN : merged.GetValueAtPercentile(percentile) * 1e6 / Stopwatch.Frequency;
        return new Dictionary<string, double>
        {
            ["connectionsPerSecond"] = completed.Sum() / duration.TotalSeconds,
            ["p50Us"] = Microseconds(50),
            ["p99Us"] = Microseconds(99),
            ["failures"] = failures,
        };
    }
}
