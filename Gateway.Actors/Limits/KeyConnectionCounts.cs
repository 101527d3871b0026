using System.Collections.Concurrent;

namespace Gateway.Actors.Limits;

/// <summary>
/// Live WebSocket connections per key on this node, across all APIs. In a cluster, a key's limit also
/// counts the connections the other nodes last reported through <see cref="ClusterUsage"/>. Thread-safe.
/// </summary>
public sealed class KeyConnectionCounts
{
    private readonly ConcurrentDictionary<string, int> _counts = new(StringComparer.Ordinal);
    private readonly ClusterUsage? _cluster;

    /// <param name="cluster">Connection counts of the other cluster nodes; null on a single node.</param>
    public KeyConnectionCounts(ClusterUsage? cluster = null) => _cluster = cluster;

    /// <summary>Returns this node's live connections of every key that has any.</summary>
    public IReadOnlyDictionary<string, int> Snapshot() => new Dictionary<string, int>(_counts, StringComparer.Ordinal);

    /// <summary>Counts one more connection for <paramref name="keyId"/> unless it already has <paramref name="max"/>.</summary>
    public bool TryAdd(string keyId, int? max)
    {
        while (true)
        {
            var current = _counts.GetValueOrDefault(keyId);
            if (max is { } limit && current + (_cluster?.RemoteConnections(keyId) ?? 0) >= limit)
            {
                return false;
            }

            if (current == 0 ? _counts.TryAdd(keyId, 1) : _counts.TryUpdate(keyId, current + 1, current))
            {
                return true;
            }
        }
    }

    public void Remove(string keyId)
    {
        while (_counts.TryGetValue(keyId, out var current))
        {
            if (current <= 1
                ? _counts.TryRemove(new KeyValuePair<string, int>(keyId, current))
                : _counts.TryUpdate(keyId, current - 1, current))
            {
                return;
            }
        }
    }

    public int Of(string keyId) => _counts.GetValueOrDefault(keyId);
}
