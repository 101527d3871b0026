namespace Gateway.Actors.Connections;

/// <summary>
/// The client side of an upgraded connection, as the host hands it over after the 101: the duplex
/// stream and a way to end the connection, which a plain stream's Dispose does not do for an
/// upgraded HTTP connection.
/// </summary>
public interface IClientConnection
{
    Stream Stream { get; }

    /// <summary>Ends the client connection after flushing what was written. Idempotent.</summary>
    void Close();
}
