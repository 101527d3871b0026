using Gateway.Actors.Connections;
using Gateway.Tests.Support;

namespace Gateway.Tests.Connections;

public sealed class FrameObserverTests
{
    private static readonly byte[] Mask = { 9, 8, 7, 6 };

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(1000)]
    public void SplitAnywhere_CountsFramesMessagesAndClose(int chunkSize)
    {
        var bytes = RawWebSocket.Frame(0x1, "one "u8, fin: false, mask: Mask)
            .Concat(RawWebSocket.Frame(0x9, "ping"u8, mask: Mask))
            .Concat(RawWebSocket.Frame(0x0, new byte[70000], fin: true, mask: Mask))
            .Concat(RawWebSocket.Frame(0x2, new byte[200], mask: Mask))
            .Concat(RawWebSocket.Frame(0x8, RawWebSocket.ClosePayload(4000, "bye ü"), mask: Mask))
            .ToArray();
        var observer = new FrameObserver();

        for (var offset = 0; offset < bytes.Length; offset += chunkSize)
        {
            var chunk = bytes.AsSpan(offset, Math.Min(chunkSize, bytes.Length - offset));
            Assert.Equal(chunk.Length, observer.Observe(chunk).Forward);
        }

        Assert.Equal(5, observer.Frames);
        Assert.Equal(2, observer.Messages);
        Assert.True(observer.CloseSeen);
        Assert.Equal(4000, observer.CloseCode);
        Assert.Equal("bye ü", observer.CloseReason);
        Assert.True(observer.AtFrameBoundary);
    }

    [Fact]
    public void HalfFrame_IsNotAtBoundary()
    {
        var frame = RawWebSocket.Frame(0x2, new byte[100]);
        var observer = new FrameObserver();

        observer.Observe(frame.AsSpan(0, 50));

        Assert.False(observer.AtFrameBoundary);
        observer.Observe(frame.AsSpan(50));
        Assert.True(observer.AtFrameBoundary);
    }

    [Fact]
    public void StopAtBoundary_ForwardsUpToEndOfCurrentFrame()
    {
        var first = RawWebSocket.Frame(0x2, new byte[10]);
        var second = RawWebSocket.Frame(0x2, new byte[10]);
        var observer = new FrameObserver();
        observer.Observe(first.AsSpan(0, 5));

        var result = observer.Observe(first.AsSpan(5).ToArray().Concat(second).ToArray(), stopAtBoundary: true);

        Assert.Equal(first.Length - 5, result.Forward);
        Assert.Equal(ObserveStop.AtBoundary, result.Stop);
    }

    [Fact]
    public void MessageOverLimit_StopsBeforeOffendingFrame()
    {
        var small = RawWebSocket.Frame(0x2, new byte[100], fin: false);
        var overflow = RawWebSocket.Frame(0x0, new byte[100], fin: true);
        var observer = new FrameObserver(maxMessageSize: 150);

        var result = observer.Observe(small.Concat(overflow).ToArray());

        Assert.Equal(ObserveStop.MessageTooBig, result.Stop);
        Assert.Equal(small.Length, result.Forward);
        Assert.True(result.EndsAtBoundary);
    }

    [Fact]
    public void ControlFrames_DoNotCountTowardsMessageSize()
    {
        var observer = new FrameObserver(maxMessageSize: 10);
        var bytes = RawWebSocket.Frame(0x1, new byte[8], fin: false)
            .Concat(RawWebSocket.Frame(0x9, new byte[100]))
            .Concat(RawWebSocket.Frame(0x0, new byte[2], fin: true))
            .ToArray();

        var result = observer.Observe(bytes);

        Assert.Equal(ObserveStop.None, result.Stop);
        Assert.Equal(1, observer.Messages);
    }

    [Fact]
    public void OversizedControlFrame_IsProtocolViolation()
    {
        var header = new byte[] { 0x89, 126, 0, 200 };
        var observer = new FrameObserver();

        observer.Observe(header);

        Assert.True(observer.ProtocolViolation);
        Assert.False(observer.AtFrameBoundary);
    }
}
