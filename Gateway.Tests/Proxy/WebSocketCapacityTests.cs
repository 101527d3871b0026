using System.Net.WebSockets;
using Gateway.Host.Hosting;
using Gateway.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests.Proxy;

/// <summary>The gateway-wide limit on concurrent WebSocket connections, which keeps the process within its open-file limit.</summary>
public sealed class WebSocketCapacityTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task OverCapacity_Gets503UntilOneCloses()
    {
        await using var upstream = await TestUpstream.StartEchoAsync();
        await using var gateway = await TestGateway.StartWithApiAsync(upstream.WsUri(), gatewayExtra: "max-websocket-connections = 2");
        using var cancellation = new CancellationTokenSource(Timeout);
        using var first = new ClientWebSocket();
        using var second = new ClientWebSocket();
        await first.ConnectAsync(gateway.WsUri("/echo/"), cancellation.Token);
        await second.ConnectAsync(gateway.WsUri("/echo/"), cancellation.Token);

        var error = await HandshakeTests.ErrorOfUpgradeAsync(gateway, "/echo/", cancellation.Token);

        Assert.Equal(503, error.Status);
        Assert.Contains("limit of 2 concurrent WebSocket connections", error.Message);

        // The place is given back once the first connection's request ends on the gateway.
        await first.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", cancellation.Token);
        var capacity = gateway.App.Services.GetRequiredService<WebSocketCapacity>();
        while (capacity.Live > 1)
        {
            await Task.Delay(20, cancellation.Token);
        }

        using var third = new ClientWebSocket();
        await third.ConnectAsync(gateway.WsUri("/echo/"), cancellation.Token);
        Assert.Equal(WebSocketState.Open, third.State);
        Assert.Equal(2, capacity.Live);
    }

    [Fact]
    public async Task AutoCapacity_FollowsOpenFileLimit()
    {
        await using var upstream = await TestUpstream.StartEchoAsync();
        await using var gateway = await TestGateway.StartWithApiAsync(upstream.WsUri());

        var capacity = gateway.App.Services.GetRequiredService<WebSocketCapacity>();

        // The test process shares one open-file limit with the gateway it hosts.
        Assert.NotNull(capacity.FileLimit);
        Assert.InRange(capacity.Limit, 1, (capacity.FileLimit!.Value - WebSocketCapacity.Reserve) / 2);
    }
}
