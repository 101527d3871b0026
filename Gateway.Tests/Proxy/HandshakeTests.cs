using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Gateway.Tests.Support;
using Microsoft.AspNetCore.Http;

namespace Gateway.Tests.Proxy;

/// <summary>What the client sees of the upgrade handshake, for every kind of upstream answer.</summary>
public sealed class HandshakeTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task FirefoxConnectionList_ReachesUpstreamAsExactlyUpgrade()
    {
        await using var upstream = RawUpstream.Start();
        await using var gateway = await TestGateway.StartWithApiAsync(upstream.WsUri("/socket"));
        using var cancellation = new CancellationTokenSource(Timeout);
        var accepting = upstream.AcceptUpgradeAsync(cancellationToken: cancellation.Token);
        using var client = new TcpClient();
        await client.ConnectAsync(gateway.ClientEndpoint, cancellation.Token);
        var stream = client.GetStream();

        await stream.WriteAsync(Encoding.ASCII.GetBytes(
            "GET /echo/room?id=7 HTTP/1.1\r\nHost: gateway.test\r\nConnection: keep-alive, Upgrade\r\nUpgrade: WebSocket\r\n" +
            "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nOrigin: http://app.test\r\nCookie: session=abc\r\n\r\n"),
            cancellation.Token);
        var head = await RawWebSocket.ReadHeadAsync(stream, cancellation.Token);
        using var accepted = await accepting;
        var request = accepted.RequestHead;

        Assert.StartsWith("HTTP/1.1 101", head);
        Assert.Equal("websocket", RawWebSocket.Header(head, "Upgrade"), ignoreCase: true);
        Assert.Equal("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", RawWebSocket.Header(head, "Sec-WebSocket-Accept"));
        Assert.StartsWith("GET /socket/room?id=7 HTTP/1.1", request);
        Assert.Equal("Upgrade", RawWebSocket.Header(request, "Connection"));
        Assert.Equal("websocket", RawWebSocket.Header(request, "Upgrade"));
        Assert.Equal("dGhlIHNhbXBsZSBub25jZQ==", RawWebSocket.Header(request, "Sec-WebSocket-Key"));
        Assert.Equal("http://app.test", RawWebSocket.Header(request, "Origin"));
        Assert.Equal("session=abc", RawWebSocket.Header(request, "Cookie"));
        Assert.Equal($"127.0.0.1:{upstream.Port}", RawWebSocket.Header(request, "Host"));
        Assert.Equal("127.0.0.1", RawWebSocket.Header(request, "X-Forwarded-For"));
        Assert.Equal("gateway.test", RawWebSocket.Header(request, "X-Forwarded-Host"));
    }

    [Fact]
    public async Task StrayContentLengthOn101_DoesNotBreakTunnel()
    {
        await using var upstream = RawUpstream.Start();
        await using var gateway = await TestGateway.StartWithApiAsync(upstream.WsUri());
        using var cancellation = new CancellationTokenSource(Timeout);
        using var tunnel = await upstream.OpenThroughAsync(gateway, "/echo/", upstreamHeaders: "Content-Length: 0\r\n", cancellationToken: cancellation.Token);

        await tunnel.Upstream.Stream.WriteAsync(RawWebSocket.Frame(0x1, "after 101"u8), cancellation.Token);
        var frame = await RawWebSocket.ReadFrameAsync(tunnel.ClientStream, cancellation.Token);

        Assert.StartsWith("HTTP/1.1 101", tunnel.ResponseHead);
        Assert.Null(RawWebSocket.Header(tunnel.ResponseHead, "Content-Length"));
        Assert.Equal("after 101", Encoding.UTF8.GetString(frame.Payload));
    }

    [Fact]
    public async Task Upstream403_RelayedWithHeadersAndBody()
    {
        await using var upstream = await TestUpstream.StartAsync(async context =>
        {
            context.Response.StatusCode = 403;
            context.Response.Headers["X-Upstream-Reason"] = "origin";
            context.Response.ContentLength = "origin not allowed".Length;
            await context.Response.WriteAsync("origin not allowed");
        });
        await using var gateway = await TestGateway.StartWithApiAsync(upstream.WsUri());
        using var cancellation = new CancellationTokenSource(Timeout);

        var (client, stream, head) = await RawWebSocket.ConnectAsync(gateway.ClientEndpoint, "/echo/", cancellationToken: cancellation.Token);
        using var _ = client;
        var length = int.Parse(RawWebSocket.Header(head, "Content-Length")!);
        var body = await RawWebSocket.ReadExactlyOrEndAsync(stream, length, cancellation.Token);

        Assert.StartsWith("HTTP/1.1 403", head);
        Assert.Equal("origin", RawWebSocket.Header(head, "X-Upstream-Reason"));
        Assert.Equal("origin not allowed", Encoding.UTF8.GetString(body));
    }

    [Fact]
    public async Task UpstreamDown_Gets502Json()
    {
        var port = FreePort();
        await using var gateway = await TestGateway.StartWithApiAsync(new Uri($"ws://127.0.0.1:{port}/"));
        using var cancellation = new CancellationTokenSource(Timeout);
        using var client = new ClientWebSocket();
        using var invoker = new HttpMessageInvoker(new SocketsHttpHandler());
        client.Options.CollectHttpResponseDetails = true;

        await Assert.ThrowsAsync<WebSocketException>(() => client.ConnectAsync(gateway.WsUri("/echo/"), invoker, cancellation.Token));

        Assert.Equal(HttpStatusCode.BadGateway, client.HttpStatusCode);
        var error = await ErrorOfUpgradeAsync(gateway, "/echo/", cancellation.Token);
        Assert.Equal(502, error.Status);
        Assert.Contains("'echo' is unreachable", error.Message);
        Assert.Contains("connection refused", error.Message);
    }

    [Fact]
    public async Task WebSocketsDisabled_GetsErrorNamingSetting()
    {
        await using var upstream = await TestUpstream.StartEchoAsync();
        await using var gateway = await TestGateway.StartWithApiAsync(upstream.WsUri(), gatewayExtra: "enable-websockets = off");
        using var cancellation = new CancellationTokenSource(Timeout);

        var error = await ErrorOfUpgradeAsync(gateway, "/echo/", cancellation.Token);

        Assert.Equal(400, error.Status);
        Assert.Contains("gateway.enable-websockets = on", error.Message);
    }

    [Fact]
    public async Task MissingKey_Gets400Json()
    {
        await using var upstream = await TestUpstream.StartEchoAsync();
        await using var gateway = await TestGateway.StartWithApiAsync(upstream.WsUri());
        using var cancellation = new CancellationTokenSource(Timeout);
        using var client = new TcpClient();
        await client.ConnectAsync(gateway.ClientEndpoint, cancellation.Token);
        var stream = client.GetStream();

        await stream.WriteAsync(Encoding.ASCII.GetBytes(
            "GET /echo/ HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n\r\n"), cancellation.Token);
        var head = await RawWebSocket.ReadHeadAsync(stream, cancellation.Token);

        Assert.StartsWith("HTTP/1.1 400", head);
        Assert.Equal("application/json; charset=utf-8", RawWebSocket.Header(head, "Content-Type"));
    }

    [Theory]
    [InlineData("GET /echo/ HTTP/1.1", "Sec-WebSocket-Version: 8\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "HTTP/1.1 426")]
    [InlineData("GET /echo/ HTTP/1.1", "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: short", "HTTP/1.1 400")]
    [InlineData("GET /echo/ HTTP/1.0", "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "HTTP/1.1 400")]
    [InlineData("POST /echo/ HTTP/1.1", "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nContent-Length: 0", "HTTP/1.1 400")]
    public async Task MalformedHandshake_AnsweredByGateway(string requestLine, string headers, string expectedStatus)
    {
        var upstreamCalls = 0;
        await using var upstream = await TestUpstream.StartAsync(context =>
        {
            Interlocked.Increment(ref upstreamCalls);
            return TestUpstream.EchoAsync(context);
        });
        await using var gateway = await TestGateway.StartWithApiAsync(upstream.WsUri());
        using var cancellation = new CancellationTokenSource(Timeout);
        using var client = new TcpClient();
        await client.ConnectAsync(gateway.ClientEndpoint, cancellation.Token);
        var stream = client.GetStream();

        await stream.WriteAsync(Encoding.ASCII.GetBytes(
            $"{requestLine}\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n{headers}\r\n\r\n"), cancellation.Token);
        var head = await RawWebSocket.ReadHeadAsync(stream, cancellation.Token);

        Assert.StartsWith(expectedStatus, head);
        Assert.Equal("application/json; charset=utf-8", RawWebSocket.Header(head, "Content-Type"));
        Assert.Equal(0, Volatile.Read(ref upstreamCalls));
        if (expectedStatus.EndsWith("426"))
        {
            Assert.Equal("13", RawWebSocket.Header(head, "Sec-WebSocket-Version"));
        }
    }

    [Fact]
    public async Task UnknownPath_Gets404Json()
    {
        await using var upstream = await TestUpstream.StartEchoAsync();
        await using var gateway = await TestGateway.StartWithApiAsync(upstream.WsUri());
        using var cancellation = new CancellationTokenSource(Timeout);

        var error = await ErrorOfUpgradeAsync(gateway, "/other/", cancellation.Token);

        Assert.Equal(404, error.Status);
        Assert.Contains("'/other/'", error.Message);
    }

    internal static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Sends an upgrade request and returns the status and the "error" field of the JSON body.</summary>
    internal static async Task<(int Status, string Message)> ErrorOfUpgradeAsync(TestGateway gateway, string path, CancellationToken cancellationToken)
    {
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, gateway.HttpUri(path));
        request.Headers.Connection.Add("Upgrade");
        request.Headers.Upgrade.Add(new("websocket"));
        request.Headers.Add("Sec-WebSocket-Version", "13");
        request.Headers.Add("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==");
        using var response = await http.SendAsync(request, cancellationToken);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken));
        return ((int)response.StatusCode, json.RootElement.GetProperty("error").GetString()!);
    }
}
