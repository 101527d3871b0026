using System.Threading.RateLimiting;
using Gateway.Actors.Configuration;
using Gateway.Actors.Keys;

namespace Gateway.Actors.Limits;

/// <summary>
/// The rate limits and quotas of every key and API on this node, as fixed-window limiters from
/// System.Threading.RateLimiting. A request, or a WebSocket upgrade, takes one permit from each limit
/// that applies; frames of an open WebSocket take none. Thread-safe.
/// </summary>
/// <remarks>
/// Limiters are partitioned by key id (or API id) and the policy's revision, so an updated key starts
/// with fresh limiters of its new size, and idle partitions are dropped by the library. A window starts
/// when its partition is first used.
/// NOTE: counters live on this node only and start empty after a restart; a cluster would give each
/// node its share of the budget.
/// </remarks>
public sealed class RequestLimiters : IDisposable
{
    private readonly PartitionedRateLimiter<Window> _limiters = PartitionedRateLimiter.Create<Window, string>(window =>
        RateLimitPartition.GetFixedWindowLimiter(window.Partition, _ => new FixedWindowRateLimiterOptions
        {
            PermitLimit = window.Permits,
            Window = window.Length,
            QueueLimit = 0,
            AutoReplenishment = true,
        }));

    /// <summary>
    /// Takes one permit from each limit of <paramref name="api"/> and <paramref name="key"/>, rate limits
    /// first, and returns the first rejection, if any. Permits taken before a rejection stay taken.
    /// </summary>
    public LimitDecision Acquire(ApiDefinition api, KeyRecord? key)
    {
        var windows = new List<(LimitKind Kind, Window Window)>(4);
        if (key?.Policy is { Rate: { } keyRate } keyPolicy)
        {
            windows.Add((LimitKind.KeyRate, new Window($"key-rate:{key.Id}:{key.Revision}", keyRate, keyPolicy.Per)));
        }

        if (api.RateLimit is { } apiRate)
        {
            windows.Add((LimitKind.ApiRate, new Window($"api-rate:{api.Id}:{apiRate.Rate}:{apiRate.Per.Ticks}", apiRate.Rate, apiRate.Per)));
        }

        if (key?.Policy is { QuotaMax: { } quotaMax } quotaPolicy)
        {
            windows.Add((LimitKind.KeyQuota, new Window($"key-quota:{key.Id}:{key.Revision}", quotaMax, quotaPolicy.QuotaRenewalRate)));
        }

        if (api.Quota is { } apiQuota)
        {
            windows.Add((LimitKind.ApiQuota, new Window($"api-quota:{api.Id}:{apiQuota.Max}:{apiQuota.RenewalRate.Ticks}", apiQuota.Max, apiQuota.RenewalRate)));
        }

        foreach (var (kind, window) in windows)
        {
            using var lease = _limiters.AttemptAcquire(window);
            if (lease.IsAcquired)
            {
                continue;
            }

            var retryAfter = lease.TryGetMetadata(MetadataName.RetryAfter, out var after) ? after : window.Length;
            return new LimitDecision(kind, window.Permits, 0, retryAfter);
        }

        return LimitDecision.Allowed;
    }

    public void Dispose() => _limiters.Dispose();

    private sealed record Window(string Partition, int Permits, TimeSpan Length);
}
