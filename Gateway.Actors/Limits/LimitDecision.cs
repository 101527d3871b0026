namespace Gateway.Actors.Limits;

/// <summary>Which limit rejected a request.</summary>
public enum LimitKind
{
    None,
    KeyRate,
    ApiRate,
    KeyQuota,
    ApiQuota,
}

/// <summary>
/// Result of checking a request against its rate limits and quotas. On a rejection, <see cref="Limit"/>
/// is the permit count of the limit that was hit, and <see cref="RetryAfter"/> is when its window renews.
/// </summary>
public readonly record struct LimitDecision(LimitKind Rejected, int Limit, int Remaining, TimeSpan RetryAfter)
{
    public static readonly LimitDecision Allowed = new(LimitKind.None, 0, 0, TimeSpan.Zero);

    public bool IsAllowed => Rejected == LimitKind.None;

    public bool IsQuota => Rejected is LimitKind.KeyQuota or LimitKind.ApiQuota;
}
