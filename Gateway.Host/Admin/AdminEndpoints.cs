using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using Akka.Actor;
using Akka.Hosting;
using Gateway.Actors.Apis;
using Gateway.Actors.Configuration;
using Gateway.Host.Proxy;

namespace Gateway.Host.Admin;

/// <summary>The admin listener's requests: liveness, status, and the bearer-secret check in front of them.</summary>
public static class AdminEndpoints
{
    public static string Version { get; } =
        typeof(AdminEndpoints).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";

    public static Task HelloAsync(HttpContext context)
    {
        context.Response.ContentType = "application/json; charset=utf-8";
        return context.Response.WriteAsJsonAsync(new { status = "pass", version = Version });
    }

    public static async Task HandleAsync(HttpContext context)
    {
        var settings = context.RequestServices.GetRequiredService<GatewaySettings>();
        if (context.Request.Path == "/hello")
        {
            await HelloAsync(context);
            return;
        }

        if (!await AuthorizeAsync(context, settings.Admin.Secret))
        {
            return;
        }

        if (context.Request.Path == "/admin/status" && HttpMethods.IsGet(context.Request.Method))
        {
            await StatusAsync(context);
            return;
        }

        if (context.Request.Path == "/admin/reload" && HttpMethods.IsPost(context.Request.Method))
        {
            await ReloadAsync(context);
            return;
        }

        if (context.Request.Path.StartsWithSegments(KeyEndpoints.Prefix))
        {
            await KeyEndpoints.HandleAsync(context);
            return;
        }

        if (context.Request.Path.StartsWithSegments(ApiEndpoints.Prefix))
        {
            await ApiEndpoints.HandleAsync(context);
            return;
        }

        await GatewayErrors.WriteJsonAsync(context, StatusCodes.Status404NotFound,
            $"No admin endpoint {context.Request.Method} {context.Request.Path.Value}. " +
            "Available: GET /hello, GET /admin/status, POST /admin/reload, GET|POST /admin/keys, GET|PUT|DELETE /admin/keys/{id}, GET|POST /admin/apis, GET|PUT|DELETE /admin/apis/{id}.");
    }

    private static async Task<bool> AuthorizeAsync(HttpContext context, string? secret)
    {
        if (secret is null)
        {
            // Only possible on a loopback admin listener: configuration loading rejects a secretless
            // admin listener on any other address.
            return true;
        }

        var header = context.Request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            context.Response.Headers.WWWAuthenticate = "Bearer";
            await GatewayErrors.WriteJsonAsync(context, StatusCodes.Status401Unauthorized,
                "The admin API needs 'Authorization: Bearer <admin secret>'.");
            return false;
        }

        // Hashing both sides first makes the comparison constant-time in the secret's length too.
        var given = SHA256.HashData(Encoding.UTF8.GetBytes(header["Bearer ".Length..].Trim()));
        var expected = SHA256.HashData(Encoding.UTF8.GetBytes(secret));
        if (!CryptographicOperations.FixedTimeEquals(given, expected))
        {
            await GatewayErrors.WriteJsonAsync(context, StatusCodes.Status403Forbidden,
                "The admin secret is wrong. Use the value of gateway.admin.secret (or GATEWAY_ADMIN_SECRET).");
            return false;
        }

