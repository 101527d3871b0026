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
    }

    protected override void OnReceive(object message)
    {
        switch (message)
        {
            case BeginHandshake begin:
                _request = begin.Request;
                _replyTo = Sender;
                SendToNextTarget();
                break;
            case HandshakeAnswer answer:
                OnHandshakeAnswered(answer);
                break;
            case StopAndClose:
                break;
            default:
                Unhandled(message);
                break;
        }
    }

    /// <summary>What the leg needs of its API: definition, connector, targets and breaker.</summary>
    public sealed record Upstream(ApiDefinition Api, UpstreamConnector Connector, TargetSelector Targets, CircuitBreaker? Breaker, BreakerPermit Permit);

    /// <summary>
    /// Starts the handshake and sends the outcome to the sender. The request travels in a message rather than
    /// in Props, because Props stay referenced for the actor's life and the headers are not needed
    /// after the 101.
    /// </summary>
    public sealed record BeginHandshake(UpgradeRequest Request);

    public static Props Props(string connectionId, Upstream upstream, IActorRef clientLeg, ConnectionStats stats, int? messagesPerSecond = null) =>
        Akka.Actor.Props.Create(() => new UpstreamLeg(connectionId, upstream, clientLeg, stats, messagesPerSecond)).WithMailbox(TunnelMailbox.Id);

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
        UpstreamHandshake.SendAsync(_upstream.Connector, uri, request, _upstream.Api.Timeouts.Handshake).PipeTo(Self);
    }

    private void OnHandshakeAnswered(HandshakeAnswer answer)
    {
        // 2. Report the outcome to the host and to the breaker.
        switch (answer)
        {
            case HandshakeSwitched switched:
                _upstream.Breaker?.Record(success: true, _upstream.Permit);
                _upstreamStream = switched.Stream;
                _connectedTarget = _tried[^1];
                _upstream.Targets.ConnectionOpened(_connectedTarget);
                _replyTo.Tell(new UpstreamAccepted(ConnectionId, RelayedHeaders(switched.Headers), Self, _connectedTarget));

                // The request's headers are not needed after the 101, so an idle connection keeps no handshake state.
                _request = null;

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

    private void AwaitingClient(object message)
    {
        switch (message)
        {
            case AttachClient attach:
                OpenTunnel(attach);
                break;
            case AbandonConnection:
                Abandon("the client upgrade failed");
                break;
            case ReceiveTimeout:
                Abandon($"the client was not attached within {AttachTimeout.TotalSeconds} s");
                break;
            case StopAndClose:
                Abandon("the gateway is closing connections");
                break;
            default:
                Unhandled(message);
                break;
        }
    }

    private void OpenTunnel(AttachClient attach)
    {
        // 4. Open the tunnel in both directions.
        Context.SetReceiveTimeout(null);
        var tunnel = new Tunnel(ConnectionId, attach.Client, _upstreamStream!, _upstream.Api.WebSocketLimits.MaxMessageSize, Stats)
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

    private static IReadOnlyList<KeyValuePair<string, string[]>> RelayedHeaders(IReadOnlyList<KeyValuePair<string, string>> response)
    {
        // A header that came on several lines is relayed with all its values, in the order they came.
        var headers = new List<KeyValuePair<string, string[]>>();
        foreach (var group in response.Where(header => !HopByHopResponseHeaders.Contains(header.Key))
                     .GroupBy(header => header.Key, StringComparer.OrdinalIgnoreCase))
        {
            headers.Add(new(group.Key, group.Select(header => header.Value).ToArray()));
        }

        return headers;
    }
}
