using Gateway.Actors.Connections;

namespace Gateway.Tests.Connections;

public sealed class TunnelClosingTests
{
    [Theory]
    [InlineData(PumpEnd.SourceClosed, true, false, false, true, LegClosing.SendCloseThenCloseNow)]
    [InlineData(PumpEnd.SourceFailed, true, false, false, true, LegClosing.SendCloseThenCloseNow)]
    [InlineData(PumpEnd.SourceFailed, false, false, false, true, LegClosing.CloseNow)]
    [InlineData(PumpEnd.SourceClosed, true, true, true, false, LegClosing.CloseNow)]
    [InlineData(PumpEnd.SourceClosed, true, true, false, false, LegClosing.WaitForPeer)]
    [InlineData(PumpEnd.DestinationFailed, true, false, false, false, LegClosing.CloseNow)]
    [InlineData(PumpEnd.Stopped, true, false, false, true, LegClosing.SendCloseThenWait)]
    [InlineData(PumpEnd.Stopped, true, true, false, true, LegClosing.WaitForPeer)]
    [InlineData(PumpEnd.MessageTooBig, true, false, false, false, LegClosing.SendCloseThenWait)]
    [InlineData(PumpEnd.MessageTooBig, false, false, false, false, LegClosing.WaitForPeer)]
    internal void Decide_FollowsCloseHandshake(
        PumpEnd end, bool atBoundary, bool ownCloseSeen, bool otherCloseSeen, bool stopRequested, LegClosing expected)
    {
        var result = new PumpResult(end, 0, null, atBoundary);

        var decision = TunnelClosing.Decide(result, ownCloseSeen, otherCloseSeen, stopRequested);

        Assert.Equal(expected, decision);
    }
}
