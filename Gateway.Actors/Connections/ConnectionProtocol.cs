using Akka.Actor;
using Akka.Event;

namespace Gateway.Actors.Connections;

/// <summary>Messages between the host, an API actor and the two legs of each proxied WebSocket.</summary>
public static class ConnectionProtocol
{
    /// <summary>
    /// Asks the API actor to admit an upgrade and send it upstream. The reply is one of
    /// <see cref="UpstreamAccepted"/>, <see cref="UpstreamRejected"/>, <see cref="UpstreamFailed"/> or
    /// <see cref="ConnectionRefused"/>. <paramref name="Completion"/> is completed with the summary when
    /// both legs have stopped.
    /// </summary>
    public sealed record OpenConnection(
        string ConnectionId,
        UpgradeRequest Request,
        TaskCompletionSource<ConnectionSummary> Completion,
        ConnectionAccess? Access = null);

    /// <summary>
    /// The key a connection was opened with and its per-connection limits. <paramref name="KeyId"/> is
    /// the key's public id; null for keyless APIs and for JWTs that name no key.
    /// </summary>
    public sealed record ConnectionAccess(string? KeyId, int? MaxConnectionsPerKey, int? MessagesPerSecond);

    /// <summary>
    /// Asks an API actor to end every live connection opened with key <paramref name="KeyId"/>, at a frame
    /// boundary, with <paramref name="CloseCode"/>.
    /// </summary>
    public sealed record CloseKeyConnections(string KeyId, int CloseCode, string Reason);

    /// <summary>
    /// The upstream answered 101. The host relays <paramref name="Headers"/> to the client, upgrades, and
    /// sends <see cref="AttachClient"/> to <paramref name="UpstreamLeg"/>. <paramref name="Target"/> is
    /// the target URL that answered, as configured, for session affinity.
    /// </summary>
    public sealed record UpstreamAccepted(
        string ConnectionId,
        IReadOnlyList<KeyValuePair<string, string[]>> Headers,
        IActorRef UpstreamLeg,
        Uri Target);

    /// <summary>
    /// The upstream answered something other than 101. The host relays the response as it is and disposes it.
    /// </summary>
    public sealed record UpstreamRejected(string ConnectionId, HttpResponseMessage Response);

    /// <summary>The upstream could not be reached or sent no valid response.</summary>
    public sealed record UpstreamFailed(string ConnectionId, ForwardingOutcome Outcome, string Detail);

    /// <summary>The API actor did not admit the connection; nothing was sent upstream.</summary>
    public sealed record ConnectionRefused(string ConnectionId, ForwardingOutcome Outcome, string Detail);

    /// <summary>The host upgraded the client connection; the tunnel can start.</summary>
    public sealed record AttachClient(string ConnectionId, IClientConnection Client);

    /// <summary>The host could not upgrade the client after a 101; the upstream side is closed.</summary>
    public sealed record AbandonConnection(string ConnectionId);

    /// <summary>
    /// Asks every live connection of the API to end with <paramref name="CloseCode"/> at a frame boundary
    /// in both directions.
    /// </summary>
    public sealed record CloseConnections(int CloseCode, string Reason);

    /// <summary>
    /// Tells an API actor that a newer definition replaced it: it admits no new connection and stops once
    /// its open connections have ended.
    /// </summary>
    public sealed record RetireWhenIdle;

    /// <summary>Asks an API actor for its live connections; the reply is <see cref="ConnectionsListed"/>.</summary>
    public sealed record GetConnections;

    public sealed record ConnectionsListed(string ApiId, IReadOnlyList<ConnectionInfo> Connections, int LiveActors);

    /// <remarks><paramref name="Upstream"/> is null while the upstream leg is still picking a target.</remarks>
    public sealed record ConnectionInfo(string ConnectionId, string ClientAddress, Uri? Upstream, DateTimeOffset OpenedAt);

    /// <summary>From the upstream leg to its client leg: both streams are ready, start pumping.</summary>
    internal sealed record StartPumping(Tunnel Tunnel);

    /// <summary>From a leg to itself: its pump ended.</summary>
    internal sealed record PumpEnded(PumpResult Result);

    /// <summary>From a leg to its sibling: it has stopped pumping and closed its destination.</summary>
    /// <remarks>The sibling may have stopped already, so this message is not logged as a dead letter.</remarks>
    internal sealed record PeerFinished : IDeadLetterSuppression
    {
        public static readonly PeerFinished Instance = new();
    }

    /// <summary>From a leg to its sibling: stop at the next frame boundary and send this close code.</summary>
    internal sealed record StopAndClose(int CloseCode, string Reason);

    /// <summary>From a leg to itself: the wait for the sibling to finish its close handshake is over.</summary>
    internal sealed record GraceExpired : IDeadLetterSuppression;
}
