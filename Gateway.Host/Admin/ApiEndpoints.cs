using Akka.Actor;
using Akka.Configuration;
using Akka.Hosting;
using Gateway.Actors.Apis;
using Gateway.Actors.Configuration;
using Gateway.Host.Proxy;
using static Gateway.Actors.Apis.ApiSupervisorProtocol;

namespace Gateway.Host.Admin;

/// <summary>
/// GET|POST /admin/apis and GET|PUT|DELETE /admin/apis/{id}: APIs defined at run time with the same
/// fields as in HOCON, plus "id" in a POST body. APIs from the configuration file are listed but
/// cannot be changed here.
/// </summary>
public static class ApiEndpoints
{
    public const string Prefix = "/admin/apis";

    private static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(10);

    public static async Task HandleAsync(HttpContext context)
    {
        var id = AdminRequest.IdAfter(context.Request.Path, Prefix);
        var method = context.Request.Method;
        var supervisor = context.RequestServices.GetRequiredService<ActorRegistry>().Get<ApiSupervisor>();
        switch (id)
        {
            case null when HttpMethods.IsGet(method):
                await ListAsync(context, supervisor, null);
                return;
            case null when HttpMethods.IsPost(method):
                await PutAsync(context, supervisor, null);
                return;
            case not null when HttpMethods.IsGet(method):
                await ListAsync(context, supervisor, id);
                return;
            case not null when HttpMethods.IsPut(method):
                await PutAsync(context, supervisor, id);
                return;
            case not null when HttpMethods.IsDelete(method):
                await AnswerAsync(context, await supervisor.Ask(new RemoveApi(id), AskTimeout, context.RequestAborted));
                return;
            default:
                await GatewayErrors.WriteJsonAsync(context, StatusCodes.Status405MethodNotAllowed,
                    $"{method} is not supported on {context.Request.Path.Value}. Use GET or POST on /admin/apis, and GET, PUT or DELETE on /admin/apis/{{id}}.");
                return;
        }
    }

    private static async Task ListAsync(HttpContext context, IActorRef supervisor, string? id)
    {
        var runtime = await supervisor.Ask<RuntimeApisListed>(new GetRuntimeApis(), AskTimeout, context.RequestAborted);
        var runtimeIds = runtime.Apis.ToDictionary(api => api.Id, api => api.Json);
        var routes = context.RequestServices.GetRequiredService<RouteTableHolder>().Current.Routes;
        var views = routes
            .Where(route => id is null || route.Definition.Id == id)
            .OrderBy(route => route.Definition.Id, StringComparer.Ordinal)
            .Select(route => new Dictionary<string, object?>
            {
                ["id"] = route.Definition.Id,
                ["name"] = route.Definition.Name,
                ["listen-path"] = route.Definition.ListenPath,
                ["target-urls"] = route.Definition.TargetUrls.Select(uri => uri.ToString()),
                ["auth"] = route.Definition.Auth.Mode.ToString().ToLowerInvariant(),
                ["source"] = runtimeIds.ContainsKey(route.Definition.Id) ? "admin" : "file",
                ["definition"] = runtimeIds.TryGetValue(route.Definition.Id, out var json) ? System.Text.Json.JsonDocument.Parse(json).RootElement : null,
            })
            .ToArray();
        if (id is null)
        {
            await context.Response.WriteAsJsonAsync(views);
        }
        else if (views.Length == 1)
        {
            await context.Response.WriteAsJsonAsync(views[0]);
        }
        else
        {
            await GatewayErrors.WriteJsonAsync(context, StatusCodes.Status404NotFound, $"No API with id '{id}'. GET /admin/apis lists the APIs.");
        }
    }

    private static async Task PutAsync(HttpContext context, IActorRef supervisor, string? id)
    {
        var source = id is null ? "POST /admin/apis" : $"PUT /admin/apis/{id}";
        string json;
        ApiDefinition definition;
        try
        {
            var body = await AdminRequest.ReadBodyAsync(context);
            var node = System.Text.Json.Nodes.JsonNode.Parse(body) as System.Text.Json.Nodes.JsonObject
                ?? throw new ConfigException(new[] { $"{source}: expected a JSON object with the API's fields." });
            var bodyId = node["id"]?.GetValue<string>();
            node.Remove("id");
            id ??= bodyId ?? throw new ConfigException(new[] { $"{source}: id: missing; give the new API an \"id\"." });
            if (bodyId is not null && bodyId != id)
            {
                throw new ConfigException(new[] { $"{source}: id: found \"{bodyId}\", expected \"{id}\" as in the URL." });
            }

            json = node.ToJsonString();
            definition = GatewayConfigLoader.ReadApi(id, ConfigurationFactory.ParseString(json), source);
        }
        catch (Exception error) when (error is ConfigException or System.Text.Json.JsonException or InvalidOperationException or FormatException)
        {
            var detail = error is ConfigException config ? string.Join(" ", config.Problems) : error.Message;
            await GatewayErrors.WriteJsonAsync(context, StatusCodes.Status400BadRequest, $"Invalid API definition: {detail}");
            return;
        }

        var answer = await supervisor.Ask(new PutApi(definition, json, CreateOnly: HttpMethods.IsPost(context.Request.Method)), AskTimeout, context.RequestAborted);
        await AnswerAsync(context, answer);
    }

    private static async Task AnswerAsync(HttpContext context, object answer)
    {
        switch (answer)
        {
            case ApiStored stored:
                context.Response.StatusCode = stored.Created ? StatusCodes.Status201Created : StatusCodes.Status200OK;
                context.Response.Headers.Location = $"{Prefix}/{stored.Id}";
                await context.Response.WriteAsJsonAsync(new { id = stored.Id });
                return;
            case ApiRemoved:
                context.Response.StatusCode = StatusCodes.Status204NoContent;
                return;
            case ApiChangeRejected rejected:
                var status = rejected.Reason switch
                {
                    RejectionReason.NotFound => StatusCodes.Status404NotFound,
                    RejectionReason.Conflict => StatusCodes.Status409Conflict,
                    _ => StatusCodes.Status500InternalServerError,
                };
                await GatewayErrors.WriteJsonAsync(context, status, $"API '{rejected.Id}' was not changed: {rejected.Detail}.");
                return;
        }
    }
}
