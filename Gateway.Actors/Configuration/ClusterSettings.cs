namespace Gateway.Actors.Configuration;

/// <summary>
/// The validated <c>gateway.cluster</c> section. <see cref="SeedNodes"/> are "host:port" pairs of
/// Akka.Remote addresses.
/// </summary>
public sealed record ClusterSettings(
    bool Enabled,
    string Hostname,
    int Port,
    string? PublicHostname,
    IReadOnlyList<string> SeedNodes,
    TimeSpan DownUnreachableAfter,
    TimeSpan FlushInterval)
{
    public static readonly ClusterSettings Disabled = new(false, "127.0.0.1", 4053, null, Array.Empty<string>(), TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(200));
}
