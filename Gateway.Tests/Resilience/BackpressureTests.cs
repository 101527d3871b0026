using Gateway.Tests.Support;

namespace Gateway.Tests.Resilience;

/// <summary>
/// A client that stops reading stalls its upstream instead of filling the gateway's memory. It runs
/// in the serial collection, because it measures the whole test process's managed heap.
/// </summary>
[Collection(TimingCollection.Name)]
public sealed class BackpressureTests
{
    [Fact]
    public async Task StalledClient_StallsFloodingUpstreamWithinBoundedMemory()
    {
        await using var upstream = RawUpstream.Start();
        await using var gateway = await TestGateway.StartWithApiAsync(upstream.WsUri());
        using var cancellation = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        using var tunnel = await upstream.OpenThroughAsync(gateway, "/echo/", cancellationToken: cancellation.Token);
        var accepted = tunnel.Upstream;
        var frame = RawWebSocket.Frame(0x2, new byte[64 * 1024]);
        const long flood = 1L << 30;
        GC.Collect();
        var heapBefore = GC.GetTotalMemory(forceFullCollection: true);

        // The upstream writes until 1 GiB is out or a write stays blocked for 2 s, which is the stall.
        long written = 0;
        while (written < flood)
        {
            using var stall = CancellationTokenSource.CreateLinkedTokenSource(cancellation.Token);
            stall.CancelAfter(TimeSpan.FromSeconds(2));
            try
            {
                await accepted.Stream.WriteAsync(frame, stall.Token);
            }
            catch (OperationCanceledException) when (!cancellation.IsCancellationRequested)
            {
                break;
            }

            written += frame.Length;
        }

        var heapAfter = GC.GetTotalMemory(forceFullCollection: true);

        Assert.True(written < 64L * 1024 * 1024, $"the upstream wrote {written >> 20} MiB before stalling: the gateway is buffering");
        Assert.True(heapAfter - heapBefore < 16L * 1024 * 1024,
            $"the managed heap grew by {(heapAfter - heapBefore) >> 20} MiB while the client was not reading");
    }
}
