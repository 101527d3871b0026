namespace Gateway.Actors.Limits;

/// <summary>
/// This node's place among the live gateway nodes, used to give each node its share of a rate limit
/// so that the nodes together admit the configured rate without asking each other per request.
/// Thread-safe; a single node is 1 of 1 and keeps every limit whole.
/// </summary>
/// <remarks>
/// A rate of R over N nodes gives each node R / N permits, and the remainder goes one permit each to
/// the nodes of lowest rank, so the shares add up to R exactly. The split assumes traffic spread
/// evenly over the nodes: a client that hits one node only gets that node's share.
/// </remarks>
public sealed class NodeShare
{
    private volatile State _state = new(1, 0);

    /// <summary>Number of live nodes, at least 1.</summary>
    public int LiveNodes => _state.LiveNodes;

    /// <summary>Sets the live node count and this node's rank among them (0 for the lowest address).</summary>
    public void Update(int liveNodes, int rank) => _state = new State(Math.Max(1, liveNodes), Math.Clamp(rank, 0, Math.Max(0, liveNodes - 1)));

    /// <summary>Returns this node's part of <paramref name="rate"/> permits, at least 1 so a key never locks out.</summary>
    public int Of(int rate)
    {
        var state = _state;
        var share = rate / state.LiveNodes + (state.Rank < rate % state.LiveNodes ? 1 : 0);
        return Math.Max(1, share);
    }

    /// <summary>Changes whenever the share changes, so limiters built for an older membership are told apart.</summary>
    public string Generation
    {
        get
        {
            var state = _state;
            return $"{state.LiveNodes}.{state.Rank}";
        }
    }

    private sealed record State(int LiveNodes, int Rank);
}
