using Akka.Actor;
using Akka.Cluster;
using Akka.Event;
using Gateway.Actors.Limits;

namespace Gateway.Actors.Cluster;

/// <summary>
/// Follows cluster membership and keeps <see cref="NodeShare"/> at the number of live gateway nodes,
/// so rate limits are rebalanced as soon as a node joins, leaves, becomes unreachable or comes back.
/// </summary>
/// <remarks>
/// A live node is a member that is Up (or WeaklyUp) and reachable from this node. An unreachable node
/// stops counting at once, before the split brain resolver downs it, so its share of a rate moves to
/// the others while it is cut off.
/// </remarks>
public sealed class MembershipWatcher : ReceiveActor
{
    private readonly Akka.Cluster.Cluster _cluster = Akka.Cluster.Cluster.Get(Context.System);
    private readonly NodeShare _share;
    private readonly ILoggingAdapter _log = Context.GetLogger();

    // Kept from the events themselves: Cluster.State is updated by another subscriber and can lag them.
    private readonly Dictionary<UniqueAddress, Member> _members = new();
    private readonly HashSet<UniqueAddress> _unreachable = new();

    public MembershipWatcher(NodeShare share)
    {
        _share = share;
        Receive<ClusterEvent.CurrentClusterState>(state =>
        {
            _members.Clear();
            _unreachable.Clear();
            foreach (var member in state.Members)
            {
                _members[member.UniqueAddress] = member;
            }

            _unreachable.UnionWith(state.Unreachable.Select(member => member.UniqueAddress));
            Recount();
        });
        Receive<ClusterEvent.MemberRemoved>(removed =>
        {
            _members.Remove(removed.Member.UniqueAddress);
            _unreachable.Remove(removed.Member.UniqueAddress);
            Recount();
        });
        Receive<ClusterEvent.IMemberEvent>(changed =>
        {
            _members[changed.Member.UniqueAddress] = changed.Member;
            Recount();
        });
        Receive<ClusterEvent.UnreachableMember>(unreachable =>
        {
            _unreachable.Add(unreachable.Member.UniqueAddress);
            Recount();
        });
        Receive<ClusterEvent.ReachableMember>(reachable =>
        {
            _unreachable.Remove(reachable.Member.UniqueAddress);
            Recount();
        });
    }

    public static Props Props(NodeShare share) => Akka.Actor.Props.Create(() => new MembershipWatcher(share));

    protected override void PreStart() =>
        _cluster.Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsSnapshot,
            typeof(ClusterEvent.IMemberEvent), typeof(ClusterEvent.IReachabilityEvent));

    protected override void PostStop() => _cluster.Unsubscribe(Self);

    private void Recount()
    {
        IReadOnlyList<Member> live = _members.Values
            .Where(member => member.Status is MemberStatus.Up or MemberStatus.WeaklyUp)
            .Where(member => !_unreachable.Contains(member.UniqueAddress))
            .OrderBy(member => member.Address, Member.AddressOrdering)
            .ToArray();
        var rank = live.Select(member => member.Address).ToList().IndexOf(_cluster.SelfAddress);
        if (rank < 0)
        {
            // This node is not Up yet, or is leaving: count it with the others so its share stays small.
            live = live.Append(_cluster.SelfMember).ToArray();
            rank = live.Count - 1;
        }

        var before = _share.Generation;
        _share.Update(live.Count, rank);
        if (before != _share.Generation)
        {
            _log.Info("Live gateway nodes: {LiveNodes} ({Members}); this node has rank {Rank} and enforces its share of each rate limit",
                live.Count, string.Join(", ", live.Select(member => member.Address)), rank);
        }
    }
}
