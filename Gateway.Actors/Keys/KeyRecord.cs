namespace Gateway.Actors.Keys;

/// <summary>
/// What a key may do. Every limit is optional: null means no limit of that kind, and an empty
/// <see cref="AccessRights"/> list means every API.
/// </summary>
public sealed record KeyPolicy(
    int? Rate,
    TimeSpan Per,
    int? QuotaMax,
    TimeSpan QuotaRenewalRate,
    DateTimeOffset? Expires,
    IReadOnlyList<string> AccessRights,
    int? MaxConnections,
    int? MessagesPerSecond)
{
    public bool Allows(string apiId) => AccessRights.Count == 0 || AccessRights.Contains(apiId);

    public bool IsExpired(DateTimeOffset now) => Expires is { } expires && expires <= now;
}

/// <summary>
/// A stored key: its public id, the SHA-256 hash of the key text (never the key itself) as lowercase
/// hex, and its policy. <see cref="Revision"/> grows with every update, so limiters built from an older
/// policy are not reused. The record contains nothing specific to one node, so it can be replicated.
/// </summary>
public sealed record KeyRecord(string Id, string Hash, KeyPolicy Policy, DateTimeOffset Created, long Revision);
