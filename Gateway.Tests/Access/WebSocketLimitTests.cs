using System.Diagnostics;
using System.Net.WebSockets;
using System.Text;
using Gateway.Tests.Proxy;
using Gateway.Tests.Support;
using Xunit.Abstractions;

namespace Gateway.Tests.Access;

[Collection(TimingCollection.Name)]
public sealed class WebSocketLimitTests
{
    private readonly ITestOutputHelper _output;

    public WebSocketLimitTests(ITestOutputHelper output)
    {
        _output = output;
    }

    [Fact]
    public async Task MaxMessageSize_ClosesSenderWith1009()
    {
        await using var upstream = await TestUpstream.StartEchoAsync();
        await using var gateway = await TestGateway.StartWithApiAsync(upstream.WsUri(), apiExtra: "websocket-limits { max-message-size = 1KiB }");
        using var cancellation = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        using var client = new ClientWebSocket();
        await client.ConnectAsync(gateway.WsUri("/echo/"), cancellation.Token);

        var small = await WebSocketEchoTests.SendAndReceiveAsync(client, new byte[1024], WebSocketMessageType.Binary, cancellation.Token);
        await client.SendAsync(new byte[2048], WebSocketMessageType.Binary, endOfMessage: true, cancellation.Token);
        var result = await client.ReceiveAsync(new byte[4096], cancellation.Token);

        Assert.Equal(1024, small.Payload.Length);
        Assert.Equal(WebSocketMessageType.Close, result.MessageType);
        Assert.Equal(WebSocketCloseStatus.MessageTooBig, client.CloseStatus);
    }

    [Fact]
    public async Task MessagesPerSecond_HoldsRateWithoutDisconnect()
    {
        const int rate = 100;
        var window = TimeSpan.FromSeconds(5);
        var arrivals = new System.Collections.Concurrent.ConcurrentQueue<TimeSpan>();
        var upstreamClock = Stopwatch.StartNew();
        await using var upstream = await TestUpstream.StartAsync(async context =>
        {
            // Records when each message reaches the upstream, which is what the gateway forwarded.
            using var socket = await context.WebSockets.AcceptWebSocketAsync();
            var buffer = new byte[1024];
            try
            {
                while (true)
                {
                    var received = await socket.ReceiveAsync(buffer, CancellationToken.None);
                    if (received.MessageType == WebSocketMessageType.Close)
                    {
                        return;
                    }

                    if (received.EndOfMessage)
                    {
                        arrivals.Enqueue(upstreamClock.Elapsed);
                    }
                }
            }
            catch (WebSocketException)
            {
            }
        });
        await using var gateway = await TestGateway.StartWithApiAsync(upstream.WsUri(), apiExtra: $"websocket-limits {{ messages-per-second = {rate} }}");
        using var cancellation = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        using var client = new ClientWebSocket();
        await client.ConnectAsync(gateway.WsUri("/echo/"), cancellation.Token);
        var closeFromGateway = client.ReceiveAsync(new byte[256], cancellation.Token);

        // The client sends four times what the limit lets through in the window, as fast as it can.
        var payload = Encoding.UTF8.GetBytes("tick");
        for (var i = 0; i < rate * window.TotalSeconds * 4; i++)
        {
            await client.SendAsync(payload, WebSocketMessageType.Text, endOfMessage: true, cancellation.Token);
        }

        while (arrivals.IsEmpty || upstreamClock.Elapsed < arrivals.First() + window + TimeSpan.FromMilliseconds(200))
        {
            await Task.Delay(100, cancellation.Token);
        }

        var first = arrivals.First();
        var passed = arrivals.Count(arrival => arrival - first < window);
        var expected = rate * window.TotalSeconds;
        _output.WriteLine($"messages-per-second {rate}: {passed} messages reached the upstream in {window.TotalSeconds} s");

        Assert.InRange(passed, expected * 0.9, expected * 1.1);
        Assert.False(closeFromGateway.IsCompleted, "the gateway closed the connection");
        Assert.Equal(WebSocketState.Open, client.State);
    }

