using Akka.Actor;
using Gateway.Actors.Limits;
using static Gateway.Actors.Connections.ConnectionProtocol;

namespace Gateway.Actors.Connections;

/// <summary>
/// The client leg of a proxied WebSocket: reads the client and writes to the upstream, masking the
/// close frames it writes itself, as a client must.
/// </summary>
internal sealed class ClientLeg : TunnelLeg
{
    public ClientLeg(string connectionId, ConnectionStats stats)
        : base(connectionId, stats)
    {
    }

    protected override void OnReceive(object message)
    {
        switch (message)
        {
            case StartPumping start:
                Sibling = Sender;
                StartPump(start.Tunnel);
                break;
            case PeerFinished:
                // The upstream leg ended before the tunnel opened (rejected handshake, failure, abandoned upgrade).
                Context.Stop(Self);
                break;
            case StopAndClose:
                break;
            default:
                Unhandled(message);
                break;
        }
    }

    public static Props Props(string connectionId, ConnectionStats stats) =>
        Akka.Actor.Props.Create(() => new ClientLeg(connectionId, stats)).WithMailbox(TunnelMailbox.Id);

    protected override string SourceName => "client";

    protected override int SourceLostCloseCode => CloseCodes.GoingAway;

    protected override bool MaskTowardsDestination => true;

    protected override Stream Source(Tunnel tunnel) => tunnel.Client.Stream;

    protected override Stream Destination(Tunnel tunnel) => tunnel.Upstream;

    protected override FrameObserver Observer(Tunnel tunnel) => tunnel.ClientToUpstream;

    protected override void CloseDestination(Tunnel tunnel) => tunnel.CloseUpstream();

    protected override MessageRatePacer? CreatePacer(Tunnel tunnel) =>
        tunnel.ClientMessagesPerSecond is { } rate ? new MessageRatePacer(rate) : null;

    protected override void RecordStats(FrameObserver observer, long bytes)
    {
        Stats.BytesToUpstream = bytes;
        Stats.FramesToUpstream = observer.Frames;
        Stats.MessagesToUpstream = observer.Messages;
        Stats.ClientCloseCode = observer.CloseCode;
        Stats.ClientCloseReason = observer.CloseReason;
    }
}
