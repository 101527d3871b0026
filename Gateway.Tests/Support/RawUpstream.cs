using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Gateway.Tests.Support;

/// <summary>
/// A WebSocket upstream on a plain TCP listener: it answers the handshake by hand and then lets the test
/// read and write the raw bytes of the connection.
/// </summary>
public sealed class RawUpstream : IAsyncDisposable
{
    private readonly TcpListener _listener;

    private RawUpstream(TcpListener listener)
    {
        _listener = listener;
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public Uri WsUri(string path = "/") => new($"ws://127.0.0.1:{Port}{path}");

    public static RawUpstream Start()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return new RawUpstream(listener);
    }

    /// <summary>
    /// Accepts one connection, reads its upgrade request and answers 101 with <paramref name="extraHeaders"/>,
    /// followed in the same write by <paramref name="firstBytes"/>.
    /// </summary>
    public async Task<Accepted> AcceptUpgradeAsync(string extraHeaders = "", byte[]? firstBytes = null, CancellationToken cancellationToken = default)
    {
        var client = await _listener.AcceptTcpClientAsync(cancellationToken);
        var stream = client.GetStream();
        var request = await RawWebSocket.ReadHeadAsync(stream, cancellationToken);
        var key = RawWebSocket.Header(request, "Sec-WebSocket-Key")!;
        var response = Encoding.ASCII.GetBytes(
            "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n" +
            $"Sec-WebSocket-Accept: {RawWebSocket.AcceptFor(key)}\r\n{extraHeaders}\r\n");
        await stream.WriteAsync(response.Concat(firstBytes ?? Array.Empty<byte>()).ToArray(), cancellationToken);
        return new Accepted(client, stream, request);
    }

    /// <summary>
    /// Opens a raw WebSocket through <paramref name="gateway"/> to this upstream: the client sends an upgrade
    /// with <paramref name="clientHeaders"/>, and the upstream answers it as <see cref="AcceptUpgradeAsync"/> does.
    /// </summary>
    public async Task<RawTunnel> OpenThroughAsync(
        TestGateway gateway,
        string path,
        string clientHeaders = "",
        string upstreamHeaders = "",
        byte[]? firstBytes = null,
        CancellationToken cancellationToken = default)
    {
        var accepting = AcceptUpgradeAsync(upstreamHeaders, firstBytes, cancellationToken);
        var (client, clientStream, head) = await RawWebSocket.ConnectAsync(gateway.ClientEndpoint, path, clientHeaders, cancellationToken);
        return new RawTunnel(client, clientStream, head, await accepting);
    }

    /// <summary>Accepts one connection, reads its request head and writes <paramref name="response"/> as it is.</summary>
    public Task<Accepted> AcceptAndAnswerAsync(string response, CancellationToken cancellationToken = default) =>
        AcceptAndAnswerInPiecesAsync(_ => new[] { Encoding.ASCII.GetBytes(response) }, closeAfter: false, cancellationToken);

    /// <summary>
    /// Accepts one connection, reads its request head and writes the pieces <paramref name="answer"/> makes of
    /// it, each in a write of its own a few milliseconds apart, so the gateway reads them separately.
    /// </summary>
    /// <param name="closeAfter">Closes the connection after the last piece.</param>
    public async Task<Accepted> AcceptAndAnswerInPiecesAsync(
        Func<string, IEnumerable<byte[]>> answer, bool closeAfter, CancellationToken cancellationToken = default)
    {
        var client = await _listener.AcceptTcpClientAsync(cancellationToken);
        var stream = client.GetStream();
        var request = await RawWebSocket.ReadHeadAsync(stream, cancellationToken);
        foreach (var piece in answer(request))
        {
            await stream.WriteAsync(piece, cancellationToken);
            await Task.Delay(20, cancellationToken);
        }

        if (closeAfter)
        {
            client.Client.Shutdown(SocketShutdown.Send);
        }

        return new Accepted(client, stream, request);
    }

    public ValueTask DisposeAsync()
    {
        _listener.Stop();
        return ValueTask.CompletedTask;
    }

    public sealed record Accepted(TcpClient Client, NetworkStream Stream, string RequestHead) : IDisposable
    {
        public void Dispose() => Client.Dispose();
    }

    /// <summary>Both ends of a raw WebSocket through the gateway: the client's socket and response head, and the upstream's side.</summary>
    public sealed record RawTunnel(TcpClient Client, NetworkStream ClientStream, string ResponseHead, Accepted Upstream) : IDisposable
    {
        public void Dispose()
        {
            Client.Dispose();
            Upstream.Dispose();
        }
    }
}
