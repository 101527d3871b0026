using System.Collections.Concurrent;
using System.Collections.Immutable;

namespace Gateway.Actors.Limits;

/// <summary>
/// Quota use and live WebSockets per key, counted on this node and summed from the other cluster
/// nodes' last reports. It is the <see cref="IQuotaCounter"/> of a cluster node and the source of the
/// other nodes' connection counts for <see cref="KeyConnectionCounts"/>. Thread-safe.
/// </summary>
/// <remarks>
/// Quota windows are aligned on multiples of the renewal period since the Unix epoch, so every node
/// counts into the same window without agreeing on when it started. Other nodes' use arrives with a
/// delay of about one flush interval plus one replication step, so the cluster can admit up to
/// (nodes - 1) × (rate per node) × delay more than a quota allows; the cluster tests state the
/// overshoot they measured.
/// </remarks>
public sealed class ClusterUsage : IQuotaCounter
{
    private readonly ConcurrentDictionary<string, int> _localQuota = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, long> _windowEnds = new(StringComparer.Ordinal);
    private volatile RemoteCounts _remote = RemoteCounts.Empty;

    /// <inheritdoc />
    public QuotaResult TryTake(string partition, int max, TimeSpan renewal)
    {
        var now = DateTimeOffset.UtcNow;
        var window = now.UtcTicks / renewal.Ticks;
        var counter = $"{partition}@{window}";
        var retryAfter = TimeSpan.FromTicks((window + 1) * renewal.Ticks - now.UtcTicks);
        var remote = _remote.Quota.GetValueOrDefault(counter);
        _windowEnds.TryAdd(counter, (window + 1) * renewal.Ticks);
        while (true)
        {
            var local = _localQuota.GetValueOrDefault(counter);
            if (local + remote >= max)
            {
                return new QuotaResult(false, retryAfter);
            }

            if (local == 0 ? _localQuota.TryAdd(counter, 1) : _localQuota.TryUpdate(counter, local + 1, local))
            {
                return new QuotaResult(true, retryAfter);
            }
        }
    }

    /// <summary>Live WebSockets of <paramref name="keyId"/> on the other live nodes, as last reported.</summary>
    public int RemoteConnections(string keyId) => _remote.Connections.GetValueOrDefault(keyId);

    /// <summary>Returns this node's quota use per counter, dropping counters of windows that ended.</summary>
    public IReadOnlyDictionary<string, int> LocalQuotaUse()
    {
        var now = DateTimeOffset.UtcNow.UtcTicks;
        foreach (var (counter, end) in _windowEnds)
        {
            if (end <= now)
            {
                _windowEnds.TryRemove(counter, out _);
                _localQuota.TryRemove(counter, out _);
            }
        }

        return new Dictionary<string, int>(_localQuota, StringComparer.Ordinal);
    }

    /// <summary>Replaces the sums of the other nodes' reports.</summary>
    public void PublishRemote(ImmutableDictionary<string, int> quota, ImmutableDictionary<string, int> connections) =>
        _remote = new RemoteCounts(quota, connections);

    private sealed record RemoteCounts(ImmutableDictionary<string, int> Quota, ImmutableDictionary<string, int> Connections)
    {
        public static readonly RemoteCounts Empty = new(ImmutableDictionary<string, int>.Empty, ImmutableDictionary<string, int>.Empty);
    }
}
