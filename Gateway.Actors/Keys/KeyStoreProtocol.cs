namespace Gateway.Actors.Keys;

/// <summary>Commands, queries, replies and events of the key store.</summary>
public static class KeyStoreProtocol
{
    /// <summary>Creates a key; the reply is <see cref="KeyStored"/> with the key text, or <see cref="KeyStoreFailed"/>.</summary>
    public sealed record CreateKey(KeyPolicy Policy);

    /// <summary>Replaces a key's policy; the reply is <see cref="KeyStored"/>, <see cref="KeyNotFound"/> or <see cref="KeyStoreFailed"/>.</summary>
    public sealed record UpdateKey(string Id, KeyPolicy Policy);

    /// <summary>Deletes a key and closes its live WebSockets with 1008; the reply is <see cref="KeyRemoved"/>, <see cref="KeyNotFound"/> or <see cref="KeyStoreFailed"/>.</summary>
    public sealed record DeleteKey(string Id);

    /// <summary>The change is on disk. <paramref name="Key"/> is the key text, set only in the reply to <see cref="CreateKey"/>.</summary>
    public sealed record KeyStored(KeyRecord Record, string? Key);

    public sealed record KeyRemoved(string Id);

    public sealed record KeyNotFound(string Id);

    /// <summary>The change could not be written to disk and was not applied.</summary>
    public sealed record KeyStoreFailed(string Reason);

    /// <summary>Events the store applies to its state and publishes, in the order they happened.</summary>
    public interface IKeyEvent
    {
        string KeyId { get; }
    }

    public sealed record KeyCreated(KeyRecord Record) : IKeyEvent
    {
        public string KeyId => Record.Id;
    }

    public sealed record KeyUpdated(KeyRecord Record) : IKeyEvent
    {
        public string KeyId => Record.Id;
    }

    public sealed record KeyDeleted(string KeyId) : IKeyEvent;

    /// <summary>
    /// Published (not stored) when a key's expiry time has passed; the key stays in the store and is
    /// rejected with 401 from then on.
    /// </summary>
    public sealed record KeyExpired(string KeyId) : IKeyEvent;
}
