namespace Gateway.Actors.Limits;

/// <summary>Counts quota use across every gateway node. Implementations must be thread-safe and must not block.</summary>
public interface IQuotaCounter
{
    /// <summary>
    /// Takes one unit of the quota <paramref name="partition"/>, which allows <paramref name="max"/> units
    /// per window of <paramref name="renewal"/>, unless the window's units are used up.
    /// </summary>
    QuotaResult TryTake(string partition, int max, TimeSpan renewal);
}

/// <summary>Result of <see cref="IQuotaCounter.TryTake"/>; <see cref="RetryAfter"/> is the time left in the window.</summary>
public readonly record struct QuotaResult(bool IsAcquired, TimeSpan RetryAfter);
