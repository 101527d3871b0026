using Gateway.Actors.Resilience;
using Gateway.Actors.Routing;
using Microsoft.Net.Http.Headers;

namespace Gateway.Host.Proxy;

/// <summary>
/// Reads a request's session affinity (cookie, client address or query parameter) and sets the
/// affinity cookie on the response, for HTTP requests and WebSocket upgrades alike.
/// </summary>
public sealed class SessionAffinity
{
    private readonly ILogger<SessionAffinity> _logger;

    public SessionAffinity(ILogger<SessionAffinity> logger)
    {
        _logger = logger;
    }

    /// <summary>The target the request asks for; null when the API has no affinity or the request carries none.</summary>
    public TargetPreference? Resolve(HttpContext context, ApiRoute route)
    {
        var api = route.Definition;
        if (api.ResilienceOrDefault.Affinity is not { } affinity)
        {
            return null;
        }

        switch (affinity.Mode)
        {
            case AffinityMode.Cookie:
                var token = context.Request.Cookies[affinity.Name];
                if (string.IsNullOrEmpty(token))
                {
                    return null;
                }

                var target = AffinityTokens.Resolve(api.Id, api.TargetUrls, token);
                if (target is null)
                {
                    _logger.LogInformation(
                        "API {ApiId}: the affinity cookie {CookieName} names no current target (stale or forged); balancing the request normally",
                        api.Id, affinity.Name);
                }

                return target is null ? null : new TargetPreference(target, null);

            case AffinityMode.ClientAddress:
                return new TargetPreference(null, ForwardedHeaders.ClientAddress(context));

            case AffinityMode.QueryParam:
                var value = context.Request.Query[affinity.Name].ToString();
                return value.Length == 0 ? null : new TargetPreference(null, value);

            default:
                return null;
        }
    }

    /// <summary>
    /// Sets the affinity cookie to <paramref name="target"/> on the response, unless the API uses no
    /// cookie or the request already carries that value.
    /// </summary>
    public static void SetCookie(HttpContext context, ApiRoute route, Uri target)
    {
        var api = route.Definition;
        if (api.ResilienceOrDefault.Affinity is not { Mode: AffinityMode.Cookie } affinity)
        {
            return;
        }

        var token = AffinityTokens.For(api.Id, target);
        if (context.Request.Cookies[affinity.Name] == token)
        {
            return;
        }

        var cookie = new SetCookieHeaderValue(affinity.Name, token)
        {
            Path = api.ListenPath,
            HttpOnly = true,
            SameSite = Microsoft.Net.Http.Headers.SameSiteMode.Lax,
            Secure = context.Request.IsHttps,
        };
        context.Response.Headers.Append(HeaderNames.SetCookie, cookie.ToString());
    }
}
