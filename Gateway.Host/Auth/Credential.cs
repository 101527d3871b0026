using Gateway.Actors.Configuration;
using Microsoft.Extensions.Primitives;

namespace Gateway.Host.Auth;

/// <summary>Where a request carried its credential.</summary>
public enum CredentialSource
{
    Header,
    QueryParam,
    Cookie,
}

/// <summary>Finds a request's credential where its API accepts one, and removes it before forwarding.</summary>
public static class Credential
{
    private const string BearerPrefix = "Bearer ";

    /// <summary>
    /// Returns the credential from the API's header (with or without a "Bearer " prefix), then its query
    /// parameter, then its cookie; null when none carries one.
    /// </summary>
    public static (string Value, CredentialSource Source)? Find(HttpRequest request, AuthSettings auth)
    {
        var header = request.Headers[auth.Header].ToString().Trim();
        if (header.StartsWith(BearerPrefix, StringComparison.OrdinalIgnoreCase))
        {
            header = header[BearerPrefix.Length..].Trim();
        }

        if (header.Length > 0)
        {
            return (header, CredentialSource.Header);
        }

        if (auth.QueryParam is { } name && request.Query[name].ToString() is { Length: > 0 } query)
        {
            return (query, CredentialSource.QueryParam);
        }

        if (auth.Cookie is { } cookie && request.Cookies[cookie] is { Length: > 0 } value)
        {
            return (value, CredentialSource.Cookie);
        }

        return null;
    }

    /// <summary>
    /// Removes the credential from every place the API reads one (header, query parameter, cookie), so
    /// that none is forwarded upstream, including a second credential the client sent elsewhere.
    /// </summary>
    public static void Strip(HttpRequest request, AuthSettings auth)
    {
        request.Headers.Remove(auth.Header);

        if (auth.QueryParam is { } parameter && request.Query.ContainsKey(parameter))
        {
            var kept = request.Query.Where(pair => pair.Key != parameter).ToList();
            request.QueryString = QueryString.Create(kept.SelectMany(pair => pair.Value.Select(value => new KeyValuePair<string, string?>(pair.Key, value))));
        }

        if (auth.Cookie is { } cookie && request.Cookies.ContainsKey(cookie))
        {
            var cookies = request.Headers.Cookie.ToString()
                .Split(';', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
                .Where(pair => !pair.StartsWith(cookie + "=", StringComparison.Ordinal))
                .ToArray();
            if (cookies.Length == 0)
            {
                request.Headers.Remove("Cookie");
            }
            else
            {
                request.Headers.Cookie = new StringValues(string.Join("; ", cookies));
            }
        }
    }
}
