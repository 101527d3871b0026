namespace Gateway.Actors.Resilience;

/// <summary>State of a <see cref="CircuitBreaker"/>.</summary>
public enum BreakerState
{
    Closed,
    Open,
    HalfOpen,
}

/// <summary>The result of <see cref="CircuitBreaker.TryAcquire"/>.</summary>
public readonly record struct BreakerPermit(bool Allowed, bool IsTrial, TimeSpan RetryAfter)
{
    public static readonly BreakerPermit Granted = new(true, false, TimeSpan.Zero);
}

/// <summary>What a breaker shows in the admin status.</summary>
public sealed record BreakerSnapshot(BreakerState State, int Failures, int Samples, DateTimeOffset? OpenUntil);

/// <summary>
/// A circuit breaker over the last N upstream calls, with Tyk's semantics: it opens when the share of
/// failures among the last <c>samples</c> calls reaches the threshold, answers without calling the
/// upstream for the return-to-service time, then lets exactly one trial call through (half-open): a
/// success closes it, a failure opens it again.
/// </summary>
/// <remarks>
/// Polly's breaker samples over a time window with a minimum throughput; the configuration contract
/// promises a count of samples, so the arithmetic is here. It is thread-safe: the HTTP path and the
/// API actor both call it, each call holding a lock for a few field updates.
/// </remarks>
public sealed class CircuitBreaker
{
    private readonly object _gate = new();
    private readonly double _threshold;
    private readonly bool[] _window;
    private readonly TimeSpan _returnToService;
    private readonly TimeProvider _time;
    private readonly Action<BreakerState, BreakerSnapshot>? _onTransition;
    private int _count;
    private int _next;
    private int _failures;
    private BreakerState _state = BreakerState.Closed;
    private DateTimeOffset _openUntil;
    private bool _trialInFlight;

    /// <param name="threshold">Share of failures, above 0 and at most 1, that opens the breaker.</param>
    /// <param name="samples">How many of the latest calls the share is computed over.</param>
    /// <param name="returnToService">How long the breaker stays open before a trial.</param>
    /// <param name="onTransition">Called with the new state and the figures that caused it, inside the lock.</param>
    public CircuitBreaker(double threshold, int samples, TimeSpan returnToService, TimeProvider? time = null,
        Action<BreakerState, BreakerSnapshot>? onTransition = null)
    {
        _threshold = threshold;
        _window = new bool[samples];
        _returnToService = returnToService;
        _time = time ?? TimeProvider.System;
        _onTransition = onTransition;
    }

    /// <summary>Asks whether a call may go upstream now; a trial permit must be reported with <see cref="Record"/>.</summary>
    public BreakerPermit TryAcquire()
    {
        lock (_gate)
        {
            var now = _time.GetUtcNow();
            if (_state == BreakerState.Open && now >= _openUntil)
            {
                _trialInFlight = false;
                Transition(BreakerState.HalfOpen);
            }

            switch (_state)
            {
                case BreakerState.Closed:
                    return BreakerPermit.Granted;
                case BreakerState.Open:
                    return new BreakerPermit(false, false, _openUntil - now);
                default:
                    if (_trialInFlight)
                    {
                        return new BreakerPermit(false, false, TimeSpan.FromSeconds(1));
                    }

                    _trialInFlight = true;
                    return new BreakerPermit(true, true, TimeSpan.Zero);
            }
        }
    }

    /// <summary>Records the outcome of a call that <see cref="TryAcquire"/> allowed.</summary>
    public void Record(bool success, BreakerPermit permit)
    {
        lock (_gate)
        {
            if (_state == BreakerState.HalfOpen)
            {
                if (!permit.IsTrial)
                {
                    return;
                }

                _trialInFlight = false;
                if (success)
                {
                    ResetWindow();
                    Transition(BreakerState.Closed);
                }
                else
                {
                    Open();
                }

                return;
            }

            if (_state == BreakerState.Open)
            {
                // A call that started before the breaker opened; its outcome changes nothing now.
                return;
            }

            if (_count == _window.Length && _window[_next])
            {
                _failures--;
            }

            _window[_next] = !success; // true marks a failure
            _next = (_next + 1) % _window.Length;
            _count = Math.Min(_count + 1, _window.Length);
            if (!success)
            {
                _failures++;
            }

            if (_count == _window.Length && _failures >= _threshold * _window.Length)
            {
                Open();
            }
        }
    }

    public BreakerSnapshot Snapshot()
    {
        lock (_gate)
        {
            return new BreakerSnapshot(_state, _failures, _count, _state == BreakerState.Open ? _openUntil : null);
        }
    }

    private void Open()
    {
        _openUntil = _time.GetUtcNow() + _returnToService;
        Transition(BreakerState.Open);
        ResetWindow();
    }

    private void ResetWindow()
    {
        Array.Clear(_window);
        _count = 0;
        _next = 0;
        _failures = 0;
    }

    private void Transition(BreakerState state)
    {
        _state = state;
        _onTransition?.Invoke(state, new BreakerSnapshot(state, _failures, _count, state == BreakerState.Open ? _openUntil : null));
    }
}
