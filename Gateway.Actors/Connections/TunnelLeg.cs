using Akka.Actor;
using Akka.Event;
using Gateway.Actors.Limits;
using static Gateway.Actors.Connections.ConnectionProtocol;

namespace Gateway.Actors.Connections;

/// <summary>
/// One direction of a proxied WebSocket: pumps bytes from its source to its destination, then ends its
/// direction properly. The client leg and the upstream leg differ only in which stream is which, the
/// close code they send when their source vanishes, and masking.
/// </summary>
/// <remarks>
/// Bytes never travel through the mailbox: the pump is a copy loop on the thread pool, and the actor
/// only hears when it ends. Each leg writes only to its own destination, so a close frame the gateway
/// writes can never interleave with forwarded bytes.
/// The legs are untyped actors with a switch per behaviour: a ReceiveActor builds its handler table
/// per instance, which cost about 1.5 KiB of every idle connection.
/// </remarks>
internal abstract class TunnelLeg : UntypedActor
{
    /// <summary>How long a leg waits for its sibling to finish a close handshake before closing anyway.</summary>
    internal static readonly TimeSpan CloseGrace = TimeSpan.FromSeconds(1);

    private static readonly TimeSpan CloseFrameWriteTimeout = TimeSpan.FromSeconds(1);

    /// <summary>How long a stop request may wait for the current frame to end before both streams are cut.</summary>
    private static readonly TimeSpan StopDeadline = TimeSpan.FromSeconds(2);

    private Pump? _pump;
    private StopAndClose? _stopRequest;
    private bool _peerFinished;

    protected TunnelLeg(string connectionId, ConnectionStats stats)
    {
        ConnectionId = connectionId;
        Stats = stats;
    }

    protected string ConnectionId { get; }

    protected ConnectionStats Stats { get; }

    protected Tunnel? Tunnel { get; private set; }

    protected IActorRef Sibling { get; set; } = ActorRefs.Nobody;

    // Created on first use: a logger keeps the actor's path as a string, about 300 bytes that most
    // connections never need.
    private ILoggingAdapter? _log;

    protected ILoggingAdapter Log => _log ??= Context.GetLogger();

    /// <summary>"client" or "upstream": who this leg reads from.</summary>
    protected abstract string SourceName { get; }

    /// <summary>Close code sent to the destination when the source vanishes without a close frame.</summary>
    protected abstract int SourceLostCloseCode { get; }

    protected abstract bool MaskTowardsDestination { get; }

    protected abstract Stream Source(Tunnel tunnel);

    protected abstract Stream Destination(Tunnel tunnel);

    protected abstract FrameObserver Observer(Tunnel tunnel);

    protected abstract void CloseDestination(Tunnel tunnel);

    protected abstract void RecordStats(FrameObserver observer, long bytes);

    /// <summary>Creates the message rate limit of this direction, or returns null when it has none.</summary>
    protected virtual MessageRatePacer? CreatePacer(Tunnel tunnel) => null;

    /// <summary>Starts copying and switches to the pumping behaviour.</summary>
    protected void StartPump(Tunnel tunnel)
    {
        Tunnel = tunnel;
        _pump = new Pump(Source(tunnel), Destination(tunnel), Observer(tunnel), tunnel.Activity, pacer: CreatePacer(tunnel));
        _pump.RunAsync().PipeTo(Self, success: result => new PumpEnded(result));
        Become(Pumping);
    }

    protected override void PostStop()
    {
        // A leg that stops for any reason, a crash included, must not leave its destination open.
        if (Tunnel is { } tunnel)
        {
            CloseDestination(tunnel);
        }
    }

    private void Pumping(object message)
    {
        switch (message)
        {
            case PumpEnded ended:
                OnPumpEnded(ended.Result);
                break;
            case StopAndClose stop:
                OnStopRequested(stop);
                break;
            case PeerFinished:
                _peerFinished = true;
                break;
            case StopOverdue:
                CutBothStreams();
                break;
            case IdleCheck:
                OnIdleCheck();
                break;
            default:
                Unhandled(message);
                break;
        }
    }

    /// <summary>Called on each scheduled idle check while pumping; the upstream leg closes an idle connection.</summary>
    protected virtual void OnIdleCheck()
    {
    }

    protected void OnStopRequested(StopAndClose request)
    {
        if (_stopRequest is null)
        {
            Context.System.Scheduler.ScheduleTellOnce(StopDeadline, Self, StopOverdue.Instance, Self);
        }

        _stopRequest ??= request;
        _pump?.RequestStop();
    }

    private void CutBothStreams()
    {
        // The peer stalled inside a frame, so no close frame can follow it: end both sides without one.
        Log.Debug("Connection {ConnectionId}: {Source} stalled mid-frame for {Seconds} s after a stop request; cutting the connection",
            ConnectionId, SourceName, StopDeadline.TotalSeconds);
        Tunnel?.CloseClient();
        Tunnel?.CloseUpstream();
    }

