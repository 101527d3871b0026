using Akka.Actor;
using Akka.Event;
using static Gateway.Actors.Keys.KeyStoreProtocol;

namespace Gateway.Actors.Keys;

/// <summary>
/// Owns the key records. Each change is written to the key file before it is applied, published to
/// the request path as a new <see cref="KeySnapshot"/>, and published as an event on the event stream,
/// where the API supervisor closes the WebSockets of deleted and expired keys.
/// </summary>
/// <remarks>
/// Changes are events (<see cref="KeyCreated"/>, <see cref="KeyUpdated"/>, <see cref="KeyDeleted"/>) applied by
/// <see cref="KeySnapshot.Apply"/>, so a replicated store can apply the same events from other nodes.
/// </remarks>
public sealed class KeyStore : ReceiveActor, IWithTimers
{
    /// <summary>How often expiry times are checked; revocation by expiry must reach live connections within a second.</summary>
    private static readonly TimeSpan ExpiryCheckInterval = TimeSpan.FromMilliseconds(200);

    private readonly string _path;
    private readonly KeySnapshotHolder _holder;
    private readonly HashSet<string> _expiredAnnounced = new();
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private KeySnapshot _snapshot;

    public KeyStore(string path, KeySnapshot initial, KeySnapshotHolder holder)
    {
        _path = path;
        _holder = holder;
        _snapshot = initial;
        _holder.Publish(initial);

        ReceiveAsync<CreateKey>(create => ChangeAsync(Create(create.Policy)));
        ReceiveAsync<UpdateKey>(update => _snapshot.ById.TryGetValue(update.Id, out var record)
            ? ChangeAsync(new Change(new KeyUpdated(record with { Policy = update.Policy, Revision = record.Revision + 1 }), null))
            : Reply(new KeyNotFound(update.Id)));
        ReceiveAsync<DeleteKey>(delete => _snapshot.ById.ContainsKey(delete.Id)
            ? ChangeAsync(new Change(new KeyDeleted(delete.Id), null))
            : Reply(new KeyNotFound(delete.Id)));
        Receive<CheckExpiry>(_ => AnnounceExpiredKeys());
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(string path, KeySnapshot initial, KeySnapshotHolder holder) =>
        Akka.Actor.Props.Create(() => new KeyStore(path, initial, holder));

    protected override void PreStart()
    {
        _log.Info("Key store loaded {KeyCount} keys from {KeyFile}", _snapshot.ById.Count, _path);
        Timers.StartPeriodicTimer("expiry", CheckExpiry.Instance, ExpiryCheckInterval);
    }

    private static Change Create(KeyPolicy policy)
    {
        var key = KeyText.NewKey();
        var record = new KeyRecord(KeyText.NewId(), KeyText.Hash(key), policy, DateTimeOffset.UtcNow, 1);
        return new Change(new KeyCreated(record), key);
    }

    private Task Reply(object message)
    {
        Sender.Tell(message);
        return Task.CompletedTask;
    }

    private async Task ChangeAsync(Change change)
    {
        var sender = Sender;
        var next = _snapshot.Apply(change.Event);
        try
        {
            await KeyFile.SaveAsync(_path, next);
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            _log.Error(error, "Writing the key file {KeyFile} failed, so key {KeyId} was not changed", _path, change.Event.KeyId);
            sender.Tell(new KeyStoreFailed($"writing the key file failed: {error.Message}"));
            return;
        }

        _snapshot = next;
        _holder.Publish(next);
        Context.System.EventStream.Publish(change.Event);
        switch (change.Event)
        {
            case KeyCreated created:
                _log.Info("Key {KeyId} created", created.KeyId);
                sender.Tell(new KeyStored(created.Record, change.Key));
                break;
            case KeyUpdated updated:
                _expiredAnnounced.Remove(updated.KeyId);
                _log.Info("Key {KeyId} updated to revision {Revision}", updated.KeyId, updated.Record.Revision);
                sender.Tell(new KeyStored(updated.Record, null));
                break;
            case KeyDeleted deleted:
                _expiredAnnounced.Remove(deleted.KeyId);
                _log.Info("Key {KeyId} deleted; its live WebSockets are closed with 1008", deleted.KeyId);
                sender.Tell(new KeyRemoved(deleted.KeyId));
                break;
        }
    }

    private void AnnounceExpiredKeys()
    {
        var now = DateTimeOffset.UtcNow;
        foreach (var record in _snapshot.ById.Values)
        {
            if (record.Policy.IsExpired(now) && _expiredAnnounced.Add(record.Id))
            {
                _log.Info("Key {KeyId} expired at {Expires}; its live WebSockets are closed with 1008", record.Id, record.Policy.Expires);
                Context.System.EventStream.Publish(new KeyExpired(record.Id));
            }
        }
    }

    private sealed record Change(IKeyEvent Event, string? Key);

    private sealed record CheckExpiry
    {
        public static readonly CheckExpiry Instance = new();
    }
}
