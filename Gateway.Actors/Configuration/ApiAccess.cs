namespace Gateway.Actors.Configuration;

/// <summary>How an API authenticates requests.</summary>
public enum AuthMode
{
    /// <summary>Open: no credential is read.</summary>
    Keyless,

    /// <summary>A key issued through the admin API, read from a header, a query parameter or a cookie.</summary>
    Token,

    /// <summary>A signed JSON Web Token in the Authorization header.</summary>
    Jwt,
}

/// <summary>
/// An API's authentication settings. <see cref="QueryParam"/> and <see cref="Cookie"/> are null when the
/// API does not accept the credential there.
/// </summary>
public sealed record AuthSettings(AuthMode Mode, string Header, string? QueryParam, string? Cookie, bool Strip, JwtSettings? Jwt)
{
    public static readonly AuthSettings Keyless = new(AuthMode.Keyless, "Authorization", null, null, true, null);
}

/// <summary>
/// Validation rules for JSON Web Tokens. HS256 uses <see cref="Secret"/>; RS256 and ES256 use the PEM
/// text in <see cref="PublicKey"/>. A token whose <see cref="PolicyClaim"/> names a key's public id gets
/// that key's rates and access rights.
/// </summary>
public sealed record JwtSettings(
    string Algorithm,
    string? Secret,
    string? PublicKey,
    string PolicyClaim,
    string? Issuer,
    string? Audience,
    TimeSpan ClockSkew);

/// <summary>A rate limit: <see cref="Rate"/> requests (or WebSocket upgrades) per <see cref="Per"/>.</summary>
public sealed record RateLimitSettings(int Rate, TimeSpan Per);

/// <summary>A quota: <see cref="Max"/> requests per <see cref="RenewalRate"/>, after which requests get 403.</summary>
public sealed record QuotaSettings(int Max, TimeSpan RenewalRate);

/// <summary>Bounds on the request head that Kestrel enforces before any routing.</summary>
public sealed record RequestLimits(long MaxHeaderSize, int MaxRequestLine);
