namespace Gateway.Actors.Configuration;

/// <summary>The validated <c>gateway</c> section of the configuration.</summary>
public sealed record GatewaySettings(
    IReadOnlyList<ListenerSettings> Listeners,
    bool EnableWebSockets,
    AdminSettings Admin,
    EchoUpstreamSettings EchoUpstream,
    TimeSpan DrainTimeout,
    IReadOnlyList<ApiDefinition> Apis);

/// <summary>One client listener; <paramref name="Tls"/> is null for plain HTTP.</summary>
public sealed record ListenerSettings(string Host, int Port, ListenerTls? Tls = null);

/// <summary>The admin listener and the bearer secret its requests must carry.</summary>
public sealed record AdminSettings(bool Enabled, string Host, int Port, string? Secret);

/// <summary>The built-in echo server used as the quick start's upstream.</summary>
public sealed record EchoUpstreamSettings(bool Enabled, string Host, int Port);
