using Gateway.Actors.Resilience;

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
    UpstreamTls UpstreamTls,
    ApiResilience? Resilience = null)
{
    /// <summary>Load balancing and breaker settings; the defaults when the definition names none.</summary>
    public ApiResilience ResilienceOrDefault => Resilience ?? ApiResilience.Default;

    public AuthSettings Auth { get; init; } = AuthSettings.Keyless;

    /// <summary>The API-wide rate limit across all keys; null means none.</summary>
    public RateLimitSettings? RateLimit { get; init; }

    /// <summary>The API-wide quota across all keys; null means none.</summary>
    public QuotaSettings? Quota { get; init; }

    /// <summary>
    /// The configuration text the definition was read from, with the API defaults, so that a reload can
    /// tell a changed API from an unchanged one. Files the text names (certificates, keys) are not part
    /// of it: a changed certificate file with unchanged text needs a restart.
    /// </summary>
    public string Fingerprint { get; init; } = "";
}

/// <summary>Timeouts towards the upstream.</summary>
/// <remarks><paramref name="WebSocketIdle"/> null means an idle WebSocket is never closed by the gateway.</remarks>
public sealed record ApiTimeouts(TimeSpan Connect, TimeSpan Handshake, TimeSpan Response, TimeSpan? WebSocketIdle = null);

/// <summary>How the API spreads load over its targets, keeps clients on one, and when it stops calling them.</summary>
public sealed record ApiResilience(
    LoadBalancing LoadBalancing,
    TimeSpan SkipFailedTargetFor,
    BreakerSettings? CircuitBreaker,
    AffinitySettings? Affinity = null)
{
    public static readonly ApiResilience Default = new(LoadBalancing.RoundRobin, TimeSpan.FromSeconds(10), null);
}

/// <summary>Circuit breaker settings, with Tyk's meaning: a failure share over a count of samples.</summary>
public sealed record BreakerSettings(double Threshold, int Samples, TimeSpan ReturnToServiceAfter);

/// <summary>Per-connection WebSocket limits; null means no limit.</summary>
public sealed record WebSocketLimits(long? MaxMessageSize, int? MaxConnections)
{
    /// <summary>Messages a client may send per second on one connection; faster reads are slowed down.</summary>
    public int? MessagesPerSecond { get; init; }
}
