using Akka.Actor;
using Akka.Hosting;
using Gateway.Actors.Configuration;
using Gateway.Actors.Keys;
using Gateway.Host.Proxy;
using static Gateway.Actors.Keys.KeyStoreProtocol;

namespace Gateway.Host.Admin;

/// <summary>
/// GET|POST /admin/keys and GET|PUT|DELETE /admin/keys/{id}. The key text appears once, in the response
/// to POST. Every other response shows the public id only.
/// </summary>
public static class KeyEndpoints
{
    public const string Prefix = "/admin/keys";

    private static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(10);

    public static async Task HandleAsync(HttpContext context)
    {
        var id = AdminRequest.IdAfter(context.Request.Path, Prefix);
        var method = context.Request.Method;
        var snapshot = context.RequestServices.GetRequiredService<KeySnapshotHolder>().Current;
        switch (id)
        {
            case null when HttpMethods.IsGet(method):
                await context.Response.WriteAsJsonAsync(snapshot.ById.Values.OrderBy(record => record.Created).Select(View));
                return;
            case null when HttpMethods.IsPost(method):
                await ChangeAsync(context, "new", body => new CreateKey(KeyPolicyReader.Parse(body, "POST /admin/keys")));
                return;
            case not null when HttpMethods.IsGet(method):
                if (snapshot.ById.TryGetValue(id, out var record))
                {
                    await context.Response.WriteAsJsonAsync(View(record));
                }
                else
                {
                    await NotFoundAsync(context, id);
                }

                return;
            case not null when HttpMethods.IsPut(method):
                await ChangeAsync(context, id, body => new UpdateKey(id, KeyPolicyReader.Parse(body, $"PUT /admin/keys/{id}")));
                return;
            case not null when HttpMethods.IsDelete(method):
                await ChangeAsync(context, id, _ => new DeleteKey(id));
                return;
            default:
                await GatewayErrors.WriteJsonAsync(context, StatusCodes.Status405MethodNotAllowed,
                    $"{method} is not supported on {context.Request.Path.Value}. Use GET or POST on /admin/keys, and GET, PUT or DELETE on /admin/keys/{{id}}.");
                return;
        }
    }

    private static async Task ChangeAsync(HttpContext context, string id, Func<string, object> command)
    {
        object message;
        try
        {
            message = command(await AdminRequest.ReadBodyAsync(context));
        }
        catch (ConfigException error)
        {
            await GatewayErrors.WriteJsonAsync(context, StatusCodes.Status400BadRequest, $"Invalid key definition: {string.Join(" ", error.Problems)}");
            return;
        }

        var store = context.RequestServices.GetRequiredService<ActorRegistry>().Get<KeyStore>();
        var answer = await store.Ask(message, AskTimeout, context.RequestAborted);
        switch (answer)
        {
            case KeyStored { Key: { } key } created:
                context.Response.StatusCode = StatusCodes.Status201Created;
                context.Response.Headers.Location = $"{Prefix}/{created.Record.Id}";
                await context.Response.WriteAsJsonAsync(new { id = created.Record.Id, key });
                return;
            case KeyStored updated:
                await context.Response.WriteAsJsonAsync(View(updated.Record));
                return;
            case KeyRemoved:
                context.Response.StatusCode = StatusCodes.Status204NoContent;
                return;
            case KeyNotFound:
                await NotFoundAsync(context, id);
                return;
            case KeyStoreFailed failed:
                await GatewayErrors.WriteJsonAsync(context, StatusCodes.Status500InternalServerError,
                    $"The key store could not save the change: {failed.Reason}. Check that gateway.data-directory is writable and retry.");
                return;
        }
    }

    private static Task NotFoundAsync(HttpContext context, string id) =>
        GatewayErrors.WriteJsonAsync(context, StatusCodes.Status404NotFound, $"No key with id '{id}'. GET /admin/keys lists the keys.");

    private static object View(KeyRecord record) => new Dictionary<string, object?>
    {
        ["id"] = record.Id,
        ["rate"] = record.Policy.Rate,
        ["per"] = AdminRequest.Duration(record.Policy.Per),
        ["quota-max"] = record.Policy.QuotaMax,
        ["quota-renewal-rate"] = AdminRequest.Duration(record.Policy.QuotaRenewalRate),
        ["expires"] = record.Policy.Expires?.ToString("O"),
        ["access-rights"] = record.Policy.AccessRights,
        ["max-connections"] = record.Policy.MaxConnections,
        ["messages-per-second"] = record.Policy.MessagesPerSecond,
        ["created"] = record.Created.ToString("O"),
        ["revision"] = record.Revision,
    };
}
