namespace Gateway.Actors.Configuration;

/// <summary>One proxied API: where it listens, where it forwards to, and its limits.</summary>
public sealed record ApiDefinition(
    string Id,
    string Name,
    string ListenPath,
    bool StripListenPath,
    IReadOnlyList<Uri> TargetUrls,
    bool PreserveHostHeader,
    ApiTimeouts Timeouts,
    WebSocketLimits WebSocketLimits,
    UpstreamTls UpstreamTls);

/// <summary>Timeouts towards the upstream.</summary>
public sealed record ApiTimeouts(TimeSpan Connect, TimeSpan Handshake, TimeSpan Response);

/// <summary>Per-connection WebSocket limits; null means no limit.</summary>
public sealed record WebSocketLimits(long? MaxMessageSize, int? MaxConnections);
