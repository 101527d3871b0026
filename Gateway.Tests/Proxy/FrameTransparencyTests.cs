using System.Text;
using Gateway.Tests.Support;

namespace Gateway.Tests.Proxy;

/// <summary>Frames pass through the gateway byte for byte, in both directions.</summary>
public sealed class FrameTransparencyTests
{
    private static readonly byte[] ClientMask = { 0x11, 0x22, 0x33, 0x44 };

    [Fact]
    public async Task ClientToUpstream_FragmentsAndPingArriveIdentical()
    {
        await using var upstream = RawUpstream.Start();
        await using var gateway = await TestGateway.StartWithApiAsync(upstream.WsUri());
        using var cancellation = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        using var tunnel = await upstream.OpenThroughAsync(gateway, "/echo/", cancellationToken: cancellation.Token);
        var clientStream = tunnel.ClientStream;
        var accepted = tunnel.Upstream;
        var head = tunnel.ResponseHead;
        Assert.StartsWith("HTTP/1.1 101", head);

        var sent = FragmentedMessageWithPing(mask: ClientMask);
        await clientStream.WriteAsync(sent, cancellation.Token);
        var received = await RawWebSocket.ReadExactlyOrEndAsync(accepted.Stream, sent.Length, cancellation.Token);

        Assert.Equal(sent, received);
    }

    [Fact]
    public async Task UpstreamToClient_FragmentsAndPingArriveIdentical()
    {
        await using var upstream = RawUpstream.Start();
        await using var gateway = await TestGateway.StartWithApiAsync(upstream.WsUri());
        using var cancellation = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        using var tunnel = await upstream.OpenThroughAsync(gateway, "/echo/", cancellationToken: cancellation.Token);
        var clientStream = tunnel.ClientStream;
        var accepted = tunnel.Upstream;

        var sent = FragmentedMessageWithPing(mask: null);
        await accepted.Stream.WriteAsync(sent, cancellation.Token);
        var received = await RawWebSocket.ReadExactlyOrEndAsync(clientStream, sent.Length, cancellation.Token);

        Assert.Equal(sent, received);
    }

    [Fact]
    public async Task PermessageDeflate_CompressedFramesPassCompressed()
    {
        await using var upstream = RawUpstream.Start();
        await using var gateway = await TestGateway.StartWithApiAsync(upstream.WsUri());
        using var cancellation = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        using var tunnel = await upstream.OpenThroughAsync(gateway, "/echo/", clientHeaders: "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n", upstreamHeaders: "Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover\r\n", cancellationToken: cancellation.Token);
        var clientStream = tunnel.ClientStream;
        var accepted = tunnel.Upstream;
        var head = tunnel.ResponseHead;

        // "Hello" compressed with DEFLATE, as RFC 7692 section 7.2.3.1 shows it.
        var compressed = new byte[] { 0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00 };
        var up = RawWebSocket.Frame(0x1, compressed, mask: ClientMask, rsv1: true);
        var down = RawWebSocket.Frame(0x1, compressed, rsv1: true);
        await clientStream.WriteAsync(up, cancellation.Token);
        var receivedUp = await RawWebSocket.ReadExactlyOrEndAsync(accepted.Stream, up.Length, cancellation.Token);
        await accepted.Stream.WriteAsync(down, cancellation.Token);
        var receivedDown = await RawWebSocket.ReadExactlyOrEndAsync(clientStream, down.Length, cancellation.Token);

        Assert.Contains("permessage-deflate; client_max_window_bits", RawWebSocket.Header(accepted.RequestHead, "Sec-WebSocket-Extensions"));
        Assert.Equal("permessage-deflate; server_no_context_takeover", RawWebSocket.Header(head, "Sec-WebSocket-Extensions"));
        Assert.Equal(up, receivedUp);
        Assert.Equal(down, receivedDown);
        Assert.Equal(0xC1, receivedDown[0]);
    }

    [Fact]
    public async Task PingAndPong_CrossInBothDirections()
    {
        await using var upstream = RawUpstream.Start();
        await using var gateway = await TestGateway.StartWithApiAsync(upstream.WsUri());
        using var cancellation = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        using var tunnel = await upstream.OpenThroughAsync(gateway, "/echo/", cancellationToken: cancellation.Token);
        var clientStream = tunnel.ClientStream;
        var accepted = tunnel.Upstream;

        await clientStream.WriteAsync(RawWebSocket.Frame(0x9, "from client"u8, mask: ClientMask), cancellation.Token);
        var pingAtUpstream = await RawWebSocket.ReadFrameAsync(accepted.Stream, cancellation.Token);
        await accepted.Stream.WriteAsync(RawWebSocket.Frame(0xA, pingAtUpstream.Payload), cancellation.Token);
        var pongAtClient = await RawWebSocket.ReadFrameAsync(clientStream, cancellation.Token);

        await accepted.Stream.WriteAsync(RawWebSocket.Frame(0x9, "from upstream"u8), cancellation.Token);
        var pingAtClient = await RawWebSocket.ReadFrameAsync(clientStream, cancellation.Token);
        await clientStream.WriteAsync(RawWebSocket.Frame(0xA, pingAtClient.Payload, mask: ClientMask), cancellation.Token);
        var pongAtUpstream = await RawWebSocket.ReadFrameAsync(accepted.Stream, cancellation.Token);

        Assert.Equal(0x89, pingAtUpstream.First);
        Assert.Equal(0x8A, pongAtClient.First);
        Assert.Equal("from client", Encoding.UTF8.GetString(pongAtClient.Payload));
        Assert.Equal(0x89, pingAtClient.First);
        Assert.Equal(0x8A, pongAtUpstream.First);
        Assert.Equal("from upstream", Encoding.UTF8.GetString(pongAtUpstream.Payload));
    }

    [Fact]
    public async Task FirstFrameInSameWriteAs101_IsDelivered()
    {
        await using var upstream = RawUpstream.Start();
        await using var gateway = await TestGateway.StartWithApiAsync(upstream.WsUri());
        using var cancellation = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var welcome = RawWebSocket.Frame(0x1, "welcome"u8);

        using var tunnel = await upstream.OpenThroughAsync(gateway, "/echo/", firstBytes: welcome, cancellationToken: cancellation.Token);
        var frame = await RawWebSocket.ReadFrameAsync(tunnel.ClientStream, cancellation.Token);

        Assert.StartsWith("HTTP/1.1 101", tunnel.ResponseHead);
        Assert.Equal(0x81, frame.First);
        Assert.Equal("welcome", Encoding.UTF8.GetString(frame.Payload));
    }

    /// <summary>A text message in three fragments with a ping between the first and second.</summary>
    private static byte[] FragmentedMessageWithPing(byte[]? mask) =>
        RawWebSocket.Frame(0x1, "part one, "u8, fin: false, mask: mask)
            .Concat(RawWebSocket.Frame(0x9, "ping in between"u8, mask: mask))
            .Concat(RawWebSocket.Frame(0x0, "part two, "u8, fin: false, mask: mask))
            .Concat(RawWebSocket.Frame(0x0, new byte[300], fin: true, mask: mask))
            .ToArray();
}
