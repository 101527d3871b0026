using Akka.Actor;
using Gateway.Actors.Apis;
using Gateway.Actors.Configuration;
using Gateway.Actors.Limits;
using Gateway.Actors.Resilience;
using static Gateway.Actors.Connections.ConnectionProtocol;

namespace Gateway.Actors.Connections;

/// <summary>
/// Owns one API's WebSocket connections: admits upgrades, spawns a client leg and an upstream leg for
/// each, watches both, and logs one summary line when both have stopped.
/// </summary>
public sealed class ApiActor : ReceiveActor
{
    private readonly ApiDefinition _api;
    private readonly UpstreamConnector _connector;
    private readonly TargetSelector _targets;
    private readonly CircuitBreaker? _breaker;
    private readonly KeyConnectionCounts _keyConnections;
    private readonly Dictionary<string, LiveConnection> _connections = new();
    private readonly Dictionary<IActorRef, LiveConnection> _byLeg = new();
    private static readonly Serilog.ILogger SummaryLog = Serilog.Log.ForContext<ApiActor>();
    private bool _closing;
    private bool _retiring;

    public ApiActor(ApiDefinition api, UpstreamConnector connector, TargetSelector targets, CircuitBreaker? breaker, KeyConnectionCounts? keyConnections = null)
    {
        _api = api;
        _connector = connector;
        _targets = targets;
        _breaker = breaker;
        _keyConnections = keyConnections ?? new KeyConnectionCounts();

        Receive<OpenConnection>(Open);
        Receive<Terminated>(OnLegStopped);
        Receive<CloseConnections>(CloseAll);
        Receive<CloseKeyConnections>(CloseKey);
        Receive<GetConnections>(_ => Sender.Tell(ListConnections()));
        Receive<RetireWhenIdle>(_ =>
        {
            _retiring = true;
            StopIfRetiredAndIdle();
        });
    }

    public static Props Props(
        ApiDefinition api, UpstreamConnector connector, TargetSelector targets, CircuitBreaker? breaker, KeyConnectionCounts? keyConnections = null) =>
        Akka.Actor.Props.Create(() => new ApiActor(api, connector, targets, breaker, keyConnections));

    /// <summary>Props with a plain round-robin selector and no breaker, for an API defined in a test.</summary>
    public static Props Props(ApiDefinition api, UpstreamConnector connector) =>
        Props(api, connector, new TargetSelector(api.TargetUrls, LoadBalancing.RoundRobin, TimeSpan.FromSeconds(10)), null);

    // A failed leg has lost its socket, so restarting it would only hide the failure: stop it, and the
    // DeathWatch below ends the connection cleanly.
    protected override SupervisorStrategy SupervisorStrategy() => Akka.Actor.SupervisorStrategy.StoppingStrategy;

    private void Open(OpenConnection open)
    {
        if (_closing)
        {
            Sender.Tell(new ConnectionRefused(open.ConnectionId, ForwardingOutcome.ShuttingDown, "the gateway is shutting down"));
            return;
        }

        if (_api.WebSocketLimits.MaxConnections is { } max && _connections.Count >= max)
        {
            Sender.Tell(new ConnectionRefused(
                open.ConnectionId,
                ForwardingOutcome.ConnectionLimitReached,
                $"the API already has {max} live WebSocket connections, its max-connections limit"));
            return;
        }

        var keyId = open.Access?.KeyId;
        if (keyId is not null && !_keyConnections.TryAdd(keyId, open.Access!.MaxConnectionsPerKey))
        {
            Sender.Tell(new ConnectionRefused(
                open.ConnectionId,
                ForwardingOutcome.ConnectionLimitReached,
                $"key {keyId} already has {open.Access.MaxConnectionsPerKey} live WebSocket connections, its max-connections limit"));
            return;
        }

        // The breaker is asked last, so a refusal above never spends its half-open trial.
        var permit = _breaker?.TryAcquire() ?? BreakerPermit.Granted;
        if (!permit.Allowed)
        {
            if (keyId is not null)
            {
                _keyConnections.Remove(keyId);
            }

            Sender.Tell(new ConnectionRefused(
                open.ConnectionId,
                ForwardingOutcome.CircuitOpen,
                $"its circuit breaker is open after repeated upstream failures; retry in {Math.Ceiling(permit.RetryAfter.TotalSeconds)} s"));
            return;
        }

        var messagesPerSecond = Min(_api.WebSocketLimits.MessagesPerSecond, open.Access?.MessagesPerSecond);
        var stats = new ConnectionStats();
        var clientLeg = Context.ActorOf(ClientLeg.Props(open.ConnectionId, stats), $"client-{open.ConnectionId}");
        var upstream = new UpstreamLeg.Upstream(_api, _connector, _targets, _breaker, permit);
        var upstreamLeg = Context.ActorOf(
            UpstreamLeg.Props(open.ConnectionId, upstream, clientLeg, stats, messagesPerSecond),
            $"upstream-{open.ConnectionId}");
        upstreamLeg.Tell(new UpstreamLeg.BeginHandshake(open.Request), Sender);
        Context.Watch(clientLeg);
        Context.Watch(upstreamLeg);

        // The record lives as long as the connection, so it keeps no copy of the handshake headers.
        var kept = open with { Request = open.Request with { Headers = Array.Empty<KeyValuePair<string, string[]>>() } };
        var connection = new LiveConnection(kept, stats, DateTimeOffset.UtcNow, clientLeg, upstreamLeg);
        _connections.Add(open.ConnectionId, connection);
        _byLeg.Add(clientLeg, connection);
        _byLeg.Add(upstreamLeg, connection);
    }

