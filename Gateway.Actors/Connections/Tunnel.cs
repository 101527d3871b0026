namespace Gateway.Actors.Connections;

/// <summary>
/// The two streams of one upgraded connection and the observers of each direction, shared by its
/// client leg and upstream leg. Each leg writes only to its own destination; closing is idempotent.
/// </summary>
internal sealed class Tunnel
{
    private int _clientClosed;
    private int _upstreamClosed;

    public Tunnel(
        string connectionId,
        IClientConnection client,
        Stream upstream,
        long? maxMessageSize,
        ConnectionStats stats)
    {
        ConnectionId = connectionId;
        Client = client;
        Upstream = upstream;
        ClientToUpstream = new FrameObserver(maxMessageSize, () => stats.MarkClosedBy("client"));
        UpstreamToClient = new FrameObserver(maxMessageSize, () => stats.MarkClosedBy("upstream"));
    }

    public string ConnectionId { get; }

    public IClientConnection Client { get; }

    public Stream Upstream { get; }

    public FrameObserver ClientToUpstream { get; }

    public FrameObserver UpstreamToClient { get; }

    /// <summary>Messages the client may send per second on this connection; null means no limit.</summary>
    public int? ClientMessagesPerSecond { get; init; }

    public ActivityMeter Activity { get; } = new();

    public bool ClientClosed => Volatile.Read(ref _clientClosed) != 0;

    public bool UpstreamClosed => Volatile.Read(ref _upstreamClosed) != 0;

    public void CloseClient()
    {
        if (Interlocked.Exchange(ref _clientClosed, 1) == 0)
        {
            Client.Close();
        }
    }

    public void CloseUpstream()
    {
        if (Interlocked.Exchange(ref _upstreamClosed, 1) == 0)
        {
            Upstream.Dispose();
        }
    }
}
