using Gateway.Actors.Configuration;
using Gateway.Actors.Connections;

namespace Gateway.Actors.Apis;

/// <summary>Messages to the API supervisor.</summary>
public static class ApiSupervisorProtocol
{
    /// <summary>
    /// Asks every API actor to close its live connections with <paramref name="CloseCode"/>; the reply
    /// is <see cref="ConnectionsClosing"/> once every API actor was told.
    /// </summary>
    public sealed record CloseAllConnections(int CloseCode, string Reason);

    public sealed record ConnectionsClosing(int ApiCount);

    /// <summary>Asks every API actor for its live connections; the reply is <see cref="AllConnectionsListed"/>.</summary>
    public sealed record GetAllConnections;

    public sealed record AllConnectionsListed(IReadOnlyList<ConnectionProtocol.ConnectionsListed> Apis);

    /// <summary>
    /// Creates or replaces an API defined at run time and writes it to the API file first. With
    /// <paramref name="CreateOnly"/>, an existing id is a conflict. The reply is <see cref="ApiStored"/> or
    /// <see cref="ApiChangeRejected"/>. Connections of a replaced API keep the old definition until they end.
    /// </summary>
    public sealed record PutApi(ApiDefinition Definition, string Json, bool CreateOnly);

    /// <summary>Removes an API defined at run time; the reply is <see cref="ApiRemoved"/> or <see cref="ApiChangeRejected"/>.</summary>
    public sealed record RemoveApi(string Id);

    /// <summary>Asks for the APIs defined at run time; the reply is <see cref="RuntimeApisListed"/>.</summary>
    public sealed record GetRuntimeApis;

    public sealed record RuntimeApisListed(IReadOnlyList<RuntimeApi> Apis);

    public sealed record ApiStored(string Id, bool Created);

    public sealed record ApiRemoved(string Id);

    public enum RejectionReason
    {
        NotFound,
        Conflict,
        StorageFailed,
    }

    public sealed record ApiChangeRejected(string Id, RejectionReason Reason, string Detail);

    /// <summary>
    /// Published on the event stream after an API defined at run time was stored or removed
    /// (<paramref name="Json"/> null), so a cluster node can replicate the change.
    /// </summary>
    public sealed record RuntimeApiChanged(string Id, string? Json);

    /// <summary>
    /// Replaces the APIs of the configuration file with <paramref name="Apis"/>, read again from the file:
    /// an unchanged API keeps its actor and connections, a changed one serves new connections with the new
    /// definition while its open connections keep the old one until they end, and a removed one closes
    /// its connections with 1012. The reply is <see cref="ApisReloaded"/>.
    /// </summary>
    public sealed record ReloadApis(IReadOnlyList<ApiDefinition> Apis);

    public sealed record ApisReloaded(IReadOnlyList<string> Added, IReadOnlyList<string> Changed, IReadOnlyList<string> Removed, IReadOnlyList<string> Unchanged);
}
