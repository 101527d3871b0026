using System.Collections.Immutable;
using System.Text.Json;
using Akka.Actor;
using Akka.DistributedData;
using Akka.Event;
using Gateway.Actors.Limits;

namespace Gateway.Actors.Cluster;

/// <summary>
/// Shares quota use and live WebSockets per key between cluster nodes. Every flush interval it writes
/// this node's counts, when they changed, as one entry of a replicated map keyed by node address, and
/// it sums the other nodes' entries into <see cref="ClusterUsage"/>, which the request path reads
/// without waiting on any actor.
/// </summary>
/// <remarks>
/// The map is not durable: the counts are per request and change many times a second, and they mean
/// nothing after a restart of the whole cluster. Quota use of a node that crashed still counts until
/// its window ends. Its connections stop counting as soon as it is no longer an Up member.
/// NOTE: entries of nodes that left stay in the map (one small entry per node incarnation).
/// </remarks>
public sealed class UsageReplicator : ReceiveActor, IWithTimers
{
    /// <summary>Name of the replicated map.</summary>
    public const string DataKeyName = "gateway-usage";

    private static readonly LWWDictionaryKey<string, string> DataKey = new(DataKeyName);

    private readonly IActorRef _replicator = DistributedData.Get(Context.System).Replicator;
    private readonly Akka.Cluster.Cluster _cluster = Akka.Cluster.Cluster.Get(Context.System);
    private readonly ClusterUsage _usage;
    private readonly KeyConnectionCounts _connections;
    private readonly TimeSpan _flushInterval;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly string _self;
    private string _lastReport = "";
    private LWWDictionary<string, string> _map = LWWDictionary<string, string>.Empty;

    public UsageReplicator(ClusterUsage usage, KeyConnectionCounts connections, TimeSpan flushInterval)
    {
        _usage = usage;
        _connections = connections;
        _flushInterval = flushInterval;
        _self = _cluster.SelfUniqueAddress.ToString();
        Receive<Flush>(_ => FlushReport());
        Receive<Changed>(changed =>
        {
            _map = changed.Get(DataKey);
            Sum();
        });
        Receive<ClusterMembersChanged>(_ => Sum());
        Receive<UpdateSuccess>(_ => { });
        Receive<UpdateTimeout>(_ => _log.Debug("Not every node acknowledged this node's usage report in time; gossip delivers it"));
        Receive<IUpdateFailure>(failure => _log.Warning("Sending this node's quota use and connection counts failed: {Failure}", failure));
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(ClusterUsage usage, KeyConnectionCounts connections, TimeSpan flushInterval) =>
        Akka.Actor.Props.Create(() => new UsageReplicator(usage, connections, flushInterval));

    protected override void PreStart()
    {
        _replicator.Tell(Dsl.Subscribe(DataKey, Self));
        Timers.StartPeriodicTimer("flush", Flush.Instance, _flushInterval);
        Timers.StartPeriodicTimer("members", ClusterMembersChanged.Instance, TimeSpan.FromSeconds(1));
    }

    private void FlushReport()
    {
        var report = JsonSerializer.Serialize(new Report(_usage.LocalQuotaUse(), _connections.Snapshot()));
        if (report == _lastReport)
        {
            return;
        }

        _lastReport = report;
        var cluster = _cluster;
        var self = _self;
        // Sent to every node directly rather than left to gossip, which reaches one random node per
        // round, because a report that arrives late lets the other nodes overshoot a quota for longer.
        _replicator.Tell(Dsl.Update(DataKey, LWWDictionary<string, string>.Empty, new WriteAll(_flushInterval), map => map.SetItem(cluster, self, report)));
    }

    private void Sum()
    {
        var upMembers = _cluster.State.Members
            .Where(member => member.Status == Akka.Cluster.MemberStatus.Up)
            .Select(member => member.UniqueAddress.ToString())
            .ToHashSet(StringComparer.Ordinal);
        var quota = new Dictionary<string, int>(StringComparer.Ordinal);
        var connections = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (node, json) in _map.Entries)
        {
            if (node == _self)
            {
                continue;
            }

            Report? report;
            try
            {
                report = JsonSerializer.Deserialize<Report>(json);
            }
            catch (JsonException error)
            {
                _log.Error(error, "The usage report of node {Node} is invalid and is ignored", node);
                continue;
            }

            foreach (var (counter, used) in report?.Quota ?? new Dictionary<string, int>())
            {
                quota[counter] = quota.GetValueOrDefault(counter) + used;
            }

            if (!upMembers.Contains(node))
            {
                continue;
            }

            foreach (var (keyId, live) in report?.Connections ?? new Dictionary<string, int>())
            {
                connections[keyId] = connections.GetValueOrDefault(keyId) + live;
            }
        }

        _usage.PublishRemote(quota.ToImmutableDictionary(StringComparer.Ordinal), connections.ToImmutableDictionary(StringComparer.Ordinal));
    }

    /// <summary>One node's counts: quota use per "partition@window" counter and live WebSockets per key id.</summary>
    private sealed record Report(IReadOnlyDictionary<string, int> Quota, IReadOnlyDictionary<string, int> Connections);

    private sealed record Flush
    {
        public static readonly Flush Instance = new();
    }

    private sealed record ClusterMembersChanged
    {
        public static readonly ClusterMembersChanged Instance = new();
    }
}
