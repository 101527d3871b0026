using System.Collections.Immutable;
using System.Text.Json;
using Akka.Actor;
using Akka.DistributedData;
using Akka.Event;
using Gateway.Actors.Keys;
using static Gateway.Actors.Keys.KeyStoreProtocol;

namespace Gateway.Actors.Cluster;

/// <summary>
/// The key store of a cluster node: answers the same <see cref="KeyStoreProtocol"/> commands as
/// <see cref="KeyStore"/>, but keeps the records in a replicated map of Akka.DistributedData, stored
/// in each node's durable store (<see cref="FileDurableStore"/>). Every node publishes the map as its <see cref="KeySnapshot"/> and
/// publishes the differences as key events, so a key deleted on any node closes its WebSockets on all.
/// </summary>
/// <remarks>
/// Writes go to every reachable node at once (<see cref="WriteAll"/>), so a change is in force on the
/// other nodes as soon as the admin API answers. When a node does not acknowledge in time, the change
/// still stands here and reaches that node through gossip. Concurrent updates of one key on two nodes
/// resolve by last writer wins, and an update concurrent with a delete keeps the update.
/// </remarks>
public sealed class ReplicatedKeyStore : ReceiveActor, IWithTimers
{
    /// <summary>Name of the replicated map; listed in akka.cluster.distributed-data.durable.keys.</summary>
    public const string DataKeyName = "gateway-keys";

    private static readonly TimeSpan ExpiryCheckInterval = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan WriteTimeout = TimeSpan.FromSeconds(1);
    private static readonly LWWDictionaryKey<string, string> DataKey = new(DataKeyName);

    private readonly IActorRef _replicator = DistributedData.Get(Context.System).Replicator;
    private readonly Akka.Cluster.Cluster _cluster = Akka.Cluster.Cluster.Get(Context.System);
    private readonly KeySnapshotHolder _holder;
    private readonly HashSet<string> _expiredAnnounced = new();
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private KeySnapshot _snapshot = KeySnapshot.Empty;

