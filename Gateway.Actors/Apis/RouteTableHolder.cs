using Gateway.Actors.Routing;

namespace Gateway.Actors.Apis;

/// <summary>
/// The current route table, published by the API supervisor and read by the request path without a
/// lock or an actor round trip.
/// </summary>
public sealed class RouteTableHolder
{
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile RouteTable _current = RouteTable.Empty;

    public RouteTable Current => _current;

    /// <summary>Completes when the first table has been published.</summary>
    public Task Ready => _ready.Task;

    public void Publish(RouteTable table)
    {
        _current = table;
        _ready.TrySetResult();
    }
}
