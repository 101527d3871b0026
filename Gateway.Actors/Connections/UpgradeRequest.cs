namespace Gateway.Actors.Connections;

/// <summary>
/// The upgrade request to send upstream, as the host prepared it: hop-by-hop headers removed and
/// <c>X-Forwarded-*</c> set. The upstream leg picks the target, joins <paramref name="RequestPath"/>
/// to its path and sets <c>Host</c>: <paramref name="PreservedHost"/> when the API preserves the
/// client's Host header, the target's otherwise.
/// </summary>
/// <param name="RequestPath">The request path, percent-encoded as it came on the wire.</param>
/// <param name="Query">The raw query string, empty or starting with '?'.</param>
/// <param name="Preference">The target that session affinity asks for, if any.</param>
public sealed record UpgradeRequest(
    string RequestPath,
    string Query,
    IReadOnlyList<KeyValuePair<string, string[]>> Headers,
    string? PreservedHost,
    string ClientAddress,
    Resilience.TargetPreference? Preference = null);
