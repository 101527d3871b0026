namespace Gateway.Actors.Connections;

/// <summary>
/// The upgrade request to send upstream, already routed and with its headers prepared by the host:
/// hop-by-hop headers removed, <c>Host</c> and <c>X-Forwarded-*</c> set.
/// </summary>
public sealed record UpgradeRequest(
    Uri Target,
    IReadOnlyList<KeyValuePair<string, string[]>> Headers,
    string ClientAddress);
