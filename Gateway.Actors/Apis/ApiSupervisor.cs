using Akka.Actor;
using Akka.Event;
using Gateway.Actors.Configuration;
using Gateway.Actors.Connections;
using Gateway.Actors.Keys;
using Gateway.Actors.Limits;
using Gateway.Actors.Resilience;
using Gateway.Actors.Routing;
using static Gateway.Actors.Apis.ApiSupervisorProtocol;

namespace Gateway.Actors.Apis;

/// <summary>
/// Parent of the API actors: creates one per API, from the configuration file and from the API file
/// of the admin API, and publishes the route table that maps listen paths to them. It also closes the
/// WebSockets of deleted and expired keys with 1008.
/// </summary>
public sealed partial class ApiSupervisor : ReceiveActor, IWithTimers
{
    /// <summary>How long a replaced or removed API actor has to close its connections before it is stopped.</summary>
    private static readonly TimeSpan RetireGrace = TimeSpan.FromSeconds(5);

    private readonly Dictionary<string, ApiRoute> _routes = new(StringComparer.Ordinal);

    /// <summary>Actors of changed APIs that still serve connections opened under the old definition.</summary>
    private readonly Dictionary<IActorRef, ApiRoute> _retiring = new();
    private readonly HashSet<string> _fileApiIds;
    private readonly Dictionary<string, RuntimeApi> _runtimeApis = new(StringComparer.Ordinal);
    private readonly RouteTableHolder _holder;
    private readonly string? _apiFilePath;
    private readonly KeyConnectionCounts _keyConnections;
    private readonly UpstreamConnect? _upstreamConnect;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private int _generation;

