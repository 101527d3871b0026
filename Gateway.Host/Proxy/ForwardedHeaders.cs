using System.Net.Http.Headers;
using Microsoft.Extensions.Primitives;

namespace Gateway.Host.Proxy;

/// <summary>Header rules shared by forwarded requests and WebSocket handshakes.</summary>
public static class ForwardedHeaders
{
    /// <summary>
    /// Hop-by-hop headers (RFC 9110 section 7.6.1) and <c>Host</c>, which the gateway sets itself.
    /// </summary>
    public static readonly HashSet<string> NotForwarded = new(StringComparer.OrdinalIgnoreCase)
    {
        "Connection", "Keep-Alive", "Proxy-Connection", "Proxy-Authenticate", "Proxy-Authorization",
        "TE", "Trailer", "Transfer-Encoding", "Upgrade", "Host",
    };

    /// <summary>
    /// Appends the client address to <c>X-Forwarded-For</c> and sets <c>X-Forwarded-Proto</c> and
    /// <c>X-Forwarded-Host</c> to what the client used.
    /// </summary>
    public static void Apply(HttpRequestHeaders headers, HttpContext context)
    {
        var clientAddress = ClientAddress(context);
        var existing = context.Request.Headers["X-Forwarded-For"];
        headers.Remove("X-Forwarded-For");
        headers.Remove("X-Forwarded-Proto");
        headers.Remove("X-Forwarded-Host");
        headers.TryAddWithoutValidation("X-Forwarded-For", StringValues.IsNullOrEmpty(existing) ? clientAddress : $"{existing}, {clientAddress}");
        headers.TryAddWithoutValidation("X-Forwarded-Proto", context.Request.Scheme);
        if (context.Request.Host.HasValue)
        {
            headers.TryAddWithoutValidation("X-Forwarded-Host", context.Request.Host.Value);
        }
    }

    public static string ClientAddress(HttpContext context)
    {
        var address = context.Connection.RemoteIpAddress;
        if (address is null)
        {
            return "unknown";
        }

        return address.IsIPv4MappedToIPv6 ? address.MapToIPv4().ToString() : address.ToString();
    }

    /// <summary>True when a comma-separated header contains <paramref name="token"/>, in any letter case.</summary>
    public static bool HasToken(StringValues values, string token)
    {
        foreach (var value in values)
        {
            if (value is null)
            {
                continue;
            }

            foreach (var part in value.Split(','))
            {
                if (part.Trim().Equals(token, StringComparison.OrdinalIgnoreCase))
                {
                    return true;
                }
            }
        }

        return false;
    }
}
