using System.Net.WebSockets;
using Gateway.Bench.Client;

namespace Gateway.Bench.Scenarios;

/// <summary>
/// A client that stops reading while its upstream floods: the connections go to the echo upstream's
/// <c>/flood</c> path, which sends 16 KiB messages as fast as it can once the client has sent one
/// message, and the client reads nothing for the whole window. The proxy's resident set is read with
/// the connections open and idle, then once a second during the flood. The peak growth over the idle
/// reading, divided by the connections, is the memory that a stalled client costs the proxy. The growth
/// over the second half of the window shows whether that memory is bounded: buffers fill within the
/// first second, and a proxy that kept reading its upstream would go on growing.
/// </summary>
public static class FloodScenario
{
    private static readonly TimeSpan SampleInterval = TimeSpan.FromSeconds(1);

    // An echo returns one message for the one sent, but a flood has far more than this waiting.
    private const int FloodProofMessages = 16;

    public static async Task<Dictionary<string, double>> RunAsync(Uri url, IReadOnlyList<int> proxyProcesses, int connections, TimeSpan window)
    {
        var baseline = ProcessFacts.ResidentKiB(proxyProcesses);
        var sockets = await WebSocketConnector.ConnectManyAsync(url, connections, parallel: connections, CancellationToken.None);
        try
        {
            await Task.Delay(SampleInterval);
            var idle = ProcessFacts.ResidentKiB(proxyProcesses);
            await Task.WhenAll(sockets.Select(socket => socket.SendAsync(new byte[64], WebSocketMessageType.Binary, endOfMessage: true, CancellationToken.None)));

            var peak = idle;
            var last = idle;
            var halfway = idle;
            var samples = Math.Max(2, (int)Math.Ceiling(window / SampleInterval));
            for (var sample = 0; sample < samples; sample++)
            {
                await Task.Delay(SampleInterval);
                last = ProcessFacts.ResidentKiB(proxyProcesses);
                peak = Math.Max(peak, last);
                if (sample == (samples - 1) / 2)
                {
                    halfway = last;
                }
            }

            // Without this check, a flood that never started would pass as a proxy that buffers nothing.
            var flooded = await CountFloodedAsync(sockets);
            if (flooded == 0)
            {
                throw new InvalidOperationException(
                    $"No connection to {url} had {FloodProofMessages} messages waiting after {window.TotalSeconds} s, so the upstream did not flood; is it the echo upstream with its /flood path?");
            }

            return new Dictionary<string, double>
            {
                ["baselineKiB"] = baseline,
                ["idleKiB"] = idle,
                ["peakKiB"] = peak,
                ["finalKiB"] = last,
                ["peakGrowthMiB"] = (peak - idle) / 1024.0,
                ["kibPerConnection"] = (peak - idle) / (double)connections,
                ["lateGrowthKiBPerConnection"] = Math.Max(0, last - halfway) / (double)connections,
                ["floodedConnections"] = flooded,
            };
        }
        finally
        {
            await WebSocketConnector.CloseAllAsync(sockets, abortAfterCloseFrame: true);
        }
    }

    /// <summary>Counts the connections on which <see cref="FloodProofMessages"/> messages arrive within a few seconds.</summary>
    private static async Task<int> CountFloodedAsync(IReadOnlyList<ClientWebSocket> sockets)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        var received = await Task.WhenAll(sockets.Select(async socket =>
        {
            try
            {
                var buffer = new byte[64 * 1024];
                for (var message = 0; message < FloodProofMessages; message++)
                {
                    await WebSocketConnector.ReceiveMessageAsync(socket, buffer, timeout.Token);
                }

                return true;
            }
            catch (Exception error) when (error is WebSocketException or OperationCanceledException)
            {
                return false;
            }
        }));
        return received.Count(flooded => flooded);
    }
}
