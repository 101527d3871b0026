using Gateway.Actors.Configuration;
using Gateway.Actors.Connections;
using Gateway.Actors.Keys;
using Gateway.Actors.Limits;

namespace Gateway.Host.Auth;

/// <summary>
/// Outcome of the access checks: allowed with the key found (null for keyless APIs and for JWTs that
/// name no key), or rejected with an outcome and a message for the client.
/// </summary>
public sealed record AccessResult(ForwardingOutcome? Rejection, string Message, KeyRecord? Key, LimitDecision Limit)
{
    public static AccessResult Allow(KeyRecord? key) => new(null, "", key, LimitDecision.Allowed);

    public static AccessResult Reject(ForwardingOutcome outcome, string message) => new(outcome, message, null, LimitDecision.Allowed);
}

/// <summary>
/// Runs on every request and WebSocket upgrade after routing: authenticates it by the API's auth mode,
/// checks access rights and expiry, takes one permit from each rate limit and quota, and strips the
/// credential. It reads the key snapshot and never waits on an actor.
/// </summary>
/// <remarks>
/// Steps:
/// 1. Find the credential; keyless APIs skip to step 4.
/// 2. Resolve it to a key: by hash for tokens, by the policy claim for JWTs after validation.
/// 3. Check the key's expiry and access rights.
/// 4. Take the rate limit and quota permits.
/// 5. Strip the credential unless the API keeps it.
/// </remarks>
public sealed class AccessGate
{
    private readonly KeySnapshotHolder _keys;
    private readonly RequestLimiters _limiters;
    private readonly JwtValidator _jwt;
    private readonly ILogger<AccessGate> _logger;

    public AccessGate(KeySnapshotHolder keys, RequestLimiters limiters, JwtValidator jwt, ILogger<AccessGate> logger)
    {
        _keys = keys;
        _limiters = limiters;
        _jwt = jwt;
        _logger = logger;
    }

    public async ValueTask<AccessResult> CheckAsync(HttpContext context, ApiDefinition api)
    {
        var result = await CheckCoreAsync(context, api);
        if (result.Rejection is { } rejection)
        {
            // Client-caused, so Debug. The path excludes the query string, which may carry a key.
            _logger.LogDebug("{Method} {Path} on {ApiId} rejected with {Outcome} for key {KeyId}",
                context.Request.Method, context.Request.Path.Value, api.Id, rejection, result.Key?.Id ?? "(none)");
        }

        return result;
    }

    private async ValueTask<AccessResult> CheckCoreAsync(HttpContext context, ApiDefinition api)
    {
        var auth = api.Auth;
        KeyRecord? key = null;
        (string Value, CredentialSource Source)? credential = null;
        if (auth.Mode != AuthMode.Keyless)
        {
            // 1. Find the credential.
            credential = Credential.Find(context.Request, auth);
            if (credential is null)
            {
                return AccessResult.Reject(ForwardingOutcome.CredentialsMissing,
                    $"API '{api.Name}' needs {(auth.Mode == AuthMode.Jwt ? "a JSON Web Token" : "a key")}: {WhereToSend(auth)}.");
            }

            // 2. Resolve it to a key.
            var resolved = auth.Mode == AuthMode.Token
                ? ResolveToken(credential.Value.Value, api)
                : await ResolveJwtAsync(credential.Value.Value, api);
            if (resolved.Rejection is not null)
            {
                return resolved;
            }

            key = resolved.Key;

            // 3. Check expiry and access rights.
            if (key is not null && key.Policy.IsExpired(DateTimeOffset.UtcNow))
            {
                return AccessResult.Reject(ForwardingOutcome.CredentialsExpired,
                    $"The key for API '{api.Name}' expired at {key.Policy.Expires:u}. Ask the operator for a new key or a later expiry.");
            }

            if (key is not null && !key.Policy.Allows(api.Id))
            {
                return AccessResult.Reject(ForwardingOutcome.AccessDenied,
                    $"The key has no access to API '{api.Name}'. Ask the operator to add '{api.Id}' to the key's access-rights.");
            }
        }

        // 4. Take the rate limit and quota permits.
        var limit = _limiters.Acquire(api, key);
        if (!limit.IsAllowed)
        {
            var scope = limit.Rejected is LimitKind.KeyRate or LimitKind.KeyQuota ? "this key" : "all clients together";
            return limit.IsQuota
                ? new AccessResult(ForwardingOutcome.QuotaExceeded,
                    $"The quota of API '{api.Name}' for {scope} is used up ({limit.Limit} requests). Retry after {Seconds(limit)} s, when it renews.",
                    key, limit)
                : new AccessResult(ForwardingOutcome.RateLimited,
                    $"Too many requests to API '{api.Name}' from {scope} (limit {limit.Limit}). Retry after {Seconds(limit)} s.",
                    key, limit);
        }

        // 5. Strip the credential.
        if (credential is { } found && auth.Strip)
        {
            Credential.Strip(context.Request, auth);
        }

        return AccessResult.Allow(key);
    }

    private AccessResult ResolveToken(string token, ApiDefinition api)
    {
        var key = _keys.Current.FindByKey(token);
        return key is null
            ? AccessResult.Reject(ForwardingOutcome.KeyInvalid,
                $"The key sent to API '{api.Name}' is not valid. Check it, or ask the operator for a new one.")
            : AccessResult.Allow(key);
    }

    private async Task<AccessResult> ResolveJwtAsync(string token, ApiDefinition api)
    {
        var result = await _jwt.ValidateAsync(token, api.Auth.Jwt!);
        switch (result.Failure)
        {
            case JwtFailure.Expired or JwtFailure.NotYetValid:
                return AccessResult.Reject(ForwardingOutcome.CredentialsExpired,
                    $"The JSON Web Token sent to API '{api.Name}' is rejected: {result.Detail}. Get a fresh token and retry.");
            case JwtFailure.Invalid:
                return AccessResult.Reject(ForwardingOutcome.KeyInvalid,
                    $"The JSON Web Token sent to API '{api.Name}' is rejected: {result.Detail}. Get a token from the issuer this API trusts.");
        }

        if (result.PolicyKeyId is null)
        {
            return AccessResult.Allow(null);
        }

        return _keys.Current.ById.TryGetValue(result.PolicyKeyId, out var key)
            ? AccessResult.Allow(key)
            : AccessResult.Reject(ForwardingOutcome.KeyInvalid,
                $"The JSON Web Token sent to API '{api.Name}' names a policy key in its '{api.Auth.Jwt!.PolicyClaim}' claim that does not exist. Ask the issuer to fix the claim.");
    }

    private static string WhereToSend(AuthSettings auth)
    {
        var places = new List<string> { $"send it in the {auth.Header} header" };
        if (auth.QueryParam is not null)
        {
            places.Add($"the '{auth.QueryParam}' query parameter");
        }

        if (auth.Cookie is not null)
        {
            places.Add($"the '{auth.Cookie}' cookie");
        }

        return places.Count == 1 ? places[0] : string.Join(", ", places.Take(places.Count - 1)) + " or " + places[^1];
    }

    private static long Seconds(LimitDecision limit) => Math.Max(1, (long)Math.Ceiling(limit.RetryAfter.TotalSeconds));
}
