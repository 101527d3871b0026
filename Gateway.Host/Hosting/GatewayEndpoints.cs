using System.Net;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Gateway.Host.Hosting;

/// <summary>
/// The endpoints each listener is bound to, with the real port once Kestrel has started (a configured
/// port of 0 takes any free one, which the tests rely on).
/// </summary>
public sealed class GatewayEndpoints
{
    private readonly List<(ListenerKind Kind, ListenOptions Options)> _listeners = new();

    internal void Add(ListenerKind kind, ListenOptions options) => _listeners.Add((kind, options));

    public IReadOnlyList<IPEndPoint> Of(ListenerKind kind) =>
        _listeners.Where(listener => listener.Kind == kind && listener.Options.IPEndPoint is not null)
            .Select(listener => listener.Options.IPEndPoint!)
            .ToArray();
}
