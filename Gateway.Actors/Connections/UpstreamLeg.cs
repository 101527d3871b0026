using System.Net;
using System.Net.Sockets;
using Akka.Actor;
using Akka.Event;
using Gateway.Actors.Apis;
using Gateway.Actors.Configuration;
using Gateway.Actors.Resilience;
using Gateway.Actors.Routing;
using static Gateway.Actors.Connections.ConnectionProtocol;

namespace Gateway.Actors.Connections;

/// <summary>
/// The upstream leg of a proxied WebSocket: sends the upgrade request upstream, reports the answer to
/// the host, then reads the upstream and writes to the client.
/// </summary>
/// <remarks>
/// Lifecycle:
/// 1. Pick a target and send the handshake (timed by the API's handshake timeout). A refused
///    connection moves on to the next target, because nothing was sent yet.
/// 2. Report to the host: accepted (101), rejected (any other status, relayed as it is) or failed, and
///    tell the circuit breaker how the call went.
/// 3. After a 101, wait for the host to upgrade the client and attach it.
/// 4. Hand the tunnel to the client leg and pump upstream to client until either side ends; close
///    both sides with 1001 if the connection stays idle past the idle timeout.
/// </remarks>
internal sealed class UpstreamLeg : TunnelLeg
{
    /// <summary>How long the host may take to upgrade the client after a 101 before the upstream is closed.</summary>
    private static readonly TimeSpan AttachTimeout = TimeSpan.FromSeconds(10);

    private static readonly HashSet<string> HopByHopResponseHeaders = new(StringComparer.OrdinalIgnoreCase)
    {
        "Connection", "Upgrade", "Keep-Alive", "Transfer-Encoding", "Content-Length", "Proxy-Connection", "TE", "Trailer",
    };

    private readonly Upstream _upstream;
    private UpgradeRequest? _request;
    private IActorRef _replyTo = ActorRefs.Nobody;
    private readonly List<Uri> _tried = new();
    private readonly int? _messagesPerSecond;
    private HttpResponseMessage? _response;
    private Stream? _upstreamStream;
    private Uri? _connectedTarget;
    private ICancelable? _idleChecks;

    /// <param name="messagesPerSecond">Messages the client may send per second; null for no limit.</param>
    public UpstreamLeg(string connectionId, Upstream upstream, IActorRef clientLeg, ConnectionStats stats, int? messagesPerSecond = null)
        : base(connectionId, stats)
    {
        _upstream = upstream;
        _messagesPerSecond = messagesPerSecond;
        Sibling = clientLeg;

        Receive<BeginHandshake>(begin =>
        {
            _request = begin.Request;
            _replyTo = Sender;
            SendToNextTarget();
        });
        Receive<HandshakeAnswered>(OnHandshakeAnswered);
        Receive<StopAndClose>(_ => { });
    }

    /// <summary>What the leg needs of its API: definition, HTTP client, targets and breaker.</summary>
    public sealed record Upstream(ApiDefinition Api, HttpMessageInvoker Invoker, TargetSelector Targets, CircuitBreaker? Breaker, BreakerPermit Permit);

    /// <summary>
    /// Starts the handshake and sends the outcome to the sender. The request travels in a message rather than
    /// in Props, because Props stay referenced for the actor's life and the headers are not needed
    /// after the 101.
    /// </summary>
    public sealed record BeginHandshake(UpgradeRequest Request);

    public static Props Props(string connectionId, Upstream upstream, IActorRef clientLeg, ConnectionStats stats, int? messagesPerSecond = null) =>
        Akka.Actor.Props.Create(() => new UpstreamLeg(connectionId, upstream, clientLeg, stats, messagesPerSecond));

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

    protected override void PostStop()
    {
        _idleChecks?.Cancel();
        base.PostStop();
        if (Tunnel is null)
        {
            _upstreamStream?.Dispose();
            _response?.Dispose();
        }

        if (_connectedTarget is not null)
        {
            _upstream.Targets.ConnectionClosed(_connectedTarget);
        }
    }

