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
    WebSocketLimits WebSocketLimits)
{
    public AuthSettings Auth { get; init; } = AuthSettings.Keyless;

    /// <summary>The API-wide rate limit across all keys; null means none.</summary>
    public RateLimitSettings? RateLimit { get; init; }

    /// <summary>The API-wide quota across all keys; null means none.</summary>
    public QuotaSettings? Quota { get; init; }
}

/// <summary>Timeouts towards the upstream.</summary>
public sealed record ApiTimeouts(TimeSpan Connect, TimeSpan Handshake, TimeSpan Response);

/// <summary>Per-connection WebSocket limits; null means no limit.</summary>
public sealed record WebSocketLimits(long? MaxMessageSize, int? MaxConnections)
{
    /// <summary>Messages a client may send per second on one connection; faster reads are slowed down.</summary>
    public int? MessagesPerSecond { get; init; }
}
