namespace Gateway.Actors.Resilience;

/// <summary>How an API spreads connections over its targets.</summary>
public enum LoadBalancing
{
    RoundRobin,
    LeastConnections,
}

/// <summary>
/// Picks the upstream target for each request or connection: round-robin or fewest live WebSocket
/// connections, skipping a target that failed to connect until its skip time has passed. Thread-safe.
/// </summary>
public sealed class TargetSelector
{
    private readonly Uri[] _targets;
    private readonly long[] _liveConnections;
    private readonly long[] _downUntilTicks;
    private readonly LoadBalancing _strategy;
    private readonly TimeSpan _skipFailedFor;
    private readonly TimeProvider _time;
    private int _next = -1;

    public TargetSelector(IReadOnlyList<Uri> targets, LoadBalancing strategy, TimeSpan skipFailedFor, TimeProvider? time = null)
    {
        _targets = targets.ToArray();
        _liveConnections = new long[_targets.Length];
        _downUntilTicks = new long[_targets.Length];
        _strategy = strategy;
        _skipFailedFor = skipFailedFor;
        _time = time ?? TimeProvider.System;
    }

    public IReadOnlyList<Uri> Targets => _targets;

    /// <summary>
    /// Picks a target not in <paramref name="tried"/> and not skipped after a failure; null when none is
    /// left. A <paramref name="preference"/> wins while its target is usable.
    /// </summary>
    public Uri? Pick(IReadOnlyCollection<Uri>? tried = null, TargetPreference? preference = null)
    {
        var now = _time.GetUtcNow().UtcTicks;
        if (preference?.Target is { } preferred)
        {
            var index = Array.IndexOf(_targets, preferred);
            if (index >= 0 && Usable(index, now, tried))
            {
                return preferred;
            }
        }

        if (preference?.HashKey is { } key)
        {
            Uri? heaviest = null;
            ulong heaviestWeight = 0;
            for (var index = 0; index < _targets.Length; index++)
            {
                var weight = AffinityTokens.Weight(key, _targets[index]);
                if (Usable(index, now, tried) && (heaviest is null || weight > heaviestWeight))
                {
                    heaviest = _targets[index];
                    heaviestWeight = weight;
                }
            }

            return heaviest;
        }

        if (_strategy == LoadBalancing.LeastConnections)
        {
            Uri? best = null;
            var bestCount = long.MaxValue;
            var start = (int)((uint)Interlocked.Increment(ref _next) % (uint)_targets.Length);
            for (var offset = 0; offset < _targets.Length; offset++)
            {
                var index = (start + offset) % _targets.Length;
                var count = Interlocked.Read(ref _liveConnections[index]);
                if (Usable(index, now, tried) && count < bestCount)
                {
                    best = _targets[index];
                    bestCount = count;
                }
            }

            return best;
        }

        for (var attempt = 0; attempt < _targets.Length; attempt++)
        {
            var index = (int)((uint)Interlocked.Increment(ref _next) % (uint)_targets.Length);
            if (Usable(index, now, tried))
            {
                return _targets[index];
            }
        }

        return null;
    }

    /// <summary>Skips <paramref name="target"/> for the configured time, because connecting to it failed.</summary>
    public void MarkFailed(Uri target)
    {
        var index = Array.IndexOf(_targets, target);
        if (index >= 0)
        {
            Interlocked.Exchange(ref _downUntilTicks[index], (_time.GetUtcNow() + _skipFailedFor).UtcTicks);
        }
    }

    public void ConnectionOpened(Uri target) => Adjust(target, 1);

    public void ConnectionClosed(Uri target) => Adjust(target, -1);

    public long LiveConnections(Uri target)
    {
        var index = Array.IndexOf(_targets, target);
        return index >= 0 ? Interlocked.Read(ref _liveConnections[index]) : 0;
    }

    private bool Usable(int index, long now, IReadOnlyCollection<Uri>? tried) =>
        Interlocked.Read(ref _downUntilTicks[index]) <= now && (tried is null || !tried.Contains(_targets[index]));

    private void Adjust(Uri target, int delta)
    {
        var index = Array.IndexOf(_targets, target);
        if (index >= 0)
        {
            Interlocked.Add(ref _liveConnections[index], delta);
        }
    }
}
