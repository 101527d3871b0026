namespace Gateway.Actors.Connections;

/// <summary>What each direction of one connection carried, as its legs record it when they finish.</summary>
internal sealed class ConnectionStats
{
    private int _closedBy;

    public long BytesToUpstream { get; set; }
    public long BytesToClient { get; set; }
    public long FramesToUpstream { get; set; }
    public long FramesToClient { get; set; }
    public long MessagesToUpstream { get; set; }
    public long MessagesToClient { get; set; }
    public int? ClientCloseCode { get; set; }
    public string? ClientCloseReason { get; set; }
    public int? UpstreamCloseCode { get; set; }
    public string? UpstreamCloseReason { get; set; }
    public int? GatewayCloseCode { get; set; }

    /// <summary>The upstream URI the upgrade went to; null until the upstream leg picked a target.</summary>
    public Uri? Upstream { get; set; }

    /// <summary>
    /// Who ended the connection: the first to send a close frame, or else the first side to drop its
    /// TCP connection; "gateway" when the gateway closed it. Empty until one did.
    /// </summary>
    public string ClosedBy => _closedBy switch
    {
        1 => "client",
        2 => "upstream",
        3 => "gateway",
        _ => "",
    };

    /// <summary>Records who ended the connection, unless someone already did.</summary>
    public void MarkClosedBy(string who)
    {
        var value = who switch
        {
            "client" => 1,
            "upstream" => 2,
            _ => 3,
        };
        Interlocked.CompareExchange(ref _closedBy, value, 0);
    }
}

/// <summary>The summary of one proxied WebSocket connection, logged and returned when it ends.</summary>
public sealed record ConnectionSummary(
    string ApiId,
    string ConnectionId,
    string ClientAddress,
    Uri? Upstream,
    TimeSpan Duration,
    long BytesToUpstream,
    long BytesToClient,
    long FramesToUpstream,
    long FramesToClient,
    long MessagesToUpstream,
    long MessagesToClient,
    int? ClientCloseCode,
    int? UpstreamCloseCode,
    int? GatewayCloseCode,
    string ClosedBy);
