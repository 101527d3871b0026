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
}
