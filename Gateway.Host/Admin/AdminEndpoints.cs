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
            "Available: GET /hello, GET /admin/status, GET|POST /admin/keys, GET|PUT|DELETE /admin/keys/{id}, GET|POST /admin/apis, GET|PUT|DELETE /admin/apis/{id}.");
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
        var connections = listed.Apis.ToDictionary(api => api.ApiId);
        var apis = routes.Routes.Select(route => new
        {
            id = route.Definition.Id,
            name = route.Definition.Name,
            listenPath = route.Definition.ListenPath,
            targets = route.Definition.TargetUrls.Select(uri => uri.ToString()),
            liveConnections = connections.TryGetValue(route.Definition.Id, out var api) ? api.Connections.Count : 0,
            connectionActors = connections.TryGetValue(route.Definition.Id, out var actors) ? actors.LiveActors : 0,
        });
        await context.Response.WriteAsJsonAsync(new { version = Version, apis });
    }
}
