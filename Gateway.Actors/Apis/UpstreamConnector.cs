using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using Gateway.Actors.Configuration;

namespace Gateway.Actors.Apis;

/// <summary>Opens a TCP connection to an upstream host and port; tests replace it to stand in for DNS.</summary>
public delegate ValueTask<Stream> UpstreamConnect(DnsEndPoint endpoint, CancellationToken cancellationToken);

/// <summary>
/// Opens the connections that carry an API's WebSocket upgrades: TCP to the target, then TLS for wss
/// and https targets with the API's upstream-tls settings.
/// </summary>
/// <remarks>
/// WebSocket handshakes do not go through the API's HttpMessageInvoker, because a connection that
/// SocketsHttpHandler upgraded keeps its read and write buffers (about 8 KiB) for the WebSocket's
/// whole life. The upstream leg writes the upgrade on the stream opened here and parses the response
/// itself, so an idle WebSocket keeps only its socket.
/// </remarks>
public sealed class UpstreamConnector
{
    private readonly SslClientAuthenticationOptions _tls;
    private readonly TimeSpan _connectTimeout;
    private readonly UpstreamConnect _connect;

    /// <param name="connect">Replaces how TCP connections are opened; null connects to the target's host and port.</param>
    public UpstreamConnector(ApiDefinition api, UpstreamConnect? connect = null)
    {
        _tls = UpstreamHandlers.CreateSslOptions(api.UpstreamTls);
        _connectTimeout = api.Timeouts.Connect;
        _connect = connect ?? ConnectTcpAsync;
    }

    /// <summary>
    /// Connects to <paramref name="target"/> (an http or https URI) and runs TLS for https. TCP failures
    /// surface as <see cref="UpstreamConnectException"/>, so the caller knows nothing was sent.
    /// </summary>
    public async Task<Stream> OpenAsync(Uri target, CancellationToken cancellationToken)
    {
        Stream stream;
        using (var connectTimeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            connectTimeout.CancelAfter(_connectTimeout);
            try
            {
                stream = await _connect(new DnsEndPoint(target.IdnHost, target.Port), connectTimeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new UpstreamConnectException($"connecting to the upstream timed out after {_connectTimeout.TotalSeconds:0.###} s", timedOut: true);
            }
            catch (SocketException error)
            {
                var detail = error.SocketErrorCode == SocketError.ConnectionRefused ? "connection refused" : error.Message;
                throw new UpstreamConnectException(detail, timedOut: false);
            }
        }

        if (target.Scheme != Uri.UriSchemeHttps)
        {
            return stream;
        }

        // SNI and the name the certificate must carry are the target's host, also when the API sends the
        // client's Host header upstream (preserve-host-header).
        return await UpstreamHandlers.StartHttp11TlsAsync(stream, _tls, target.IdnHost, cancellationToken).ConfigureAwait(false);
    }

    internal static async ValueTask<Stream> ConnectTcpAsync(DnsEndPoint endpoint, CancellationToken cancellationToken)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(endpoint, cancellationToken).ConfigureAwait(false);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}

/// <summary>The TCP connection to an upstream could not be opened; nothing was sent to it.</summary>
public sealed class UpstreamConnectException : Exception
{
    public UpstreamConnectException(string message, bool timedOut)
        : base(message)
    {
        TimedOut = timedOut;
    }

    public bool TimedOut { get; }
}
