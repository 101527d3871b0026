using Akka.Actor;
using Akka.Event;
using Gateway.Actors.Configuration;
using Gateway.Actors.Connections;
using static Gateway.Actors.Apis.ApiSupervisorProtocol;

namespace Gateway.Actors.Apis;

/// <summary>Reloading the configuration file's APIs without dropping the connections of unchanged ones.</summary>
public sealed partial class ApiSupervisor
{
    private Task ReloadAsync(ReloadApis reload)
    {
        var added = new List<string>();
        var changed = new List<string>();
        var unchanged = new List<string>();
        var incoming = reload.Apis.ToDictionary(api => api.Id, StringComparer.Ordinal);

        // 1. APIs gone from the file: their connections end with 1012 (service restart).
        var removed = _fileApiIds.Where(id => !incoming.ContainsKey(id)).ToList();
        foreach (var id in removed)
        {
            _fileApiIds.Remove(id);
            if (_routes.Remove(id, out var old))
            {
                Retire(old, "API removed from the configuration file");
            }
        }

        // 2. New and changed APIs. A changed API's open connections keep the definition they were opened
        //    under: its old actor admits nothing new and stops when they have ended.
        foreach (var api in reload.Apis)
        {
            if (_routes.TryGetValue(api.Id, out var current) && _fileApiIds.Contains(api.Id))
            {
                if (current.Definition.Fingerprint == api.Fingerprint)
                {
                    unchanged.Add(api.Id);
                    continue;
                }

                changed.Add(api.Id);
                RetireWhenIdle(current);
            }
            else
            {
                if (_runtimeApis.Remove(api.Id))
                {
                    _log.Warning("API {ApiId} defined through the admin API is replaced by the API of the same id in the configuration file", api.Id);
                }

                if (_routes.Remove(api.Id, out var runtime))
                {
                    Retire(runtime, "API replaced by the configuration file");
                }

                added.Add(api.Id);
            }

            _fileApiIds.Add(api.Id);
            AddRoute(api);
        }

        PublishRoutes();
        _log.Info("Reloaded the configuration file's APIs: added {Added}, changed {Changed}, removed {Removed}, unchanged {Unchanged}",
            added, changed, removed, unchanged);
        Sender.Tell(new ApisReloaded(added, changed, removed, unchanged));
        return Task.CompletedTask;
    }

    /// <summary>Lets a replaced API actor finish its open connections under the old definition, then stop.</summary>
    private void RetireWhenIdle(Routing.ApiRoute route)
    {
        _retiring[route.Actor] = route;
        Context.Watch(route.Actor);
        route.Actor.Tell(new ConnectionProtocol.RetireWhenIdle());
    }
}
