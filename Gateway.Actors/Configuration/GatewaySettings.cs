namespace Gateway.Actors.Configuration;

/// <summary>The validated <c>gateway</c> section of the configuration.</summary>
public sealed record GatewaySettings(
    IReadOnlyList<ListenerSettings> Listeners,
    bool EnableWebSockets,
    AdminSettings Admin,
    EchoUpstreamSettings EchoUpstream,
    TimeSpan DrainTimeout,
    IReadOnlyList<ApiDefinition> Apis)
{
    /// <summary>Directory of the key store and of the APIs created through the admin API.</summary>
    public string DataDirectory { get; init; } = "./data";

    public RequestLimits RequestLimits { get; init; } = new(32 * 1024, 8 * 1024);

    public ClusterSettings Cluster { get; init; } = ClusterSettings.Disabled;

    /// <summary>Most WebSocket connections proxied at once; null derives it from the open-file limit.</summary>
    public int? MaxWebSocketConnections { get; init; }
}

/// <summary>One client listener; <paramref name="Tls"/> is null for plain HTTP.</summary>
public sealed record ListenerSettings(string Host, int Port, ListenerTls? Tls = null);

/// <summary>The admin listener and the bearer secret its requests must carry.</summary>
public sealed record AdminSettings(bool Enabled, string Host, int Port, string? Secret);

/// <summary>The built-in echo server used as the quick start's upstream.</summary>
public sealed record EchoUpstreamSettings(bool Enabled, string Host, int Port);