    private void SendToNextTarget()
    {
        // 1. Pick a target and send the handshake; its outcome arrives as a message.
        var request = _request!;
        var target = _upstream.Targets.Pick(_tried, request.Preference);
        if (target is null)
        {
            var detail = _tried.Count == 0
                ? "every target failed recently and is skipped for now"
                : $"no target accepted a connection (tried {string.Join(", ", _tried)})";
            Fail(new HandshakeFailed(ForwardingOutcome.AllTargetsDown, detail, BeforeSending: true));
            return;
        }

        _tried.Add(target);
        var uri = TargetAddress.Build(_upstream.Api, target, request.RequestPath, request.Query);
        Stats.Upstream = uri;
        SendHandshakeAsync(_upstream.Invoker, uri, request, _upstream.Api.Timeouts.Handshake).PipeTo(Self);
    }

    private void OnHandshakeAnswered(HandshakeAnswered answer)
    {
        // 2. Report the outcome to the host and to the breaker.
        switch (answer)
        {
            case HandshakeSwitched switched:
                _upstream.Breaker?.Record(success: true, _upstream.Permit);
                _response = switched.Response;
                _upstreamStream = switched.Stream;
                _connectedTarget = _tried[^1];
                _upstream.Targets.ConnectionOpened(_connectedTarget);
                _replyTo.Tell(new UpstreamAccepted(ConnectionId, RelayedHeaders(switched.Response), Self, _connectedTarget));

                // The response stays referenced until the connection ends, because disposing it closes the
                // upstream. Its headers and the request's are not needed after the 101, so drop them now:
                // an idle connection then holds no handshake state.
                ForgetHandshake(switched.Response);

                // 3. Wait for the host to attach the upgraded client.
                Context.SetReceiveTimeout(AttachTimeout);
                Become(AwaitingClient);
                return;

            case HandshakeRejected rejected:
                _upstream.Breaker?.Record(success: (int)rejected.Response.StatusCode < 500, _upstream.Permit);
                Log.Info("Connection {ConnectionId}: upstream {Upstream} answered the upgrade with {StatusCode}; relaying it to the client",
                    ConnectionId, Stats.Upstream, (int)rejected.Response.StatusCode);
                _replyTo.Tell(new UpstreamRejected(ConnectionId, rejected.Response));
                break;

            case HandshakeFailed { BeforeSending: true } failed when _upstream.Targets.Targets.Count > 1:
                _upstream.Targets.MarkFailed(_tried[^1]);
                Log.Warning("Connection {ConnectionId}: target {Upstream} failed before the upgrade was sent ({Detail}); skipping it for {SkipSeconds} s",
                    ConnectionId, _tried[^1], failed.Detail, _upstream.Api.ResilienceOrDefault.SkipFailedTargetFor.TotalSeconds);
                SendToNextTarget();
                return;

            case HandshakeFailed failed:
                Fail(failed);
                return;
        }

        Sibling.Tell(PeerFinished.Instance);
        Context.Stop(Self);
    }

    private void Fail(HandshakeFailed failed)
    {
        _upstream.Breaker?.Record(success: false, _upstream.Permit);
        Log.Warning("Connection {ConnectionId}: upgrade to {Upstream} failed ({Outcome}): {Detail}",
            ConnectionId, Stats.Upstream, failed.Outcome, failed.Detail);
        _replyTo.Tell(new UpstreamFailed(ConnectionId, failed.Outcome, failed.Detail));
        Sibling.Tell(PeerFinished.Instance);
        Context.Stop(Self);
    }

    private void AwaitingClient()
    {
        Receive<AttachClient>(attach =>
        {
            // 4. Open the tunnel in both directions.
            Context.SetReceiveTimeout(null);
            var tunnel = new Tunnel(ConnectionId, attach.Client, _upstreamStream!, _response!, _upstream.Api.WebSocketLimits.MaxMessageSize, Stats)
            {
                ClientMessagesPerSecond = _messagesPerSecond,
            };
            Sibling.Tell(new StartPumping(tunnel));
            StartPump(tunnel);
            if (_upstream.Api.Timeouts.WebSocketIdle is { } idle)
            {
                var interval = TimeSpan.FromTicks(Math.Min(idle.Ticks / 4, TimeSpan.FromSeconds(1).Ticks));
                _idleChecks = Context.System.Scheduler.ScheduleTellRepeatedlyCancelable(interval, interval, Self, IdleCheck.Instance, Self);
            }
        });
        Receive<AbandonConnection>(_ => Abandon("the client upgrade failed"));
        Receive<ReceiveTimeout>(_ => Abandon($"the client was not attached within {AttachTimeout.TotalSeconds} s"));
        Receive<StopAndClose>(_ => Abandon("the gateway is closing connections"));
    }

