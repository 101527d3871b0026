using System.Net.WebSockets;
using System.Text;
using Gateway.Host.Echo;
using Gateway.Tests.Support;

namespace Gateway.Tests.Echo;

public sealed class EchoFloodTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task Flood_SendsAfterFirstMessage()
    {
        await using var upstream = await TestUpstream.StartAsync(EchoHandler.HandleAsync);
        using var cancellation = new CancellationTokenSource(Timeout);
        using var client = new ClientWebSocket();
        await client.ConnectAsync(upstream.WsUri("/flood"), cancellation.Token);

        await client.SendAsync(new byte[] { 1 }, WebSocketMessageType.Binary, endOfMessage: true, cancellation.Token);
        var buffer = new byte[64 * 1024];
        for (var index = 0; index < 32; index++)
        {
            var (type, length) = await ReceiveMessageAsync(client, buffer, cancellation.Token);

            Assert.Equal(WebSocketMessageType.Binary, type);
            Assert.Equal(16 * 1024, length);
        }
    }

    [Fact]
    public async Task Flood_StopsWhenClientCloses()
    {
        await using var upstream = await TestUpstream.StartAsync(EchoHandler.HandleAsync);
        using var cancellation = new CancellationTokenSource(Timeout);
        using var client = new ClientWebSocket();
        await client.ConnectAsync(upstream.WsUri("/flood"), cancellation.Token);
        await client.SendAsync(new byte[] { 1 }, WebSocketMessageType.Binary, endOfMessage: true, cancellation.Token);
        var buffer = new byte[64 * 1024];
        await ReceiveMessageAsync(client, buffer, cancellation.Token);

        await client.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, cancellation.Token);

        var end = await DrainAsync(client, buffer, cancellation.Token);

        Assert.Contains(end, new[] { "closed", "aborted" });
    }

    [Fact]
    public async Task Echo_OtherPathStillEchoes()
    {
        await using var upstream = await TestUpstream.StartAsync(EchoHandler.HandleAsync);
        using var cancellation = new CancellationTokenSource(Timeout);
        using var client = new ClientWebSocket();
        await client.ConnectAsync(upstream.WsUri("/flood-not"), cancellation.Token);

        await client.SendAsync(Encoding.UTF8.GetBytes("hello"), WebSocketMessageType.Text, endOfMessage: true, cancellation.Token);
        var buffer = new byte[1024];
        var (type, length) = await ReceiveMessageAsync(client, buffer, cancellation.Token);

        Assert.Equal(WebSocketMessageType.Text, type);
        Assert.Equal("hello", Encoding.UTF8.GetString(buffer, 0, length));
        await client.CloseAsync(WebSocketCloseStatus.NormalClosure, null, cancellation.Token);
    }

    /// <summary>Reads until the connection ends, and returns how: draining ends only if the upstream stops sending.</summary>
    private static async Task<string> DrainAsync(ClientWebSocket client, byte[] buffer, CancellationToken cancellation)
    {
        try
        {
            WebSocketMessageType type;
            do
            {
                (type, _) = await ReceiveMessageAsync(client, buffer, cancellation);
            }
            while (type != WebSocketMessageType.Close);

            return "closed";
        }
        catch (Exception) when (cancellation.IsCancellationRequested)
        {
            return "still flooding when the timeout fired";
        }
        catch (WebSocketException)
        {
            return "aborted";
        }
    }

    private static async Task<(WebSocketMessageType Type, int Length)> ReceiveMessageAsync(ClientWebSocket client, byte[] buffer, CancellationToken cancellation)
    {
        var length = 0;
        while (true)
        {
            var received = await client.ReceiveAsync(buffer.AsMemory(length), cancellation);
            length += received.Count;
            if (received.EndOfMessage || received.MessageType == WebSocketMessageType.Close)
            {
                return (received.MessageType, length);
            }
        }
    }
}