    public ReplicatedKeyStore(KeySnapshotHolder holder)
    {
        _holder = holder;
        _holder.Publish(_snapshot);

        Receive<CreateKey>(create => Write(Create(create.Policy)));
        Receive<UpdateKey>(update =>
        {
            if (_snapshot.ById.TryGetValue(update.Id, out var record))
            {
                Write(new PendingChange(new KeyUpdated(record with { Policy = update.Policy, Revision = record.Revision + 1 }), null, Sender));
            }
            else
            {
                Sender.Tell(new KeyNotFound(update.Id));
            }
        });
        Receive<DeleteKey>(delete =>
        {
            if (_snapshot.ById.ContainsKey(delete.Id))
            {
                Write(new PendingChange(new KeyDeleted(delete.Id), null, Sender));
            }
            else
            {
                Sender.Tell(new KeyNotFound(delete.Id));
            }
        });
        Receive<UpdateSuccess>(success => Completed((PendingChange)success.Request!));
        Receive<UpdateTimeout>(timeout =>
        {
            var change = (PendingChange)timeout.Request!;
            _log.Warning("Key {KeyId}: not every node acknowledged the change within {Timeout}; it is stored here and reaches the others through gossip",
                change.Event.KeyId, WriteTimeout);
            Completed(change);
        });
        Receive<IUpdateFailure>(failure =>
        {
            var change = (PendingChange)failure.Request!;
            _log.Error("Storing key {KeyId} failed ({Failure}), so it was not changed", change.Event.KeyId, failure);
            change.ReplyTo.Tell(new KeyStoreFailed($"storing the change failed: {failure}"));
        });
        Receive<Changed>(changed => ApplyReplicated(changed.Get(DataKey)));
        Receive<CheckExpiry>(_ => AnnounceExpiredKeys());
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(KeySnapshotHolder holder) => Akka.Actor.Props.Create(() => new ReplicatedKeyStore(holder));

    protected override void PreStart()
    {
        _replicator.Tell(Dsl.Subscribe(DataKey, Self));
        Timers.StartPeriodicTimer("expiry", CheckExpiry.Instance, ExpiryCheckInterval);
    }

    private PendingChange Create(KeyPolicy policy)
    {
        var key = KeyText.NewKey();
        var record = new KeyRecord(KeyText.NewId(), KeyText.Hash(key), policy, DateTimeOffset.UtcNow, 1);
        return new PendingChange(new KeyCreated(record), key, Sender);
    }

    private void Write(PendingChange change)
    {
        var cluster = _cluster;
        Func<LWWDictionary<string, string>, LWWDictionary<string, string>> modify = change.Event switch
        {
            KeyCreated created => map => map.SetItem(cluster, created.KeyId, Serialize(created.Record)),
            KeyUpdated updated => map => map.SetItem(cluster, updated.KeyId, Serialize(updated.Record)),
            KeyDeleted deleted => map => map.Remove(cluster, deleted.KeyId),
            _ => throw new ArgumentOutOfRangeException(nameof(change), change.Event, "only created, updated and deleted keys are stored"),
        };
        _replicator.Tell(Dsl.Update(DataKey, LWWDictionary<string, string>.Empty, new WriteAll(WriteTimeout), change, modify));
    }

    private void Completed(PendingChange change)
    {
        Publish(_snapshot.Apply(change.Event), new[] { change.Event });
        switch (change.Event)
        {
            case KeyCreated created:
                _log.Info("Key {KeyId} created and replicated", created.KeyId);
                change.ReplyTo.Tell(new KeyStored(created.Record, change.Key));
                break;
            case KeyUpdated updated:
                _log.Info("Key {KeyId} updated to revision {Revision} and replicated", updated.KeyId, updated.Record.Revision);
                change.ReplyTo.Tell(new KeyStored(updated.Record, null));
                break;
            case KeyDeleted deleted:
                _log.Info("Key {KeyId} deleted on every node; its live WebSockets are closed with 1008", deleted.KeyId);
                change.ReplyTo.Tell(new KeyRemoved(deleted.KeyId));
                break;
        }
    }

    /// <summary>Replaces the snapshot with the replicated map and publishes what changed as key events.</summary>
    private void ApplyReplicated(LWWDictionary<string, string> map)
    {
        var records = ImmutableDictionary.CreateBuilder<string, KeyRecord>(StringComparer.Ordinal);
        foreach (var (id, json) in map.Entries)
        {
            var record = Deserialize(id, json);
            if (record is not null)
            {
                records[id] = record;
            }
        }

        var next = new KeySnapshot(records.ToImmutable());
        var events = new List<IKeyEvent>();
        foreach (var record in next.ById.Values)
        {
            if (!_snapshot.ById.TryGetValue(record.Id, out var old))
            {
                events.Add(new KeyCreated(record));
            }
            else if (old != record)
            {
                events.Add(new KeyUpdated(record));
            }
        }

        events.AddRange(_snapshot.ById.Keys.Where(id => !next.ById.ContainsKey(id)).Select(id => new KeyDeleted(id)));
        if (events.Count > 0)
        {
            _log.Info("Applied {ChangeCount} key changes replicated from the cluster; {KeyCount} keys in force", events.Count, next.ById.Count);
            Publish(next, events);
        }
    }

    private void Publish(KeySnapshot next, IEnumerable<IKeyEvent> events)
    {
        _snapshot = next;
        _holder.Publish(next);
        foreach (var change in events)
        {
            if (change is not KeyCreated)
            {
                _expiredAnnounced.Remove(change.KeyId);
            }

            Context.System.EventStream.Publish(change);
        }
    }

    private void AnnounceExpiredKeys()
    {
        var now = DateTimeOffset.UtcNow;
        foreach (var record in _snapshot.ById.Values)
        {
            if (record.Policy.IsExpired(now) && _expiredAnnounced.Add(record.Id))
            {
                _log.Info("Key {KeyId} expired at {Expires}; its live WebSockets on this node are closed with 1008", record.Id, record.Policy.Expires);
                Context.System.EventStream.Publish(new KeyExpired(record.Id));
            }
        }
    }

    private static string Serialize(KeyRecord record) => JsonSerializer.Serialize(record);

    private KeyRecord? Deserialize(string id, string json)
    {
        try
        {
            return JsonSerializer.Deserialize<KeyRecord>(json);
        }
        catch (JsonException error)
        {
            _log.Error(error, "Replicated key {KeyId} is not a valid key record and is ignored", id);
            return null;
        }
    }

    /// <summary>A change waiting for the replicator; <see cref="Key"/> is the key text of a created key.</summary>
    private sealed record PendingChange(IKeyEvent Event, string? Key, IActorRef ReplyTo);

    private sealed record CheckExpiry
    {
        public static readonly CheckExpiry Instance = new();
    }
}
