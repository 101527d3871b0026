namespace Gateway.Actors.Connections;

/// <summary>What a leg does with its destination once its pump has ended.</summary>
internal enum LegClosing
{
    /// <summary>Close the destination now.</summary>
    CloseNow,

    /// <summary>Write a close frame to the destination, then close it once the sibling leg has finished.</summary>
    SendCloseThenWait,

    /// <summary>Write a close frame to the destination, then close it now.</summary>
    SendCloseThenCloseNow,

    /// <summary>Close the destination once the sibling leg has finished its side of the close handshake.</summary>
    WaitForPeer,
}

/// <summary>
/// Decides how a leg ends its direction of a tunnel, from how its pump ended and which close frames
/// have passed. Pure, so both directions are tested without sockets.
/// </summary>
internal static class TunnelClosing
{
    /// <param name="result">How this leg's pump ended.</param>
    /// <param name="ownCloseSeen">A close frame already passed in this leg's direction.</param>
    /// <param name="otherCloseSeen">A close frame already passed in the other direction.</param>
    /// <param name="stopRequested">The gateway asked this leg to stop with a close code.</param>
    public static LegClosing Decide(PumpResult result, bool ownCloseSeen, bool otherCloseSeen, bool stopRequested)
    {
        switch (result.End)
        {
            case PumpEnd.DestinationFailed:
                return LegClosing.CloseNow;

            case PumpEnd.Stopped when stopRequested:
            case PumpEnd.MessageTooBig:
                // A close frame the peer already sent in this direction ends it; a second one would break
                // RFC 6455 section 5.5.1, which allows one close frame per direction.
                if (ownCloseSeen || !result.AtFrameBoundary)
                {
                    return LegClosing.WaitForPeer;
                }

                return LegClosing.SendCloseThenWait;

            default:
                if (ownCloseSeen)
                {
                    return otherCloseSeen ? LegClosing.CloseNow : LegClosing.WaitForPeer;
                }

                // The source went away without a close frame: tell the destination why, if a frame can
                // still start here, and end it.
                return result.AtFrameBoundary ? LegClosing.SendCloseThenCloseNow : LegClosing.CloseNow;
        }
    }
}
