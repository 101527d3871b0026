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
/// In a cluster, rate limits take this node's share from <see cref="NodeShare"/> and quotas are counted
/// by an <see cref="IQuotaCounter"/> shared by every node.
/// NOTE: rate counters live on this node only and start empty after a restart.
/// </remarks>
public sealed class RequestLimiters : IDisposable
{
    private readonly NodeShare _share;
    private readonly IQuotaCounter? _quotas;

    private readonly PartitionedRateLimiter<Window> _limiters = PartitionedRateLimiter.Create<Window, string>(window =>
        RateLimitPartition.GetFixedWindowLimiter(window.Partition, _ => new FixedWindowRateLimiterOptions
        {
            PermitLimit = window.Permits,
            Window = window.Length,
            QueueLimit = 0,
            AutoReplenishment = true,
        }));

    /// <param name="share">This node's share of each rate; null keeps every rate whole.</param>
    /// <param name="quotas">Cluster-wide quota counter; null counts quotas on this node only.</param>
    public RequestLimiters(NodeShare? share = null, IQuotaCounter? quotas = null)
    {
        _share = share ?? new NodeShare();
        _quotas = quotas;
    }

    /// <summary>
    /// Takes one permit from each limit of <paramref name="api"/> and <paramref name="key"/>, rate limits
    /// first, and returns the first rejection, if any. Permits taken before a rejection stay taken.
    /// </summary>
    public LimitDecision Acquire(ApiDefinition api, KeyRecord? key)
    {
        var windows = new List<(LimitKind Kind, Window Window)>(4);
        if (key?.Policy is { Rate: { } keyRate } keyPolicy)
        {
            windows.Add((LimitKind.KeyRate, new Window($"key-rate:{key.Id}:{key.Revision}:{_share.Generation}", _share.Of(keyRate), keyPolicy.Per)));
        }

        if (api.RateLimit is { } apiRate)
        {
            windows.Add((LimitKind.ApiRate, new Window($"api-rate:{api.Id}:{apiRate.Rate}:{apiRate.Per.Ticks}:{_share.Generation}", _share.Of(apiRate.Rate), apiRate.Per)));
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
            if (_quotas is not null && kind is LimitKind.KeyQuota or LimitKind.ApiQuota)
            {
                var quota = _quotas.TryTake(window.Partition, window.Permits, window.Length);
                if (quota.IsAcquired)
                {
                    continue;
                }

                return new LimitDecision(kind, window.Permits, 0, quota.RetryAfter);
            }

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