    [Fact]
    public async Task MessagesPerSecond_KeepsConnectionOpen()
    {
        await using var upstream = await TestUpstream.StartEchoAsync();
        await using var gateway = await TestGateway.StartWithApiAsync(upstream.WsUri(), apiExtra: "websocket-limits { messages-per-second = 20 }");
        using var cancellation = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        using var client = new ClientWebSocket();
        await client.ConnectAsync(gateway.WsUri("/echo/"), cancellation.Token);

        var burst = Enumerable.Range(0, 40).Select(i => $"m{i}").ToArray();
        foreach (var message in burst)
        {
            await client.SendAsync(Encoding.UTF8.GetBytes(message), WebSocketMessageType.Text, endOfMessage: true, cancellation.Token);
        }

        var clock = Stopwatch.StartNew();
        var echoed = new List<string>();
        var buffer = new byte[64];
        while (echoed.Count < burst.Length)
        {
            var result = await client.ReceiveAsync(buffer, cancellation.Token);
            echoed.Add(Encoding.UTF8.GetString(buffer, 0, result.Count));
        }

        Assert.Equal(burst, echoed);
        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(1.4), TimeSpan.FromSeconds(4));
        Assert.Equal(WebSocketState.Open, client.State);
    }

    [Fact]
    public async Task DeletedKey_ClosesLiveConnectionWith1008()
    {
        await using var upstream = await TestUpstream.StartEchoAsync();
        await using var gateway = await TestGateway.StartWithApiAsync(upstream.WsUri(), apiExtra: "auth { mode = token }", gatewayExtra: AdminClient.SecretConfig);
        using var admin = new AdminClient(gateway);
        var (id, key) = await admin.CreateKeyAsync("{}");
        var (_, otherKey) = await admin.CreateKeyAsync("{}");
        using var cancellation = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        using var client = new ClientWebSocket();
        client.Options.SetRequestHeader("Authorization", key);
        using var bystander = new ClientWebSocket();
        bystander.Options.SetRequestHeader("Authorization", otherKey);
        await client.ConnectAsync(gateway.WsUri("/echo/"), cancellation.Token);
        await bystander.ConnectAsync(gateway.WsUri("/echo/"), cancellation.Token);

        var clock = Stopwatch.StartNew();
        using var deleted = await admin.Http.DeleteAsync($"/admin/keys/{id}");
        var result = await client.ReceiveAsync(new byte[1024], cancellation.Token);
        var closedAfter = clock.Elapsed;
        var stillEchoing = await WebSocketEchoTests.SendAndReceiveAsync(bystander, Encoding.UTF8.GetBytes("ping"), WebSocketMessageType.Text, cancellation.Token);

        Assert.Equal(System.Net.HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.Equal(WebSocketMessageType.Close, result.MessageType);
        Assert.Equal(WebSocketCloseStatus.PolicyViolation, client.CloseStatus);
        Assert.True(closedAfter < TimeSpan.FromSeconds(1), $"the connection closed {closedAfter.TotalMilliseconds:0} ms after the delete");
        Assert.Equal("ping", Encoding.UTF8.GetString(stillEchoing.Payload));
    }

    [Fact]
    public async Task ExpiredKey_ClosesLiveConnectionWith1008()
    {
        await using var upstream = await TestUpstream.StartEchoAsync();
        await using var gateway = await TestGateway.StartWithApiAsync(upstream.WsUri(), apiExtra: "auth { mode = token }", gatewayExtra: AdminClient.SecretConfig);
        using var admin = new AdminClient(gateway);
        var expires = DateTimeOffset.UtcNow.AddSeconds(2);
        var (_, key) = await admin.CreateKeyAsync($$"""{"expires": "{{expires:O}}"}""");
        using var cancellation = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        using var client = new ClientWebSocket();
        client.Options.SetRequestHeader("Authorization", key);
        await client.ConnectAsync(gateway.WsUri("/echo/"), cancellation.Token);

        var result = await client.ReceiveAsync(new byte[1024], cancellation.Token);
        var lateBy = DateTimeOffset.UtcNow - expires;

        Assert.Equal(WebSocketCloseStatus.PolicyViolation, client.CloseStatus);
        Assert.Equal(WebSocketMessageType.Close, result.MessageType);
        Assert.True(lateBy < TimeSpan.FromSeconds(1), $"the connection closed {lateBy.TotalMilliseconds:0} ms after the expiry");
    }
}
