namespace Gateway.Bench.Scenarios;

/// <summary>The figures of one case, and the first error of a case that counts failures instead of stopping at one.</summary>
public sealed record ScenarioResult(Dictionary<string, double> Metrics, string? FirstError = null);
