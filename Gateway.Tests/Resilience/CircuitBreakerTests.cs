using Gateway.Actors.Resilience;
using Gateway.Tests.Support;

namespace Gateway.Tests.Resilience;

public sealed class CircuitBreakerTests
{
    [Fact]
    public void FailureShare_OpensAfterFullWindow()
    {
        var breaker = new CircuitBreaker(0.5, 4, TimeSpan.FromSeconds(30), new ManualTime());

        Record(breaker, "FSS");
        Assert.Equal(BreakerState.Closed, breaker.Snapshot().State);
        Record(breaker, "F");

        Assert.Equal(BreakerState.Open, breaker.Snapshot().State);
        Assert.False(breaker.TryAcquire().Allowed);
    }

    [Fact]
    public void SuccessesBelowThreshold_KeepItClosed()
    {
        var breaker = new CircuitBreaker(0.5, 4, TimeSpan.FromSeconds(30), new ManualTime());

        Record(breaker, "SFSSSFSS");

        Assert.Equal(BreakerState.Closed, breaker.Snapshot().State);
    }

    [Fact]
    public void OldSamples_SlideOutOfWindow()
    {
        var breaker = new CircuitBreaker(0.75, 4, TimeSpan.FromSeconds(30), new ManualTime());

        Record(breaker, "FFSSS");
        Assert.Equal(1, breaker.Snapshot().Failures);
        Record(breaker, "FFF");

        Assert.Equal(BreakerState.Open, breaker.Snapshot().State);
    }

    [Fact]
    public void AfterReturnTime_OneTrialThenClosesOnSuccess()
    {
        var time = new ManualTime();
        var breaker = new CircuitBreaker(1, 2, TimeSpan.FromSeconds(30), time);
        Record(breaker, "FF");

        time.Advance(TimeSpan.FromSeconds(29));
        var early = breaker.TryAcquire();
        time.Advance(TimeSpan.FromSeconds(1));
        var trial = breaker.TryAcquire();
        var second = breaker.TryAcquire();
        breaker.Record(success: true, trial);

        Assert.False(early.Allowed);
        Assert.Equal(TimeSpan.FromSeconds(1), early.RetryAfter);
        Assert.True(trial.Allowed);
        Assert.True(trial.IsTrial);
        Assert.False(second.Allowed);
        Assert.Equal(BreakerState.Closed, breaker.Snapshot().State);
        Assert.True(breaker.TryAcquire().Allowed);
    }

    [Fact]
    public void FailedTrial_OpensAgain()
    {
        var time = new ManualTime();
        var breaker = new CircuitBreaker(1, 1, TimeSpan.FromSeconds(10), time);
        Record(breaker, "F");
        time.Advance(TimeSpan.FromSeconds(10));

        var trial = breaker.TryAcquire();
        breaker.Record(success: false, trial);

        Assert.Equal(BreakerState.Open, breaker.Snapshot().State);
        Assert.Equal(time.GetUtcNow() + TimeSpan.FromSeconds(10), breaker.Snapshot().OpenUntil);
    }

    /// <summary>Records calls in order: 'S' a success, 'F' a failure.</summary>
    private static void Record(CircuitBreaker breaker, string outcomes)
    {
        foreach (var outcome in outcomes)
        {
            breaker.Record(success: outcome == 'S', breaker.TryAcquire());
        }
    }
}
