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
}
