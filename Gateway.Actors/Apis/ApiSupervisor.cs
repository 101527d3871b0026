using Akka.Actor;
using Akka.Event;
using Gateway.Actors.Configuration;
using Gateway.Actors.Connections;
using Gateway.Actors.Resilience;
using Gateway.Actors.Routing;
using static Gateway.Actors.Apis.ApiSupervisorProtocol;

namespace Gateway.Actors.Apis;

/// <summary>
/// Parent of the API actors: creates one per configured API and publishes the route table that maps
/// listen paths to them.
/// </summary>
public sealed class ApiSupervisor : ReceiveActor
{
    private readonly List<ApiRoute> _routes = new();
    private readonly ILoggingAdapter _log = Context.GetLogger();

    public ApiSupervisor(
        IReadOnlyList<ApiDefinition> apis,
        RouteTableHolder holder,
        Func<SocketsHttpConnectionContext, CancellationToken, ValueTask<Stream>>? upstreamConnect)
    {
        foreach (var api in apis)
        {
            if (api.UpstreamTls.InsecureSkipVerify)
            {
                _log.Warning("API {ApiId} accepts any upstream certificate (upstream-tls.insecure-skip-verify = on), " +
                    "so anyone on the network path to {Targets} can read and change its traffic; turn it off outside tests",
                    api.Id, string.Join(", ", api.TargetUrls));
            }

            var invoker = UpstreamHandlers.Create(api, upstreamConnect);
            var resilience = api.ResilienceOrDefault;
            var targets = new TargetSelector(api.TargetUrls, resilience.LoadBalancing, resilience.SkipFailedTargetFor);
            var breaker = resilience.CircuitBreaker is { } settings ? CreateBreaker(api, settings) : null;
            var actor = Context.ActorOf(ApiActor.Props(api, invoker, targets, breaker), api.Id);
            _routes.Add(new ApiRoute(api, actor, invoker, targets, breaker));
            _log.Info("API {ApiId} ({ApiName}) listens on {ListenPath} and forwards to {Targets}",
                api.Id, api.Name, api.ListenPath, string.Join(", ", api.TargetUrls));
        }

        holder.Publish(new RouteTable(_routes));

        Receive<CloseAllConnections>(close =>
        {
            foreach (var route in _routes)
            {
                route.Actor.Tell(new ConnectionProtocol.CloseConnections(close.CloseCode, close.Reason));
            }

            Sender.Tell(new ConnectionsClosing(_routes.Count));
        });
        ReceiveAsync<GetAllConnections>(async _ =>
        {
            var sender = Sender;
            var listings = await Task.WhenAll(_routes.Select(route =>
                route.Actor.Ask<ConnectionProtocol.ConnectionsListed>(new ConnectionProtocol.GetConnections(), TimeSpan.FromSeconds(5))));
            sender.Tell(new AllConnectionsListed(listings));
        });
    }

    private static CircuitBreaker CreateBreaker(ApiDefinition api, BreakerSettings settings)
    {
        var log = Serilog.Log.ForContext<CircuitBreaker>();
        return new CircuitBreaker(settings.Threshold, settings.Samples, settings.ReturnToServiceAfter, onTransition: (state, snapshot) =>
        {
            if (state == BreakerState.Open)
            {
                log.Warning("Circuit breaker of API {ApiId} opened: {Failures} of the last {Samples} upstream calls failed (threshold {Threshold}); " +
                    "answering 503 without calling the upstream for {ReturnSeconds} s",
                    api.Id, snapshot.Failures, snapshot.Samples, settings.Threshold, settings.ReturnToServiceAfter.TotalSeconds);
            }
            else
            {
                log.Information("Circuit breaker of API {ApiId} is now {BreakerState}", api.Id, state);
            }
        });
    }

    /// <param name="upstreamConnect">Replaces how upstream connections are opened (see <see cref="UpstreamHandlers.Create"/>); null for the default.</param>
    public static Props Props(
        IReadOnlyList<ApiDefinition> apis,
        RouteTableHolder holder,
        Func<SocketsHttpConnectionContext, CancellationToken, ValueTask<Stream>>? upstreamConnect = null) =>
        Akka.Actor.Props.Create(() => new ApiSupervisor(apis, holder, upstreamConnect));

    // An API actor's state is its live connections; a restart would drop every one of them, so a
    // failure in its own code is logged and the actor resumes.
    protected override SupervisorStrategy SupervisorStrategy() =>
        new OneForOneStrategy(error => Directive.Resume);

    protected override void PostStop()
    {
        foreach (var route in _routes)
        {
            route.Invoker.Dispose();
        }
    }
}
