namespace Gateway.Tests.Support;

/// <summary>
/// Tests that measure a rate over seconds or the test process's managed heap. They run alone, after
/// the parallel tests, because other gateways in the process delay timers by hundreds of milliseconds
/// and allocate on the same heap.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TimingCollection
{
    public const string Name = "timing";
}