    private void OnPumpEnded(PumpResult result)
    {
        var tunnel = Tunnel!;
        var observer = Observer(tunnel);
        var other = ReferenceEquals(observer, tunnel.ClientToUpstream) ? tunnel.UpstreamToClient : tunnel.ClientToUpstream;
        RecordStats(observer, result.Bytes);
        LogPumpEnd(result);

        var closeCode = SourceLostCloseCode;
        var reason = SourceName == "client" ? "client went away" : "upstream connection lost";
        if (result.End == PumpEnd.MessageTooBig)
        {
            Stats.MarkClosedBy("gateway");
            Stats.GatewayCloseCode = CloseCodes.MessageTooBig;
            Sibling.Tell(new StopAndClose(CloseCodes.MessageTooBig, "message too big"));
            closeCode = CloseCodes.GoingAway;
            reason = "peer sent a message over the size limit";
        }
        else if (_stopRequest is { } stop)
        {
            Stats.MarkClosedBy("gateway");
            Stats.GatewayCloseCode ??= stop.CloseCode;
            closeCode = stop.CloseCode;
            reason = stop.Reason;
        }
        else if (result.End is PumpEnd.SourceClosed or PumpEnd.SourceFailed)
        {
            Stats.MarkClosedBy(SourceName);
        }

        var decision = TunnelClosing.Decide(result, observer.CloseSeen, other.CloseSeen, _stopRequest is not null);
        if (result.End == PumpEnd.MessageTooBig && !_peerFinished)
        {
            // The sender must see 1009 before the other side's answer to our 1001 can reach it, so the
            // sibling writes its 1009 first and this leg writes 1001 once the sibling has finished.
            Context.System.Scheduler.ScheduleTellOnce(CloseGrace, Self, new GraceExpired(), Self);
            Become(message =>
            {
                switch (message)
                {
                    case PeerFinished:
                        _peerFinished = true;
                        CloseDirection(tunnel, decision, closeCode, reason);
                        break;
                    case GraceExpired:
                        CloseDirection(tunnel, decision, closeCode, reason);
                        break;
                    default:
                        Unhandled(message);
                        break;
                }
            });
            return;
        }

        CloseDirection(tunnel, decision, closeCode, reason);
    }

    private void CloseDirection(Tunnel tunnel, LegClosing decision, int closeCode, string reason)
    {
        if (decision is LegClosing.SendCloseThenWait or LegClosing.SendCloseThenCloseNow && !DestinationClosed(tunnel))
        {
            var closeNow = decision == LegClosing.SendCloseThenCloseNow;
            WriteCloseFrameAsync(Destination(tunnel), closeCode, reason, MaskTowardsDestination)
                .PipeTo(Self, success: () => new CloseFrameWritten(closeNow), failure: _ => new CloseFrameWritten(closeNow));
            Become(message =>
            {
                if (message is CloseFrameWritten written)
                {
                    Finish(written.CloseNow);
                }
                else
                {
                    Unhandled(message);
                }
            });
            return;
        }

        Finish(decision == LegClosing.CloseNow);
    }

    private void Finish(bool closeNow)
    {
        Sibling.Tell(PeerFinished.Instance);
        if (closeNow || _peerFinished)
        {
            Context.Stop(Self);
            return;
        }

        Context.System.Scheduler.ScheduleTellOnce(CloseGrace, Self, new GraceExpired(), Self);
        Become(message =>
        {
            if (message is PeerFinished or GraceExpired)
            {
                Context.Stop(Self);
            }
            else
            {
                Unhandled(message);
            }
        });
    }

    private bool DestinationClosed(Tunnel tunnel) =>
        SourceName == "client" ? tunnel.UpstreamClosed : tunnel.ClientClosed;

    private void LogPumpEnd(PumpResult result)
    {
        if (result.Error is null)
        {
            return;
        }

        // A read that fails because the gateway itself closed the upstream (drain, revocation, the other
        // leg finishing) is no upstream failure.
        var closedByGateway = _stopRequest is not null || Tunnel!.UpstreamClosed || result.Error is ObjectDisposedException;
        if (result.End == PumpEnd.SourceFailed && SourceName == "upstream" && !closedByGateway)
        {
            Log.Warning(
                "Connection {ConnectionId}: reading the upstream failed, so the client is closed with {CloseCode}: {Error}",
                ConnectionId, SourceLostCloseCode, result.Error.Message);
            return;
        }

        Log.Debug("Connection {ConnectionId}: {PumpEnd} while pumping from {Source}: {Error}",
            ConnectionId, result.End, SourceName, result.Error.Message);
    }

    private static async Task WriteCloseFrameAsync(Stream destination, int code, string reason, bool masked)
    {
        using var timeout = new CancellationTokenSource(CloseFrameWriteTimeout);
        await destination.WriteAsync(CloseFrame.Build(code, reason, masked), timeout.Token).ConfigureAwait(false);
        await destination.FlushAsync(timeout.Token).ConfigureAwait(false);
    }

    private sealed record CloseFrameWritten(bool CloseNow);

    protected sealed record IdleCheck : IDeadLetterSuppression
    {
        public static readonly IdleCheck Instance = new();
    }

    private sealed record StopOverdue : IDeadLetterSuppression
    {
        public static readonly StopOverdue Instance = new();
    }
}
