using Gateway.Actors.Resilience;
using Gateway.Tests.Support;

namespace Gateway.Tests.Resilience;

public sealed class TargetSelectorTests
{
    private static readonly Uri[] Targets = { new("ws://one/"), new("ws://two/"), new("ws://three/") };

    [Fact]
    public void RoundRobin_CyclesThroughTargets()
    {
        var selector = new TargetSelector(Targets, LoadBalancing.RoundRobin, TimeSpan.FromSeconds(10));

        var picked = Enumerable.Range(0, 6).Select(_ => selector.Pick()!.Host).ToArray();

        Assert.Equal(new[] { "one", "two", "three", "one", "two", "three" }, picked);
    }

    [Fact]
    public void FailedTarget_SkippedUntilSkipTimePasses()
    {
        var time = new ManualTime();
        var selector = new TargetSelector(Targets, LoadBalancing.RoundRobin, TimeSpan.FromSeconds(10), time);

        selector.MarkFailed(Targets[1]);
        var whileDown = Enumerable.Range(0, 6).Select(_ => selector.Pick()!.Host).ToHashSet();
        time.Advance(TimeSpan.FromSeconds(10));
        var afterwards = Enumerable.Range(0, 6).Select(_ => selector.Pick()!.Host).ToHashSet();

        Assert.DoesNotContain("two", whileDown);
        Assert.Contains("two", afterwards);
    }

    [Fact]
    public void Pick_ExcludesTriedTargets()
    {
        var selector = new TargetSelector(Targets, LoadBalancing.RoundRobin, TimeSpan.FromSeconds(10));

        Assert.Equal(Targets[2], selector.Pick(new[] { Targets[0], Targets[1] }));
        Assert.Null(selector.Pick(Targets));
    }

    [Fact]
    public void LeastConnections_PicksEmptiestTarget()
    {
        var selector = new TargetSelector(Targets, LoadBalancing.LeastConnections, TimeSpan.FromSeconds(10));
        selector.ConnectionOpened(Targets[0]);
        selector.ConnectionOpened(Targets[0]);
        selector.ConnectionOpened(Targets[2]);

        Assert.Equal(Targets[1], selector.Pick());
        selector.ConnectionOpened(Targets[1]);
        selector.ConnectionOpened(Targets[1]);
        Assert.Equal(Targets[2], selector.Pick());
    }
}
