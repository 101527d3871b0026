using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using Akka.Actor;
using Akka.Event;
using Gateway.Actors.Configuration;
using static Gateway.Actors.Connections.ConnectionProtocol;

namespace Gateway.Actors.Connections;

/// <summary>
/// The upstream leg of a proxied WebSocket: sends the upgrade request upstream, reports the answer to
/// the host, then reads the upstream and writes to the client.
/// </summary>
/// <remarks>
/// Lifecycle:
/// 1. On start, send the handshake upstream (timed by the API's handshake timeout).
/// 2. Reply to the host: accepted (101), rejected (any other status, relayed as it is) or failed.
/// 3. After a 101, wait for the host to upgrade the client and attach it.
/// 4. Hand the tunnel to the client leg and pump upstream to client until either side ends.
/// </remarks>
internal sealed class UpstreamLeg : TunnelLeg
{
    /// <summary>How long the host may take to upgrade the client after a 101 before the upstream is closed.</summary>
    private static readonly TimeSpan AttachTimeout = TimeSpan.FromSeconds(10);

    private static readonly HashSet<string> HopByHopResponseHeaders = new(StringComparer.OrdinalIgnoreCase)
    {
        "Connection", "Upgrade", "Keep-Alive", "Transfer-Encoding", "Content-Length", "Proxy-Connection", "TE", "Trailer",
    };

    private readonly ApiDefinition _api;
    private readonly UpgradeRequest _request;
    private readonly HttpMessageInvoker _invoker;
    private readonly IActorRef _replyTo;
    private readonly int? _messagesPerSecond;
    private HttpResponseMessage? _response;
    private Stream? _upstreamStream;

    public UpstreamLeg(
        string connectionId,
        ApiDefinition api,
        UpgradeRequest request,
        HttpMessageInvoker invoker,
        IActorRef replyTo,
        IActorRef clientLeg,
        ConnectionStats stats,
        int? messagesPerSecond = null)
        : base(connectionId, stats)
    {
        _messagesPerSecond = messagesPerSecond;
        _api = api;
        _request = request;
        _invoker = invoker;
        _replyTo = replyTo;
        Sibling = clientLeg;

        Receive<HandshakeAnswered>(OnHandshakeAnswered);
        Receive<StopAndClose>(_ => { });
    }

    public static Props Props(
        string connectionId,
        ApiDefinition api,
        UpgradeRequest request,
        HttpMessageInvoker invoker,
        IActorRef replyTo,
        IActorRef clientLeg,
        ConnectionStats stats,
        int? messagesPerSecond = null) =>
        Akka.Actor.Props.Create(() => new UpstreamLeg(connectionId, api, request, invoker, replyTo, clientLeg, stats, messagesPerSecond));

    protected override string SourceName => "upstream";

    protected override int SourceLostCloseCode => CloseCodes.InternalError;

    protected override bool MaskTowardsDestination => false;

    protected override Stream Source(Tunnel tunnel) => tunnel.Upstream;

    protected override Stream Destination(Tunnel tunnel) => tunnel.Client.Stream;

    protected override FrameObserver Observer(Tunnel tunnel) => tunnel.UpstreamToClient;

    protected override void CloseDestination(Tunnel tunnel) => tunnel.CloseClient();

    protected override void RecordStats(FrameObserver observer, long bytes)
    {
        Stats.BytesToClient = bytes;
        Stats.FramesToClient = observer.Frames;
        Stats.MessagesToClient = observer.Messages;
        Stats.UpstreamCloseCode = observer.CloseCode;
        Stats.UpstreamCloseReason = observer.CloseReason;
    }

    protected override void PreStart()
    {
        // 1. Send the handshake; the answer comes back as a message.
        SendHandshakeAsync(_invoker, _request, _api.Timeouts.Handshake).PipeTo(Self);
    }

    protected override void PostStop()
    {
        base.PostStop();
        if (Tunnel is null)
        {
            _upstreamStream?.Dispose();
            _response?.Dispose();
        }
    }

    private void OnHandshakeAnswered(HandshakeAnswered answer)
    {
        // 2. Report the answer to the host.
        switch (answer)
        {
            case HandshakeSwitched switched:
                _response = switched.Response;
                _upstreamStream = switched.Stream;
                _replyTo.Tell(new UpstreamAccepted(ConnectionId, RelayedHeaders(switched.Response), Self));

                // 3. Wait for the host to attach the upgraded client.
                Context.SetReceiveTimeout(AttachTimeout);
                Become(AwaitingClient);
                return;

            case HandshakeRejected rejected:
                Log.Info("Connection {ConnectionId}: upstream {Upstream} answered the upgrade with {StatusCode}; relaying it to the client",
                    ConnectionId, _request.Target, (int)rejected.Response.StatusCode);
                _replyTo.Tell(new UpstreamRejected(ConnectionId, rejected.Response));
                break;

            case HandshakeFailed failed:
                Log.Warning("Connection {ConnectionId}: upgrade to {Upstream} failed ({Outcome}): {Detail}",
                    ConnectionId, _request.Target, failed.Outcome, failed.Detail);
                _replyTo.Tell(new UpstreamFailed(ConnectionId, failed.Outcome, failed.Detail));
                break;
        }

        Sibling.Tell(PeerFinished.Instance);
        Context.Stop(Self);
    }

