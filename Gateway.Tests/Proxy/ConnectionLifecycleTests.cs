using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text.Json;
using Gateway.Tests.Support;

namespace Gateway.Tests.Proxy;

/// <summary>How the gateway ends a connection when one side goes away, and that nothing outlives it.</summary>
public sealed class ConnectionLifecycleTests
{
    private static readonly byte[] ClientMask = { 1, 2, 3, 4 };

    [Fact]
    public async Task ClientVanishes_UpstreamGets1001AndPairStops()
    {
        await using var upstream = RawUpstream.Start();
        await using var gateway = await TestGateway.StartWithApiAsync(upstream.WsUri());
        using var cancellation = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var accepting = upstream.AcceptUpgradeAsync(cancellationToken: cancellation.Token);
        var (client, clientStream, _) = await RawWebSocket.ConnectAsync(gateway.ClientEndpoint, "/echo/", cancellationToken: cancellation.Token);
        using var accepted = await accepting;
        await clientStream.WriteAsync(RawWebSocket.Frame(0x1, "last words"u8, mask: ClientMask), cancellation.Token);
        await RawWebSocket.ReadFrameAsync(accepted.Stream, cancellation.Token);

        var vanished = DateTime.UtcNow;
        client.Client.Close(0);
        var close = await RawWebSocket.ReadFrameAsync(accepted.Stream, cancellation.Token);
        var rest = await RawWebSocket.ReadExactlyOrEndAsync(accepted.Stream, 1, cancellation.Token);
        var closedAfter = DateTime.UtcNow - vanished;

        Assert.Equal(0x88, close.First);
        Assert.Equal(1001, (close.Payload[0] << 8) | close.Payload[1]);
        Assert.Empty(rest);
        Assert.True(closedAfter < TimeSpan.FromSeconds(1), $"the upstream was closed {closedAfter.TotalMilliseconds} ms after the client vanished");
        await WaitForNoConnectionActorsAsync(gateway, cancellation.Token);
    }

    [Fact]
    public async Task UpstreamDropsMidStream_ClientGets1011()
    {
        await using var upstream = RawUpstream.Start();
        await using var gateway = await TestGateway.StartWithApiAsync(upstream.WsUri());
        using var cancellation = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var accepting = upstream.AcceptUpgradeAsync(cancellationToken: cancellation.Token);
        using var client = new ClientWebSocket();
        await client.ConnectAsync(gateway.WsUri("/echo/"), cancellation.Token);
        var accepted = await accepting;
        await accepted.Stream.WriteAsync(RawWebSocket.Frame(0x1, "before the drop"u8), cancellation.Token);
        var buffer = new byte[1024];
        await client.ReceiveAsync(buffer, cancellation.Token);

        var dropped = DateTime.UtcNow;
        accepted.Client.Client.Close(0);
        var result = await client.ReceiveAsync(buffer, cancellation.Token);
        var closedAfter = DateTime.UtcNow - dropped;

        Assert.Equal(WebSocketMessageType.Close, result.MessageType);
        Assert.Equal(WebSocketCloseStatus.InternalServerError, client.CloseStatus);
        Assert.True(closedAfter < TimeSpan.FromSeconds(1), $"the client was closed {closedAfter.TotalMilliseconds} ms after the upstream dropped");
        await WaitForNoConnectionActorsAsync(gateway, cancellation.Token);
    }

    [Fact]
    public async Task ThousandConnections_LeaveNoActorsBehind()
    {
        await using var upstream = await TestUpstream.StartEchoAsync();
        await using var gateway = await TestGateway.StartWithApiAsync(upstream.WsUri());
        using var cancellation = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        const int total = 1000;
        const int concurrent = 50;

        for (var batch = 0; batch < total / concurrent; batch++)
        {
            await Task.WhenAll(Enumerable.Range(0, concurrent).Select(async i =>
            {
                using var client = new ClientWebSocket();
                await client.ConnectAsync(gateway.WsUri("/echo/"), cancellation.Token);
                await WebSocketEchoTests.SendAndReceiveAsync(client, "ping"u8.ToArray(), WebSocketMessageType.Text, cancellation.Token);
                if (i % 2 == 0)
                {
                    await client.CloseAsync(WebSocketCloseStatus.NormalClosure, "", cancellation.Token);
                }
                else
                {
                    client.Abort();
                }
            }));
        }

        await WaitForNoConnectionActorsAsync(gateway, cancellation.Token);
    }

    /// <summary>Polls the admin status until the API has no live connections and no connection actors.</summary>
    internal static async Task WaitForNoConnectionActorsAsync(TestGateway gateway, CancellationToken cancellationToken)
    {
        using var http = new HttpClient();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(5);
        JsonElement api;
        do
        {
            var status = await http.GetFromJsonAsync<JsonElement>(gateway.AdminUri("/admin/status"), cancellationToken);
            api = status.GetProperty("apis")[0];
            if (api.GetProperty("liveConnections").GetInt32() == 0 && api.GetProperty("connectionActors").GetInt32() == 0)
            {
                return;
            }

            await Task.Delay(50, cancellationToken);
        }
        while (DateTime.UtcNow < deadline);

        Assert.Fail($"connection actors still alive 5 s after the connections ended: {api}");
    }
}
