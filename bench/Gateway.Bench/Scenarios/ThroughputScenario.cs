using System.Diagnostics;
using System.Net.WebSockets;
using Gateway.Bench.Client;

namespace Gateway.Bench.Scenarios;

/// <summary>
/// Echo throughput: every connection sends one message, waits for its echo and sends the next (one
/// message in flight per connection), and the scenario counts the echoes completed in the window.
/// </summary>
public static class ThroughputScenario
{
    public static async Task<Dictionary<string, double>> RunAsync(Uri url, int connections, int size, TimeSpan warmup, TimeSpan duration)
    {
        var sockets = await WebSocketConnector.ConnectManyAsync(url, connections, parallel: 64, CancellationToken.None);
        var message = new byte[size];
        Random.Shared.NextBytes(message);
        var echoes = new long[connections];
        var failures = 0;
        using var stop = new CancellationTokenSource();

        async Task EchoLoop(int index)
        {
            var socket = sockets[index];
            var buffer = new byte[size];
            try
            {
                while (!stop.IsCancellationRequested)
                {
                    await socket.SendAsync(message, WebSocketMessageType.Binary, endOfMessage: true, CancellationToken.None);
                    await WebSocketConnector.ReceiveMessageAsync(socket, buffer, CancellationToken.None);
                    Volatile.Write(ref echoes[index], echoes[index] + 1);
                }
            }
            catch (Exception error) when (error is WebSocketException or IOException)
            {
                Interlocked.Increment(ref failures);
            }
        }

        var loops = Enumerable.Range(0, connections).Select(index => Task.Run(() => EchoLoop(index))).ToArray();
        await Task.Delay(warmup);
        var startCount = Sum(echoes);
        var clock = Stopwatch.StartNew();
        await Task.Delay(duration);
        var endCount = Sum(echoes);
        var seconds = clock.Elapsed.TotalSeconds;
        stop.Cancel();
        await Task.WhenAll(loops);
        await WebSocketConnector.CloseAllAsync(sockets);

        var perSecond = (endCount - startCount) / seconds;
        return new Dictionary<string, double>
        {
            ["messagesPerSecond"] = perSecond,
            ["mibPerSecond"] = perSecond * size / (1024.0 * 1024.0),
            ["failedConnections"] = failures,
        };
    }

    private static long Sum(long[] counts)
    {
        long total = 0;
        for (var i = 0; i < counts.Length; i++)
        {
            total += Volatile.Read(ref counts[i]);
        }

        return total;
    }
}
