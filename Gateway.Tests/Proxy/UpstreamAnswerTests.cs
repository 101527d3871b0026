using System.Text;
using Gateway.Tests.Support;

namespace Gateway.Tests.Proxy;

/// <summary>
/// How the gateway reads an upstream's response to the upgrade, written byte by byte by a raw upstream:
/// heads and bodies split across writes, every body framing, and responses that are not valid HTTP.
/// </summary>
public sealed class UpstreamAnswerTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task SplitSwitchingProtocols_FirstFrameIntact()
    {
        await using var upstream = RawUpstream.Start();
        await using var gateway = await TestGateway.StartWithApiAsync(upstream.WsUri());
        using var cancellation = new CancellationTokenSource(Timeout);
        var frame = RawWebSocket.Frame(0x1, "welcome"u8);

        // The blank line that ends the head is split between two writes, and the first frame follows it
        // in the second.
        var answering = upstream.AcceptAndAnswerInPiecesAsync(request =>
        {
            var head = "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n" +
                $"Sec-WebSocket-Accept: {RawWebSocket.AcceptFor(RawWebSocket.Header(request, "Sec-WebSocket-Key")!)}\r\n" +
                "X-Room: a\r\nX-Room: b\r\n\r";
            return new[] { Encoding.ASCII.GetBytes(head[..20]), Encoding.ASCII.GetBytes(head[20..]), "\n"u8.ToArray().Concat(frame).ToArray() };
        }, closeAfter: false, cancellation.Token);
        var (client, stream, responseHead) = await RawWebSocket.ConnectAsync(gateway.ClientEndpoint, "/echo/", cancellationToken: cancellation.Token);
        using var _ = client;
        using var upstreamSide = await answering;

        var (first, payload) = await RawWebSocket.ReadFrameAsync(stream, cancellation.Token);

        Assert.StartsWith("HTTP/1.1 101", responseHead);
        Assert.Contains("X-Room: a\r\nX-Room: b\r\n", responseHead);
        Assert.Equal(0x81, first);
        Assert.Equal("welcome", Encoding.UTF8.GetString(payload));
    }

    [Fact]
    public async Task ChunkedRefusal_RelayedWithWholeBody()
    {
        await using var upstream = RawUpstream.Start();
        await using var gateway = await TestGateway.StartWithApiAsync(upstream.WsUri());
        using var cancellation = new CancellationTokenSource(Timeout);
        var answering = upstream.AcceptAndAnswerInPiecesAsync(_ => new[]
        {
            "HTTP/1.1 401 Unauthorized\r\nTransfer-Encoding: chunked\r\nX-Reason: token\r\n\r\n"u8.ToArray(),
            "6;note=first\r\nneed a\r\n"u8.ToArray(),
            "6\r\n token\r"u8.ToArray(),
            "\n0\r\nX-Trailer: ignored\r\n\r\n"u8.ToArray(),
        }, closeAfter: false, cancellation.Token);

        var (client, stream, head) = await RawWebSocket.ConnectAsync(gateway.ClientEndpoint, "/echo/", cancellationToken: cancellation.Token);
        using var _ = client;
        using var upstreamSide = await answering;
        var body = await RawWebSocket.ReadExactlyOrEndAsync(stream, int.Parse(RawWebSocket.Header(head, "Content-Length")!), cancellation.Token);

        Assert.StartsWith("HTTP/1.1 401", head);
        Assert.Equal("token", RawWebSocket.Header(head, "X-Reason"));
        Assert.Equal("need a token", Encoding.ASCII.GetString(body));
    }

    [Fact]
    public async Task RefusalEndedByClose_RelayedWithWholeBody()
    {
        await using var upstream = RawUpstream.Start();
        await using var gateway = await TestGateway.StartWithApiAsync(upstream.WsUri());
        using var cancellation = new CancellationTokenSource(Timeout);
        var answering = upstream.AcceptAndAnswerInPiecesAsync(_ => new[]
        {
            "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 30\r\n\r\nback "u8.ToArray(),
            "soon"u8.ToArray(),
        }, closeAfter: true, cancellation.Token);

        var (client, stream, head) = await RawWebSocket.ConnectAsync(gateway.ClientEndpoint, "/echo/", cancellationToken: cancellation.Token);
        using var _ = client;
        using var upstreamSide = await answering;
        var body = await RawWebSocket.ReadExactlyOrEndAsync(stream, int.Parse(RawWebSocket.Header(head, "Content-Length")!), cancellation.Token);

        Assert.StartsWith("HTTP/1.1 503", head);
        Assert.Equal("30", RawWebSocket.Header(head, "Retry-After"));
        Assert.Equal("back soon", Encoding.ASCII.GetString(body));
    }

    [Theory]
    [InlineData("HTTP/1.1 1O1 Switching Protocols\r\n\r\n", "status line \"HTTP/1.1 1O1 Switching Protocols\" is not HTTP/1.1")]
    [InlineData("HTTP/1.1 101 Switching Protocols\r\nUpgrade websocket\r\n\r\n", "header line \"Upgrade websocket\" is not 'name: value'")]
    [InlineData("HTTP/1.1 403 Forbidden\r\nContent-Length: 12, 13\r\n\r\n", "Content-Length '12, 13' is not one number")]
    [InlineData("HTTP/1.1 403 Forbidden\r\nContent-Length: 2000000\r\n\r\n", "body larger than 1 MiB")]
    [InlineData("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n\r\n", "101 without 'Upgrade: websocket'")]
    public async Task InvalidAnswer_Gets502NamingWhatIsWrong(string answer, string expected)
    {
        await using var upstream = RawUpstream.Start();
        await using var gateway = await TestGateway.StartWithApiAsync(upstream.WsUri());
        using var cancellation = new CancellationTokenSource(Timeout);
        var answering = upstream.AcceptAndAnswerAsync(answer, cancellation.Token);

        var error = await HandshakeTests.ErrorOfUpgradeAsync(gateway, "/echo/", cancellation.Token);
        using var upstreamSide = await answering;

        Assert.Equal(502, error.Status);
        Assert.Contains(expected, error.Message);
    }

    [Fact]
    public async Task OversizedHead_Gets502()
    {
        await using var upstream = RawUpstream.Start();
        await using var gateway = await TestGateway.StartWithApiAsync(upstream.WsUri());
        using var cancellation = new CancellationTokenSource(Timeout);
        var answering = upstream.AcceptAndAnswerAsync(
            "HTTP/1.1 101 Switching Protocols\r\n" + string.Concat(Enumerable.Range(0, 400).Select(i => $"X-Filler-{i}: {new string('x', 100)}\r\n")) + "\r\n",
            cancellation.Token);

        var error = await HandshakeTests.ErrorOfUpgradeAsync(gateway, "/echo/", cancellation.Token);
        try
        {
            (await answering).Dispose();
        }
        catch (IOException)
        {
            // The gateway may close before reading everything, which resets the upstream's write.
        }

        Assert.Equal(502, error.Status);
        Assert.Contains("response head is larger than 32 KiB", error.Message);
    }

    [Fact]
    public async Task UpstreamClosesWithoutAnswer_Gets502()
    {
        await using var upstream = RawUpstream.Start();
        await using var gateway = await TestGateway.StartWithApiAsync(upstream.WsUri());
        using var cancellation = new CancellationTokenSource(Timeout);
        var answering = upstream.AcceptAndAnswerInPiecesAsync(_ => Array.Empty<byte[]>(), closeAfter: true, cancellation.Token);

        var error = await HandshakeTests.ErrorOfUpgradeAsync(gateway, "/echo/", cancellation.Token);
        using var upstreamSide = await answering;

        Assert.Equal(502, error.Status);
        Assert.Contains("closed the connection without answering the upgrade", error.Message);
    }
}