    private void AwaitingClient()
    {
        Receive<AttachClient>(attach =>
        {
            // 4. Open the tunnel in both directions.
            Context.SetReceiveTimeout(null);
            var tunnel = new Tunnel(ConnectionId, attach.Client, _upstreamStream!, _response!, _api.WebSocketLimits.MaxMessageSize, Stats)
            {
                ClientMessagesPerSecond = _messagesPerSecond,
            };
            Sibling.Tell(new StartPumping(tunnel));
            StartPump(tunnel);
        });
        Receive<AbandonConnection>(_ => Abandon("the client upgrade failed"));
        Receive<ReceiveTimeout>(_ => Abandon($"the client was not attached within {AttachTimeout.TotalSeconds} s"));
        Receive<StopAndClose>(_ => Abandon("the gateway is closing connections"));
    }

    private void Abandon(string why)
    {
        Log.Debug("Connection {ConnectionId}: closing the upstream before the tunnel opened, because {Reason}", ConnectionId, why);
        Sibling.Tell(PeerFinished.Instance);
        Context.Stop(Self);
    }

    private static IReadOnlyList<KeyValuePair<string, string[]>> RelayedHeaders(HttpResponseMessage response)
    {
        var headers = new List<KeyValuePair<string, string[]>>();
        foreach (var header in response.Headers.Concat(response.Content.Headers))
        {
            if (!HopByHopResponseHeaders.Contains(header.Key))
            {
                headers.Add(new(header.Key, header.Value.ToArray()));
            }
        }

        return headers;
    }

    private static async Task<HandshakeAnswered> SendHandshakeAsync(HttpMessageInvoker invoker, UpgradeRequest request, TimeSpan timeout)
    {
        using var cancellation = new CancellationTokenSource(timeout);
        var message = new HttpRequestMessage(HttpMethod.Get, request.Target)
        {
            Version = HttpVersion.Version11,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        foreach (var header in request.Headers)
        {
            message.Headers.TryAddWithoutValidation(header.Key, header.Value);
        }

        HttpResponseMessage response;
        try
        {
            response = await invoker.SendAsync(message, cancellation.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
            return new HandshakeFailed(ForwardingOutcome.UpstreamTimedOut, $"no answer to the upgrade within {timeout.TotalSeconds:0.###} s");
        }
        catch (Exception error) when (error is HttpRequestException or OperationCanceledException)
        {
            return Classify(error);
        }

        if (response.StatusCode != HttpStatusCode.SwitchingProtocols)
        {
            return new HandshakeRejected(response);
        }

        if (!response.Headers.Upgrade.Any(product => string.Equals(product.Name, "websocket", StringComparison.OrdinalIgnoreCase)))
        {
            response.Dispose();
            return new HandshakeFailed(ForwardingOutcome.UpstreamInvalidResponse, "the upstream answered 101 without 'Upgrade: websocket'");
        }

        var stream = await response.Content.ReadAsStreamAsync(CancellationToken.None).ConfigureAwait(false);
        return new HandshakeSwitched(response, stream);
    }

    private static HandshakeFailed Classify(Exception error)
    {
        // SocketsHttpHandler reports its connect timeout as a cancellation wrapping a TimeoutException.
        if (error is OperationCanceledException { InnerException: TimeoutException })
        {
            return new HandshakeFailed(ForwardingOutcome.UpstreamTimedOut, "connecting to the upstream timed out");
        }

        if (error is HttpRequestException request)
        {
            var socketError = FindSocketError(request);
            return request.HttpRequestError switch
            {
                HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError =>
                    new HandshakeFailed(ForwardingOutcome.UpstreamUnreachable, socketError ?? request.Message),
                HttpRequestError.InvalidResponse or HttpRequestError.ResponseEnded =>
                    new HandshakeFailed(ForwardingOutcome.UpstreamInvalidResponse, "the upstream's answer is not valid HTTP: " + request.Message),
                HttpRequestError.SecureConnectionError =>
                    new HandshakeFailed(ForwardingOutcome.UpstreamUnreachable, "TLS to the upstream failed: " + (request.InnerException?.Message ?? request.Message)),
                _ => new HandshakeFailed(ForwardingOutcome.UpstreamUnreachable, socketError ?? request.Message),
            };
        }

        return new HandshakeFailed(ForwardingOutcome.UpstreamUnreachable, error.Message);
    }

    private static string? FindSocketError(Exception error)
    {
        for (var inner = error.InnerException; inner is not null; inner = inner.InnerException)
        {
            if (inner is SocketException socket)
            {
                return socket.SocketErrorCode == SocketError.ConnectionRefused ? "connection refused" : socket.Message;
            }
        }

        return null;
    }

    private abstract record HandshakeAnswered;

    private sealed record HandshakeSwitched(HttpResponseMessage Response, Stream Stream) : HandshakeAnswered;

    private sealed record HandshakeRejected(HttpResponseMessage Response) : HandshakeAnswered;

    private sealed record HandshakeFailed(ForwardingOutcome Outcome, string Detail) : HandshakeAnswered;
}