    protected override void OnIdleCheck()
    {
        if (Tunnel is not { } tunnel || _upstream.Api.Timeouts.WebSocketIdle is not { } idle || tunnel.Activity.IdleFor < idle)
        {
            return;
        }

        _idleChecks?.Cancel();
        Log.Info("Connection {ConnectionId}: no traffic for {IdleSeconds} s; closing both sides with 1001", ConnectionId, idle.TotalSeconds);
        var stop = new StopAndClose(CloseCodes.GoingAway, "idle timeout");
        OnStopRequested(stop);
        Sibling.Tell(stop);
    }

    private void Abandon(string why)
    {
        Log.Debug("Connection {ConnectionId}: closing the upstream before the tunnel opened, because {Reason}", ConnectionId, why);
        Sibling.Tell(PeerFinished.Instance);
        Context.Stop(Self);
    }

    private void ForgetHandshake(HttpResponseMessage response)
    {
        response.Headers.Clear();
        response.Content.Headers.Clear();
        response.RequestMessage?.Dispose();
        response.RequestMessage = null;
        _request = null;
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

    private static async Task<HandshakeAnswered> SendHandshakeAsync(HttpMessageInvoker invoker, Uri target, UpgradeRequest request, TimeSpan timeout)
    {
        using var cancellation = new CancellationTokenSource(timeout);
        var message = new HttpRequestMessage(HttpMethod.Get, target)
        {
            Version = HttpVersion.Version11,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        foreach (var header in request.Headers)
        {
            message.Headers.TryAddWithoutValidation(header.Key, header.Value);
        }

        message.Headers.Host = request.PreservedHost ?? target.Authority;

        HttpResponseMessage response;
        try
        {
            response = await invoker.SendAsync(message, cancellation.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
            return new HandshakeFailed(ForwardingOutcome.UpstreamTimedOut, $"no answer to the upgrade within {timeout.TotalSeconds:0.###} s", BeforeSending: false);
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
            return new HandshakeFailed(ForwardingOutcome.UpstreamInvalidResponse, "the upstream answered 101 without 'Upgrade: websocket'", BeforeSending: false);
        }

        var stream = await response.Content.ReadAsStreamAsync(CancellationToken.None).ConfigureAwait(false);
        return new HandshakeSwitched(response, stream);
    }

    private static HandshakeFailed Classify(Exception error)
    {
        // SocketsHttpHandler reports its connect timeout as a cancellation wrapping a TimeoutException.
        if (error is OperationCanceledException { InnerException: TimeoutException })
        {
            return new HandshakeFailed(ForwardingOutcome.UpstreamTimedOut, "connecting to the upstream timed out", BeforeSending: true);
        }

        if (UpstreamTlsFailure.Describe(error) is { } tlsFailure)
        {
            return new HandshakeFailed(ForwardingOutcome.UpstreamTlsFailed, tlsFailure, BeforeSending: false);
        }

        if (error is HttpRequestException request)
        {
            var socketError = FindSocketError(request);
            return request.HttpRequestError switch
            {
                HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError =>
                    new HandshakeFailed(ForwardingOutcome.UpstreamUnreachable, socketError ?? request.Message, BeforeSending: true),
                HttpRequestError.InvalidResponse or HttpRequestError.ResponseEnded =>
                    new HandshakeFailed(ForwardingOutcome.UpstreamInvalidResponse, "the upstream's answer is not valid HTTP: " + request.Message, BeforeSending: false),
                HttpRequestError.SecureConnectionError =>
                    new HandshakeFailed(ForwardingOutcome.UpstreamUnreachable, "TLS to the upstream failed: " + (request.InnerException?.Message ?? request.Message), BeforeSending: true),
                _ => new HandshakeFailed(ForwardingOutcome.UpstreamUnreachable, socketError ?? request.Message, BeforeSending: false),
            };
        }

        return new HandshakeFailed(ForwardingOutcome.UpstreamUnreachable, error.Message, BeforeSending: false);
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

    private sealed record HandshakeFailed(ForwardingOutcome Outcome, string Detail, bool BeforeSending) : HandshakeAnswered;
}