    private void StopIfRetiredAndIdle()
    {
        if (_retiring && _connections.Count == 0)
        {
            Context.Stop(Self);
        }
    }

    private void OnLegStopped(Terminated terminated)
    {
        if (!_byLeg.Remove(terminated.ActorRef, out var connection))
        {
            return;
        }

        connection.LiveLegs--;
        if (connection.LiveLegs > 0)
        {
            return;
        }

        _connections.Remove(connection.Open.ConnectionId);
        StopIfRetiredAndIdle();
        if (connection.Open.Access?.KeyId is { } keyId)
        {
            _keyConnections.Remove(keyId);
        }

        var summary = Summarize(connection);
        if (summary.BytesToClient + summary.BytesToUpstream > 0 || summary.ClosedBy.Length > 0)
        {
            // Serilog directly: Akka's logging adapter takes at most six template arguments.
            SummaryLog.Information(
                "WebSocket {ConnectionId} on {ApiId} from {ClientAddress} to {Upstream} closed by {ClosedBy} after {DurationMs} ms: " +
                "{BytesToUpstream} bytes in {FramesToUpstream} frames ({MessagesToUpstream} messages) up, " +
                "{BytesToClient} bytes in {FramesToClient} frames ({MessagesToClient} messages) down, " +
                "close codes client {ClientCloseCode} upstream {UpstreamCloseCode} gateway {GatewayCloseCode}",
                summary.ConnectionId, summary.ApiId, summary.ClientAddress, summary.Upstream, summary.ClosedBy, (long)summary.Duration.TotalMilliseconds,
                summary.BytesToUpstream, summary.FramesToUpstream, summary.MessagesToUpstream,
                summary.BytesToClient, summary.FramesToClient, summary.MessagesToClient,
                summary.ClientCloseCode, summary.UpstreamCloseCode, summary.GatewayCloseCode);
        }

        connection.Open.Completion.TrySetResult(summary);
    }

    private void CloseAll(CloseConnections close)
    {
        _closing = close.CloseCode is CloseCodes.GoingAway;
        foreach (var connection in _connections.Values)
        {
            var stop = new StopAndClose(close.CloseCode, close.Reason);
            connection.ClientLeg.Tell(stop);
            connection.UpstreamLeg.Tell(stop);
        }
    }

    private void CloseKey(CloseKeyConnections close)
    {
        var stop = new StopAndClose(close.CloseCode, close.Reason);
        foreach (var connection in _connections.Values.Where(connection => connection.Open.Access?.KeyId == close.KeyId))
        {
            connection.ClientLeg.Tell(stop);
            connection.UpstreamLeg.Tell(stop);
        }
    }

    private static int? Min(int? first, int? second) =>
        first is { } a && second is { } b ? Math.Min(a, b) : first ?? second;

    private ConnectionsListed ListConnections() => new(
        _api.Id,
        _connections.Values
            .Select(connection => new ConnectionInfo(
                connection.Open.ConnectionId,
                connection.Open.Request.ClientAddress,
                connection.Stats.Upstream,
                connection.OpenedAt))
            .ToArray(),
        Context.GetChildren().Count());

    private ConnectionSummary Summarize(LiveConnection connection)
    {
        var stats = connection.Stats;
        return new ConnectionSummary(
            _api.Id,
            connection.Open.ConnectionId,
            connection.Open.Request.ClientAddress,
            connection.Stats.Upstream,
            DateTimeOffset.UtcNow - connection.OpenedAt,
            stats.BytesToUpstream,
            stats.BytesToClient,
            stats.FramesToUpstream,
            stats.FramesToClient,
            stats.MessagesToUpstream,
            stats.MessagesToClient,
            stats.ClientCloseCode,
            stats.UpstreamCloseCode,
            stats.GatewayCloseCode,
            stats.ClosedBy);
    }

    private sealed class LiveConnection
    {
        public LiveConnection(OpenConnection open, ConnectionStats stats, DateTimeOffset openedAt, IActorRef clientLeg, IActorRef upstreamLeg)
        {
            Open = open;
            Stats = stats;
            OpenedAt = openedAt;
            ClientLeg = clientLeg;
            UpstreamLeg = upstreamLeg;
        }

        public OpenConnection Open { get; }
        public ConnectionStats Stats { get; }
        public DateTimeOffset OpenedAt { get; }
        public IActorRef ClientLeg { get; }
        public IActorRef UpstreamLeg { get; }
        public int LiveLegs { get; set; } = 2;
    }
}
