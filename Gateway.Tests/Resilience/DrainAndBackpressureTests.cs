using System.Diagnostics;
using System.Net.WebSockets;
using Gateway.Tests.Support;

namespace Gateway.Tests.Resilience;

public sealed class DrainAndBackpressureTests
{
    [Fact]
    public async Task Shutdown_Sends1001ToEveryConnectionWithinDrainTime()
    {
        await using var upstream = await TestUpstream.StartEchoAsync();
        var gateway = await TestGateway.StartWithApiAsync(upstream.WsUri());
        using var cancellation = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var clients = new List<ClientWebSocket>();
        for (var i = 0; i < 100; i++)
        {
            var client = new ClientWebSocket();
            await client.ConnectAsync(gateway.WsUri("/echo/"), cancellation.Token);
            clients.Add(client);
        }

        var closes = clients.Select(async client =>
        {
            var result = await client.ReceiveAsync(new byte[64], cancellation.Token);
            return (result.MessageType, client.CloseStatus);
        }).ToArray();
        var stopwatch = Stopwatch.StartNew();
        await gateway.DisposeAsync();
        stopwatch.Stop();
        var received = await Task.WhenAll(closes);

        Assert.All(received, close =>
        {
            Assert.Equal(WebSocketMessageType.Close, close.MessageType);
            Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, close.CloseStatus);
        });
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(3), $"shutdown took {stopwatch.Elapsed.TotalSeconds:0.0} s, over the 3 s drain time");
        foreach (var client in clients)
        {
            client.Dispose();
        }
    }

    [Fact]
    public async Task StalledClient_StallsFloodingUpstreamWithinBoundedMemory()
    {
        await using var upstream = RawUpstream.Start();
        await using var gateway = await TestGateway.StartWithApiAsync(upstream.WsUri());
        using var cancellation = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        using var tunnel = await upstream.OpenThroughAsync(gateway, "/echo/", cancellationToken: cancellation.Token);
        var accepted = tunnel.Upstream;
        var frame = RawWebSocket.Frame(0x2, new byte[64 * 1024]);
        const long flood = 1L << 30;
        GC.Collect();
        var heapBefore = GC.GetTotalMemory(forceFullCollection: true);

        // The upstream writes until 1 GiB is out or a write stays blocked for 2 s, which is the stall.
        long written = 0;
        while (written < flood)
        {
            using var stall = CancellationTokenSource.CreateLinkedTokenSource(cancellation.Token);
            stall.CancelAfter(TimeSpan.FromSeconds(2));
            try
            {
                await accepted.Stream.WriteAsync(frame, stall.Token);
            }
            catch (OperationCanceledException) when (!cancellation.IsCancellationRequested)
            {
                break;
            }

            written += frame.Length;
        }

        var heapAfter = GC.GetTotalMemory(forceFullCollection: true);

        Assert.True(written < 64L * 1024 * 1024, $"the upstream wrote {written >> 20} MiB before stalling: the gateway is buffering");
        Assert.True(heapAfter - heapBefore < 16L * 1024 * 1024,
            $"the managed heap grew by {(heapAfter - heapBefore) >> 20} MiB while the client was not reading");
    }
}
