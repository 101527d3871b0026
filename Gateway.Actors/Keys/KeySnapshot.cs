using System.Collections.Immutable;

namespace Gateway.Actors.Keys;

/// <summary>
/// Immutable view of every key, indexed by hash for the request path and by public id for the admin
/// API. The key store replaces it whole after each change.
/// </summary>
public sealed class KeySnapshot
{
    public static readonly KeySnapshot Empty = new(ImmutableDictionary<string, KeyRecord>.Empty);

    private readonly ImmutableDictionary<string, KeyRecord> _byHash;

    public KeySnapshot(ImmutableDictionary<string, KeyRecord> byId)
    {
        ById = byId;
        _byHash = byId.Values.ToImmutableDictionary(record => record.Hash, StringComparer.Ordinal);
    }

    public ImmutableDictionary<string, KeyRecord> ById { get; }

    /// <summary>Finds the record whose hash matches the SHA-256 hash of <paramref name="key"/>.</summary>
    public KeyRecord? FindByKey(string key) => _byHash.GetValueOrDefault(KeyText.Hash(key));

    /// <summary>Applies one stored event and returns the new snapshot.</summary>
    public KeySnapshot Apply(KeyStoreProtocol.IKeyEvent change) => change switch
    {
        KeyStoreProtocol.KeyCreated created => new KeySnapshot(ById.SetItem(created.Record.Id, created.Record)),
        KeyStoreProtocol.KeyUpdated updated => new KeySnapshot(ById.SetItem(updated.Record.Id, updated.Record)),
        KeyStoreProtocol.KeyDeleted deleted => new KeySnapshot(ById.Remove(deleted.KeyId)),
        _ => this,
    };
}

/// <summary>The current key snapshot, published by the key store and read by the request path without a lock.</summary>
public sealed class KeySnapshotHolder
{
    private volatile KeySnapshot _current = KeySnapshot.Empty;

    public KeySnapshot Current => _current;

    public void Publish(KeySnapshot snapshot) => _current = snapshot;
}
