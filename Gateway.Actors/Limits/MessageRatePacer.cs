using System.Threading.RateLimiting;

namespace Gateway.Actors.Limits;

/// <summary>
/// Holds one direction of a WebSocket to a message rate by delaying the next read until a permit is
/// free. Messages are never dropped: a fast sender waits, and TCP backpressure slows it down.
/// </summary>
/// <remarks>
/// A token bucket whose capacity is a tenth of a second's messages (at least one). Its initial burst
/// adds at most that many messages to any count, so 100 per second give 510 in five seconds, at an
/// even pace.
/// </remarks>
public sealed class MessageRatePacer : IDisposable
{
    private readonly TokenBucketRateLimiter _bucket;

    public MessageRatePacer(int messagesPerSecond)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(messagesPerSecond);
        MessagesPerSecond = messagesPerSecond;
        var tokensPerPeriod = Math.Max(1, messagesPerSecond / 10);
        _bucket = new TokenBucketRateLimiter(new TokenBucketRateLimiterOptions
        {
            TokenLimit = tokensPerPeriod,
            TokensPerPeriod = tokensPerPeriod,
            ReplenishmentPeriod = TimeSpan.FromSeconds((double)tokensPerPeriod / messagesPerSecond),
            QueueLimit = 1,
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
            AutoReplenishment = true,
        });
    }

    public int MessagesPerSecond { get; }

    /// <summary>Waits until one more message may pass. Completes at once while the bucket has tokens.</summary>
    public async ValueTask WaitForMessageAsync(CancellationToken cancellationToken)
    {
        using var lease = await _bucket.AcquireAsync(1, cancellationToken).ConfigureAwait(false);
    }

    public void Dispose() => _bucket.Dispose();
}
