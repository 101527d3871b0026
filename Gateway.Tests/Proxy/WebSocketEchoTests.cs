using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;
using Gateway.Tests.Support;

namespace Gateway.Tests.Proxy;

public sealed class WebSocketEchoTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Echo_TextAndBinary()
    {
        await using var upstream = await TestUpstream.StartEchoAsync();
        await using var gateway = await TestGateway.StartWithApiAsync(upstream.WsUri());
        using var cancellation = new CancellationTokenSource(Timeout);
        using var client = new ClientWebSocket();
        await client.ConnectAsync(gateway.WsUri("/echo/"), cancellation.Token);

        var text = await SendAndReceiveAsync(client, Encoding.UTF8.GetBytes("hello"), WebSocketMessageType.Text, cancellation.Token);
        var binary = await SendAndReceiveAsync(client, new byte[] { 0, 1, 2, 255 }, WebSocketMessageType.Binary, cancellation.Token);

        Assert.Equal("hello", Encoding.UTF8.GetString(text.Payload));
        Assert.Equal(WebSocketMessageType.Text, text.Type);
        Assert.Equal(new byte[] { 0, 1, 2, 255 }, binary.Payload);
        Assert.Equal(WebSocketMessageType.Binary, binary.Type);
        await client.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", cancellation.Token);
    }

    [Fact]
    public async Task Echo_SixteenMebibyteMessage()
    {
        await using var upstream = await TestUpstream.StartEchoAsync();
        await using var gateway = await TestGateway.StartWithApiAsync(upstream.WsUri());
        using var cancellation = new CancellationTokenSource(Timeout);
        using var client = new ClientWebSocket();
        await client.ConnectAsync(gateway.WsUri("/echo/"), cancellation.Token);
        var message = RandomNumberGenerator.GetBytes(16 * 1024 * 1024);

        var echoed = await SendAndReceiveAsync(client, message, WebSocketMessageType.Binary, cancellation.Token);

        Assert.Equal(message.Length, echoed.Payload.Length);
        Assert.True(message.AsSpan().SequenceEqual(echoed.Payload), "the echoed 16 MiB message differs from the one sent");
    }

    [Fact]
    public async Task Echo_HundredConnectionsWithoutCrossTalk()
    {
        await using var upstream = await TestUpstream.StartEchoAsync();
        await using var gateway = await TestGateway.StartWithApiAsync(upstream.WsUri());
        using var cancellation = new CancellationTokenSource(TimeSpan.FromSeconds(60));

        var failures = await Task.WhenAll(Enumerable.Range(0, 100).Select(async connection =>
        {
            using var client = new ClientWebSocket();
            await client.ConnectAsync(gateway.WsUri("/echo/"), cancellation.Token);
            for (var i = 0; i < 100; i++)
            {
                var sent = $"connection {connection} message {i}";
                var echoed = await SendAndReceiveAsync(client, Encoding.UTF8.GetBytes(sent), WebSocketMessageType.Text, cancellation.Token);
                var received = Encoding.UTF8.GetString(echoed.Payload);
                if (received != sent)
                {
                    return $"sent '{sent}', received '{received}'";
                }
            }

            await client.CloseAsync(WebSocketCloseStatus.NormalClosure, "", cancellation.Token);
            return null;
        }));

        Assert.All(failures, Assert.Null);
    }

    [Fact]
    public async Task Subprotocol_UpstreamChoiceReachesClient()
    {
        await using var upstream = await TestUpstream.StartEchoAsync();
        await using var gateway = await TestGateway.StartWithApiAsync(upstream.WsUri());
        using var cancellation = new CancellationTokenSource(Timeout);
        using var client = new ClientWebSocket();
        client.Options.AddSubProtocol("a");
        client.Options.AddSubProtocol("b");

        await client.ConnectAsync(gateway.WsUri("/echo/"), cancellation.Token);

        Assert.Equal("b", client.SubProtocol);
    }

    [Fact]
    public async Task CloseCodeAndReason_ReachUpstreamAndBack()
    {
        await using var upstream = await TestUpstream.StartEchoAsync();
        await using var gateway = await TestGateway.StartWithApiAsync(upstream.WsUri());
        using var cancellation = new CancellationTokenSource(Timeout);
        using var client = new ClientWebSocket();
        await client.ConnectAsync(gateway.WsUri("/echo/"), cancellation.Token);

        await client.CloseAsync((WebSocketCloseStatus)4000, "custom reason ü", cancellation.Token);

        Assert.Equal((WebSocketCloseStatus)4000, client.CloseStatus);
        Assert.Equal("custom reason ü", client.CloseStatusDescription);
    }

    /// <summary>
    /// Sends one message and receives its echo. The echo starts before the send ends, so both run at
    /// once: a client that read only after sending 16 MiB would need every socket buffer between it and
    /// the echo server to hold the whole message, and would stall when they do not.
    /// </summary>
    internal static async Task<(WebSocketMessageType Type, byte[] Payload)> SendAndReceiveAsync(
        ClientWebSocket client, byte[] message, WebSocketMessageType type, CancellationToken cancellationToken)
    {
        var receiving = ReceiveMessageAsync(client, cancellationToken);
        await client.SendAsync(message, type, endOfMessage: true, cancellationToken);
        return await receiving;
    }

    private static async Task<(WebSocketMessageType Type, byte[] Payload)> ReceiveMessageAsync(ClientWebSocket client, CancellationToken cancellationToken)
    {
        var received = new MemoryStream();
        var buffer = new byte[64 * 1024];
        while (true)
        {
            var result = await client.ReceiveAsync(buffer, cancellationToken);
            received.Write(buffer, 0, result.Count);
            if (result.EndOfMessage)
            {
                return (result.MessageType, received.ToArray());
            }
        }
    }
}
