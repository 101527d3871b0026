namespace Gateway.Tests.Support;

/// <summary>
/// Tests that measure a rate over seconds. They run alone, after the parallel tests, because a test
/// process busy with other gateways delays timers by hundreds of milliseconds.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TimingCollection
{
    public const string Name = "timing";
}
