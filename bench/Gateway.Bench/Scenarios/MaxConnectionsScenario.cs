using System.Globalization;
using System.Net.WebSockets;
using Gateway.Bench.Client;

namespace Gateway.Bench.Scenarios;

/// <summary>
/// As many idle proxied connections as the open-file limits allow. The count is the proxy's soft limit
/// less a reserve, halved because each proxied connection takes two descriptors. The load generator's
/// and the echo upstream's limits, less their reserves, bound it too, because each of them takes one
/// descriptor per connection. A reserve is the descriptors the process has open before the case plus
/// <see cref="Headroom"/>, and at least <see cref="ProcessFacts.DescriptorMargin"/>. Every connection carries one echo. The scenario records how many opened,
/// how many failed with the first error, and the resident set per connection with an estimate for
/// 100,000 connections.
/// </summary>
public static class MaxConnectionsScenario
{
    // No new attempt starts after this many failures (those in flight still finish): by then the limit
    // has been found, and more attempts only add time.
    private const int MaxFailures = 100;

    private static readonly TimeSpan AttemptTimeout = TimeSpan.FromSeconds(30);

    // A .NET process keeps every loaded assembly open: the gateway had 223 descriptors open at start and
    // 235 after its first 1,000 connections, so a fixed margin of 200 ran it out of descriptors. The
    // gateway also keeps 256 descriptors for HTTP traffic (WebSocketCapacity.Reserve in Gateway.Host)
    // and rejects upgrades beyond that with 503, so every proxy is asked for what leaves the same room.
    private const int Headroom = 300;

    /// <summary>Computes the connection count from the processes' soft open-file limits, capped at <paramref name="atMost"/>.</summary>
    public static int CountConnections(IReadOnlyList<int> proxyProcesses, int upstreamProcess, int atMost)
    {
        // nginx spreads connections over its workers, but one worker may take most of them, so the
        // lowest limit of any proxy process sets the count.
        var proxyCount = proxyProcesses.Min(process => Available(process.ToString(CultureInfo.InvariantCulture)) / 2);
        var counts = new[]
        {
            proxyCount,
            Available(upstreamProcess.ToString(CultureInfo.InvariantCulture)),
            Available("self"),
            atMost,
        };
        return Math.Max(0, counts.Min());
    }

    /// <summary>Returns how many more descriptors a process ("self" for this one) may open while keeping its reserve.</summary>
    private static int Available(string process)
    {
        var reserve = Math.Max(ProcessFacts.DescriptorMargin, ProcessFacts.OpenDescriptors(process) + Headroom);
        return ProcessFacts.SoftOpenFileLimit(process) - reserve;
    }

    public static async Task<ScenarioResult> RunAsync(Uri url, IReadOnlyList<int> proxyProcesses, int connections, TimeSpan settle, TimeSpan timeout)
    {
        using var deadline = new CancellationTokenSource(timeout);
        var baseline = ProcessFacts.ResidentKiB(proxyProcesses);
        var descriptorsBefore = proxyProcesses.Max(process => ProcessFacts.OpenDescriptors(process.ToString(CultureInfo.InvariantCulture)));
        var attempts = new Attempts();
        var sockets = new ClientWebSocket?[connections];
        try
        {
            await OpenAllAsync(url, sockets, attempts, deadline.Token);
            var opened = sockets.OfType<ClientWebSocket>().ToArray();
            await Task.Delay(settle);
            var loaded = ProcessFacts.ResidentKiB(proxyProcesses);
            var perConnection = opened.Length == 0 ? double.NaN : (loaded - baseline) / (double)opened.Length;
            var metrics = new Dictionary<string, double>
            {
                ["target"] = connections,
                ["opened"] = opened.Length,
                ["failed"] = attempts.Failures,
                ["notAttempted"] = connections - attempts.Started,
                ["proxyDescriptorsBefore"] = descriptorsBefore,
                ["baselineKiB"] = baseline,
                ["loadedKiB"] = loaded,
                ["kibPerConnection"] = perConnection,
                ["extrapolatedMiB"] = (baseline + perConnection * IdleMemoryScenario.Extrapolated) / 1024.0,
            };
            return new ScenarioResult(metrics, attempts.FirstError);
        }
        finally
        {
            await WebSocketConnector.CloseAllAsync(sockets.OfType<ClientWebSocket>().ToArray());
        }
    }

    /// <summary>
    /// Opens the connections with 64 handshakes in flight, each followed by one echo. A connection that
    /// fails leaves its slot empty, and opening stops at the deadline or after <see cref="MaxFailures"/> failures.
    /// </summary>
    private static async Task OpenAllAsync(Uri url, ClientWebSocket?[] sockets, Attempts attempts, CancellationToken deadline)
    {
        var message = new byte[64];
        var next = -1;
        async Task OpenLoop()
        {
            var buffer = new byte[64];
            int index;
            while ((index = Interlocked.Increment(ref next)) < sockets.Length
                && !deadline.IsCancellationRequested && Volatile.Read(ref attempts.Failures) < MaxFailures)
            {
                Interlocked.Increment(ref attempts.Started);
                using var attempt = CancellationTokenSource.CreateLinkedTokenSource(deadline);
                attempt.CancelAfter(AttemptTimeout);
                ClientWebSocket? socket = null;
                try
                {
                    socket = await WebSocketConnector.ConnectAsync(url, attempt.Token);
                    await WebSocketConnector.EchoOnceAsync(socket, message, buffer, attempt.Token);
                    sockets[index] = socket;
                }
                catch (Exception error) when (error is WebSocketException or HttpRequestException or IOException or OperationCanceledException)
                {
                    socket?.Dispose();
                    attempts.Fail(index, error);
                }
            }
        }

        await Task.WhenAll(Enumerable.Range(0, Math.Min(64, sockets.Length)).Select(_ => OpenLoop()));
    }

    /// <summary>Counts of attempted and failed connections, with the first failure.</summary>
    private sealed class Attempts
    {
        public int Started;
        public int Failures;
        private string? _firstError;

        public string? FirstError => Volatile.Read(ref _firstError);

        public void Fail(int index, Exception error)
        {
            Interlocked.Increment(ref Failures);
            var text = error.InnerException is null
                ? $"connection {index + 1}: {error.GetType().Name}: {error.Message}"
                : $"connection {index + 1}: {error.GetType().Name}: {error.Message} ({error.InnerException.Message})";
            Interlocked.CompareExchange(ref _firstError, text, null);
        }
    }
}