    /// <param name="apis">APIs of the configuration file.</param>
    /// <param name="holder">Where the route table is published.</param>
    /// <param name="apiFilePath">File of the APIs defined at run time; null disables runtime APIs.</param>
    /// <param name="runtimeApis">Runtime APIs loaded from that file, already validated.</param>
    /// <param name="keyConnections">Live connections per key, shared by every API actor.</param>
    /// <param name="upstreamConnect">Replaces how upstream connections are opened (see <see cref="UpstreamHandlers.Create"/>); null for the default.</param>
    public ApiSupervisor(
        IReadOnlyList<ApiDefinition> apis,
        RouteTableHolder holder,
        string? apiFilePath = null,
        IReadOnlyList<(RuntimeApi Api, ApiDefinition Definition)>? runtimeApis = null,
        KeyConnectionCounts? keyConnections = null,
        UpstreamConnect? upstreamConnect = null)
    {
        _holder = holder;
        _apiFilePath = apiFilePath;
        _keyConnections = keyConnections ?? new KeyConnectionCounts();
        _upstreamConnect = upstreamConnect;
        _fileApiIds = apis.Select(api => api.Id).ToHashSet(StringComparer.Ordinal);
        foreach (var api in apis)
        {
            AddRoute(api);
        }

        foreach (var (runtime, definition) in runtimeApis ?? Array.Empty<(RuntimeApi, ApiDefinition)>())
        {
            if (_fileApiIds.Contains(runtime.Id))
            {
                _log.Warning("API {ApiId} from the API file is ignored because the configuration file defines an API with the same id", runtime.Id);
                continue;
            }

            _runtimeApis[runtime.Id] = runtime;
            AddRoute(definition);
        }

        PublishRoutes();

        Receive<CloseAllConnections>(close =>
        {
            foreach (var route in _routes.Values.Concat(_retiring.Values))
            {
                route.Actor.Tell(new ConnectionProtocol.CloseConnections(close.CloseCode, close.Reason));
            }

            Sender.Tell(new ConnectionsClosing(_routes.Count));
        });
        ReceiveAsync<GetAllConnections>(async _ =>
        {
            var sender = Sender;
            var listings = await Task.WhenAll(_routes.Values.Concat(_retiring.Values).Select(route =>
                route.Actor.Ask<ConnectionProtocol.ConnectionsListed>(new ConnectionProtocol.GetConnections(), TimeSpan.FromSeconds(5))));
            sender.Tell(new AllConnectionsListed(listings));
        });
        ReceiveAsync<PutApi>(PutAsync);
        ReceiveAsync<RemoveApi>(RemoveAsync);
        Receive<GetRuntimeApis>(_ => Sender.Tell(new RuntimeApisListed(_runtimeApis.Values.ToArray())));
        Receive<KeyStoreProtocol.IKeyEvent>(OnKeyEvent);
        Receive<Retired>(retired =>
        {
            Context.Stop(retired.Route.Actor);
            retired.Route.Invoker.Dispose();
        });
        ReceiveAsync<ReloadApis>(ReloadAsync);
        Receive<Terminated>(terminated =>
        {
            if (_retiring.Remove(terminated.ActorRef, out var retired))
            {
                _log.Info("API {ApiId}: the last connection under its previous definition has ended", retired.Definition.Id);
                retired.Invoker.Dispose();
            }
        });
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(
        IReadOnlyList<ApiDefinition> apis,
        RouteTableHolder holder,
        string? apiFilePath = null,
        IReadOnlyList<(RuntimeApi Api, ApiDefinition Definition)>? runtimeApis = null,
        KeyConnectionCounts? keyConnections = null,
        UpstreamConnect? upstreamConnect = null) =>
        Akka.Actor.Props.Create(() => new ApiSupervisor(apis, holder, apiFilePath, runtimeApis, keyConnections, upstreamConnect));

    // An API actor's state is its live connections, and a restart would drop every one of them. So a
    // failure in its own code is logged and the actor resumes.
    protected override SupervisorStrategy SupervisorStrategy() =>
        new OneForOneStrategy(error => Directive.Resume);

    protected override void PreStart() =>
        Context.System.EventStream.Subscribe(Self, typeof(KeyStoreProtocol.IKeyEvent));

    protected override void PostStop()
    {
        Context.System.EventStream.Unsubscribe(Self);
        foreach (var route in _routes.Values)
        {
            route.Invoker.Dispose();
        }
    }

    private void AddRoute(ApiDefinition api)
    {
        if (api.UpstreamTls.InsecureSkipVerify)
        {
            _log.Warning("API {ApiId} accepts any upstream certificate (upstream-tls.insecure-skip-verify = on), " +
                "so anyone on the network path to {Targets} can read and change its traffic; turn it off outside tests",
                api.Id, string.Join(", ", api.TargetUrls));
        }

        var invoker = UpstreamHandlers.Create(api, _upstreamConnect);
        var resilience = api.ResilienceOrDefault;
        var targets = new TargetSelector(api.TargetUrls, resilience.LoadBalancing, resilience.SkipFailedTargetFor);
        var breaker = resilience.CircuitBreaker is { } settings ? CreateBreaker(api, settings) : null;
        var connector = new UpstreamConnector(api, _upstreamConnect);
        var actor = Context.ActorOf(ApiActor.Props(api, connector, targets, breaker, _keyConnections), $"{api.Id}-{++_generation}");
        _routes[api.Id] = new ApiRoute(api, actor, invoker, targets, breaker);
        _log.Info("API {ApiId} ({ApiName}) listens on {ListenPath} and forwards to {Targets}",
            api.Id, api.Name, api.ListenPath, string.Join(", ", api.TargetUrls));
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

    private void PublishRoutes() => _holder.Publish(new RouteTable(_routes.Values));

    private async Task PutAsync(PutApi put)
    {
        var sender = Sender;
        var id = put.Definition.Id;
        var problem = CheckPut(put);
        if (problem is not null)
        {
            sender.Tell(problem);
            return;
        }

        var next = new Dictionary<string, RuntimeApi>(_runtimeApis, StringComparer.Ordinal) { [id] = new RuntimeApi(id, put.Json) };
        if (!await SaveAsync(next.Values, id, sender))
        {
            return;
        }

        var created = !_runtimeApis.ContainsKey(id);
        _runtimeApis[id] = next[id];
        if (_routes.TryGetValue(id, out var old))
        {
            RetireWhenIdle(old);
        }

        AddRoute(put.Definition);
        PublishRoutes();
        Context.System.EventStream.Publish(new RuntimeApiChanged(id, put.Json));
        sender.Tell(new ApiStored(id, created));
    }

    private ApiChangeRejected? CheckPut(PutApi put)
    {
        var id = put.Definition.Id;
        if (_apiFilePath is null)
        {
            return new ApiChangeRejected(id, RejectionReason.StorageFailed, "this gateway has no data directory for APIs defined at run time");
        }

        if (_fileApiIds.Contains(id))
        {
            return new ApiChangeRejected(id, RejectionReason.Conflict, $"API '{id}' is defined in the configuration file; change it there and reload");
        }

        if (put.CreateOnly && _runtimeApis.ContainsKey(id))
        {
            return new ApiChangeRejected(id, RejectionReason.Conflict, $"API '{id}' already exists; use PUT /admin/apis/{id} to replace it");
        }

        var clash = _routes.Values.FirstOrDefault(route => route.Definition.Id != id && route.Definition.ListenPath == put.Definition.ListenPath);
        return clash is null
            ? null
            : new ApiChangeRejected(id, RejectionReason.Conflict, $"API '{clash.Definition.Id}' already listens on \"{clash.Definition.ListenPath}\"; give each API its own listen-path");
    }

    private async Task RemoveAsync(RemoveApi remove)
    {
        var sender = Sender;
        if (_fileApiIds.Contains(remove.Id))
        {
            sender.Tell(new ApiChangeRejected(remove.Id, RejectionReason.Conflict, $"API '{remove.Id}' is defined in the configuration file; remove it there and reload"));
            return;
        }

        if (!_runtimeApis.ContainsKey(remove.Id))
        {
            sender.Tell(new ApiChangeRejected(remove.Id, RejectionReason.NotFound, $"no API with id '{remove.Id}' was created through the admin API"));
            return;
        }

        var next = _runtimeApis.Values.Where(api => api.Id != remove.Id).ToArray();
        if (!await SaveAsync(next, remove.Id, sender))
        {
            return;
        }

        _runtimeApis.Remove(remove.Id);
        if (_routes.Remove(remove.Id, out var old))
        {
            Retire(old, "API removed");
        }

        PublishRoutes();
        Context.System.EventStream.Publish(new RuntimeApiChanged(remove.Id, null));
        sender.Tell(new ApiRemoved(remove.Id));
    }

    private async Task<bool> SaveAsync(IEnumerable<RuntimeApi> apis, string id, IActorRef sender)
    {
        try
        {
            await ApiFile.SaveAsync(_apiFilePath!, apis);
            return true;
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            _log.Error(error, "Writing the API file {ApiFile} failed, so API {ApiId} was not changed", _apiFilePath, id);
            sender.Tell(new ApiChangeRejected(id, RejectionReason.StorageFailed, $"writing the API file failed: {error.Message}"));
            return false;
        }
    }

    /// <summary>Closes the connections of a replaced or removed API with 1012 and stops its actor after a grace period.</summary>
    private void Retire(ApiRoute route, string reason)
    {
        _log.Info("API {ApiId}: {Reason}; its live WebSockets are closed with 1012", route.Definition.Id, reason);
        route.Actor.Tell(new ConnectionProtocol.CloseConnections(CloseCodes.ServiceRestart, reason));
        Timers.StartSingleTimer(route.Actor.Path.Name, new Retired(route), RetireGrace);

        // Connections still open under an earlier definition of the same API end too; their actor
        // stops by itself when its last connection has ended.
        foreach (var previous in _retiring.Values.Where(previous => previous.Definition.Id == route.Definition.Id))
        {
            previous.Actor.Tell(new ConnectionProtocol.CloseConnections(CloseCodes.ServiceRestart, reason));
        }
    }

    private void OnKeyEvent(KeyStoreProtocol.IKeyEvent change)
    {
        switch (change)
        {
            case KeyStoreProtocol.KeyDeleted:
                CloseKeyConnections(_routes.Values.Concat(_retiring.Values), change.KeyId, "key revoked");
                break;
            case KeyStoreProtocol.KeyExpired:
                CloseKeyConnections(_routes.Values.Concat(_retiring.Values), change.KeyId, "key expired");
                break;
            case KeyStoreProtocol.KeyUpdated updated:
                CloseKeyConnections(
                    _routes.Values.Where(route => !updated.Record.Policy.Allows(route.Definition.Id)),
                    change.KeyId,
                    "key no longer has access to this API");
                break;
        }
    }

    private static void CloseKeyConnections(IEnumerable<ApiRoute> routes, string keyId, string reason)
    {
        foreach (var route in routes)
        {
            route.Actor.Tell(new ConnectionProtocol.CloseKeyConnections(keyId, CloseCodes.PolicyViolation, reason));
        }
    }

    private sealed record Retired(ApiRoute Route);
}
