using Gateway.Actors.Configuration;

namespace Gateway.Actors.Routing;

/// <summary>Builds the upstream address of a request from the API's target URL and the request path.</summary>
public static class TargetAddress
{
    /// <summary>
    /// Builds the upstream URI: the target's scheme mapped to HTTP (ws to http, wss to https), its host
    /// and port (80 or 443 when the target names none), its path joined to the request path with exactly
    /// one slash between them, and the request's query string unchanged.
    /// </summary>
    /// <param name="requestPath">The request path, percent-encoded as it came on the wire.</param>
    /// <param name="query">The raw query string, empty or starting with '?'.</param>
    public static Uri Build(ApiDefinition api, Uri target, string requestPath, string query)
    {
        var rest = api.StripListenPath ? StripListenPath(api.ListenPath, requestPath) : requestPath;
        var path = JoinPaths(target.AbsolutePath, rest);
        return new Uri($"{HttpScheme(target)}://{target.Host}:{target.Port}{path}{query}");
    }

    /// <summary>Maps ws to http and wss to https; http and https stay.</summary>
    public static string HttpScheme(Uri target) => target.Scheme switch
    {
        "ws" => "http",
        "wss" => "https",
        _ => target.Scheme,
    };

    internal static string StripListenPath(string listenPath, string requestPath) =>
        requestPath.Length >= listenPath.Length ? requestPath[listenPath.Length..] : "";

    internal static string JoinPaths(string basePath, string rest)
    {
        if (rest.Length == 0)
        {
            return basePath.Length == 0 ? "/" : basePath;
        }

        return basePath.TrimEnd('/') + "/" + rest.TrimStart('/');
    }
}
