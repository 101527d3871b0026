using System.Collections.Concurrent;

namespace Gateway.Actors.Limits;

/// <summary>Live WebSocket connections per key on this node, across all APIs. Thread-safe.</summary>
public sealed class KeyConnectionCounts
{
    private readonly ConcurrentDictionary<string, int> _counts = new(StringComparer.Ordinal);

    /// <summary>Counts one more connection for <paramref name="keyId"/> unless it already has <paramref name="max"/>.</summary>
    public bool TryAdd(string keyId, int? max)
    {
        while (true)
        {
            var current = _counts.GetValueOrDefault(keyId);
            if (max is { } limit && current >= limit)
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