        return true;
    }

    private static async Task StatusAsync(HttpContext context)
    {
        var supervisor = context.RequestServices.GetRequiredService<ActorRegistry>().Get<ApiSupervisor>();
        var routes = context.RequestServices.GetRequiredService<RouteTableHolder>().Current;
        var listed = await supervisor.Ask<ApiSupervisorProtocol.AllConnectionsListed>(
            new ApiSupervisorProtocol.GetAllConnections(), TimeSpan.FromSeconds(5), context.RequestAborted);
        // An API changed by a reload may have two actors for a while: the new one and the old one that
        // finishes the connections opened under the previous definition. Their counts add up.
        var connections = listed.Apis.GroupBy(api => api.ApiId)
            .ToDictionary(group => group.Key, group => (Live: group.Sum(api => api.Connections.Count), Actors: group.Sum(api => api.LiveActors)));
        var apis = routes.Routes.Select(route =>
        {
            var breaker = route.Breaker?.Snapshot();
            var counts = connections.GetValueOrDefault(route.Definition.Id);
            return new
            {
                id = route.Definition.Id,
                name = route.Definition.Name,
                listenPath = route.Definition.ListenPath,
                targets = route.Definition.TargetUrls.Select(uri => new { url = uri.ToString(), liveConnections = route.Targets.LiveConnections(uri) }),
                liveConnections = counts.Live,
                connectionActors = counts.Actors,
                circuitBreaker = breaker is null
                    ? null
                    : new { state = breaker.State.ToString(), failures = breaker.Failures, samples = breaker.Samples, openUntil = breaker.OpenUntil },
            };
        });
        await context.Response.WriteAsJsonAsync(new { version = Version, apis, cluster = ClusterMembers(context) });
    }

    /// <summary>The cluster's members and their status; null when the gateway runs as a single process.</summary>
    private static object? ClusterMembers(HttpContext context)
    {
        var system = context.RequestServices.GetRequiredService<ActorSystem>();
        if (system is not Akka.Actor.ExtendedActorSystem extended || extended.Provider is not Akka.Cluster.ClusterActorRefProvider)
        {
            return null;
        }

        var cluster = Akka.Cluster.Cluster.Get(system);
        var state = cluster.State;
        return new
        {
            self = cluster.SelfAddress.ToString(),
            leader = state.Leader?.ToString(),
            members = state.Members.Select(member => new { address = member.Address.ToString(), status = member.Status.ToString() }),
            unreachable = state.Unreachable.Select(member => member.Address.ToString()),
        };
    }

    /// <summary>
    /// Reads the configuration file again and applies its APIs. Only <c>gateway.apis</c> and
    /// <c>gateway.api-defaults</c> take effect; listeners, admin and TLS settings need a restart.
    /// </summary>
    private static async Task ReloadAsync(HttpContext context)
    {
        var loaded = context.RequestServices.GetRequiredService<LoadedConfig>();
        if (loaded.FilePath is null)
        {
            await GatewayErrors.WriteJsonAsync(context, StatusCodes.Status409Conflict,
                "This gateway was started without --config FILE, so there is no file to reload.");
            return;
        }

        LoadedConfig reloaded;
        try
        {
            reloaded = GatewayConfigLoader.LoadFile(loaded.FilePath);
        }
        catch (ConfigException error)
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            await context.Response.WriteAsJsonAsync(new
            {
                error = $"The configuration file is invalid, so nothing was reloaded. Fix it and reload again.",
                problems = error.Problems,
            });
            return;
        }

        var supervisor = context.RequestServices.GetRequiredService<ActorRegistry>().Get<ApiSupervisor>();
        var result = await supervisor.Ask<ApiSupervisorProtocol.ApisReloaded>(
            new ApiSupervisorProtocol.ReloadApis(reloaded.Gateway.Apis), TimeSpan.FromSeconds(10), context.RequestAborted);
        var restartRequired = SettingsNeedingRestart(loaded, reloaded);
        await context.Response.WriteAsJsonAsync(new
        {
            added = result.Added,
            changed = result.Changed,
            removed = result.Removed,
            unchanged = result.Unchanged,
            restartRequired,
        });
    }

    /// <summary>The <c>gateway</c> keys other than the APIs whose value changed in the file: a reload does not apply them.</summary>
    private static IReadOnlyList<string> SettingsNeedingRestart(LoadedConfig running, LoadedConfig reloaded)
    {
        var before = running.Root.GetConfig("gateway");
        var after = reloaded.Root.GetConfig("gateway");
        var keys = before.Root.GetObject().Items.Keys.Union(after.Root.GetObject().Items.Keys);
        return keys
            .Where(key => key is not ("apis" or "api-defaults"))
            .Where(key => before.GetValue(key)?.ToString() != after.GetValue(key)?.ToString())
            .Select(key => $"gateway.{key}")
            .Order(StringComparer.Ordinal)
            .ToArray();
    }
}
