using Akka.Actor;
using Akka.Configuration;
using Akka.DistributedData;
using Akka.Event;
using Gateway.Actors.Apis;
using Gateway.Actors.Configuration;
using static Gateway.Actors.Apis.ApiSupervisorProtocol;

namespace Gateway.Actors.Cluster;

/// <summary>
/// Replicates the APIs defined at run time between cluster nodes. It writes each change the local
/// API supervisor publishes (<see cref="RuntimeApiChanged"/>) to a replicated map of
/// Akka.DistributedData, kept in the durable store (<see cref="FileDurableStore"/>), and applies the changes of other nodes to the
/// local supervisor as <see cref="PutApi"/> and <see cref="RemoveApi"/>.
/// </summary>
/// <remarks>
/// The supervisor still validates every definition and writes its own API file, so the admin API and
/// a single-node restart behave as without a cluster. In a cluster the replicated map is the source of
/// truth: an API in the local file that the map lacks once it has entries is removed on this node.
/// </remarks>
public sealed class ReplicatedApiStore : ReceiveActor
{
    /// <summary>Name of the replicated map; listed in akka.cluster.distributed-data.durable.keys.</summary>
    public const string DataKeyName = "gateway-apis";

    private static readonly TimeSpan WriteTimeout = TimeSpan.FromSeconds(1);
    private static readonly LWWDictionaryKey<string, string> DataKey = new(DataKeyName);

    private readonly IActorRef _replicator = DistributedData.Get(Context.System).Replicator;
    private readonly Akka.Cluster.Cluster _cluster = Akka.Cluster.Cluster.Get(Context.System);
    private readonly IActorRef _supervisor;
    private readonly Dictionary<string, string> _applied;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private IReadOnlyDictionary<string, string> _replicated = new Dictionary<string, string>();

    /// <param name="supervisor">The local API supervisor.</param>
    /// <param name="applied">Runtime APIs the supervisor loaded from its file, by id, as JSON.</param>
    public ReplicatedApiStore(IActorRef supervisor, IReadOnlyDictionary<string, string> applied)
    {
        _supervisor = supervisor;
        _applied = new Dictionary<string, string>(applied, StringComparer.Ordinal);

        Receive<RuntimeApiChanged>(OnLocalChange);
        Receive<Changed>(changed => OnReplicatedChange(changed.Get(DataKey)));
        Receive<UpdateSuccess>(_ => { });
        Receive<UpdateTimeout>(timeout => _log.Warning(
            "API {ApiId}: not every node acknowledged the change within {Timeout}; it reaches them through gossip", timeout.Request, WriteTimeout));
        Receive<IUpdateFailure>(failure => _log.Error("Replicating API {ApiId} failed: {Failure}", failure.Request, failure));
        Receive<ApiStored>(stored => _log.Info("API {ApiId} replicated from the cluster is in force on this node", stored.Id));
        Receive<ApiRemoved>(removed => _log.Info("API {ApiId} removed on another node is removed here too", removed.Id));
        Receive<ApiChangeRejected>(rejected => _log.Warning(
            "API {ApiId} replicated from the cluster was rejected on this node: {Detail}", rejected.Id, rejected.Detail));
    }

    public static Props Props(IActorRef supervisor, IReadOnlyDictionary<string, string> applied) =>
        Akka.Actor.Props.Create(() => new ReplicatedApiStore(supervisor, applied));

    protected override void PreStart()
    {
        Context.System.EventStream.Subscribe(Self, typeof(RuntimeApiChanged));
        _replicator.Tell(Dsl.Subscribe(DataKey, Self));
    }

    protected override void PostStop() => Context.System.EventStream.Unsubscribe(Self);

    private void OnLocalChange(RuntimeApiChanged change)
    {
        if (change.Json is null)
        {
            _applied.Remove(change.Id);
        }
        else
        {
            _applied[change.Id] = change.Json;
        }

        // A change that came from the map is already there: writing it again would only bump its clock.
        if (_replicated.GetValueOrDefault(change.Id) == change.Json)
        {
            return;
        }

        var cluster = _cluster;
        Func<LWWDictionary<string, string>, LWWDictionary<string, string>> modify = change.Json is { } json
            ? map => map.SetItem(cluster, change.Id, json)
            : map => map.Remove(cluster, change.Id);
        _replicator.Tell(Dsl.Update(DataKey, LWWDictionary<string, string>.Empty, new WriteAll(WriteTimeout), change.Id, modify));
    }

    private void OnReplicatedChange(LWWDictionary<string, string> map)
    {
        _replicated = map.Entries.ToDictionary(entry => entry.Key, entry => entry.Value, StringComparer.Ordinal);
        foreach (var (id, json) in _replicated)
        {
            if (_applied.GetValueOrDefault(id) == json)
            {
                continue;
            }

            ApiDefinition definition;
            try
            {
                definition = GatewayConfigLoader.ReadApi(id, ConfigurationFactory.ParseString(json), $"replicated API {id}");
            }
            catch (Exception error) when (error is ConfigException or ConfigurationException)
            {
                _log.Error(error, "API {ApiId} replicated from the cluster is invalid on this node and is ignored", id);
                continue;
            }

            _applied[id] = json;
            _supervisor.Tell(new PutApi(definition, json, CreateOnly: false));
        }

        foreach (var id in _applied.Keys.Where(id => !_replicated.ContainsKey(id)).ToArray())
        {
            _applied.Remove(id);
            _supervisor.Tell(new RemoveApi(id));
        }
    }
}
