using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Gateway.Actors.Configuration;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Gateway.Host.Auth;

/// <summary>How a JSON Web Token failed validation.</summary>
public enum JwtFailure
{
    None,
    Expired,
    NotYetValid,
    Invalid,
}

/// <summary>Outcome of validating one token; <see cref="PolicyKeyId"/> is the value of the policy claim, if any.</summary>
public sealed record JwtResult(JwtFailure Failure, string? PolicyKeyId, string Detail);

/// <summary>
/// Validates JSON Web Tokens with Microsoft.IdentityModel.JsonWebTokens: the API's one algorithm only
/// (so "none" and algorithm swaps are rejected), the signature, exp and nbf with the configured clock
/// skew, and iss and aud when configured. Thread-safe.
/// </summary>
public sealed class JwtValidator
{
    private readonly JsonWebTokenHandler _handler = new() { MapInboundClaims = false };
    private readonly ConcurrentDictionary<JwtSettings, TokenValidationParameters> _parameters = new();

    public async Task<JwtResult> ValidateAsync(string token, JwtSettings settings)
    {
        var parameters = _parameters.GetOrAdd(settings, Build);
        var result = await _handler.ValidateTokenAsync(token, parameters).ConfigureAwait(false);
        if (!result.IsValid)
        {
            return result.Exception switch
            {
                SecurityTokenExpiredException => new JwtResult(JwtFailure.Expired, null, "the token has expired"),
                SecurityTokenNotYetValidException => new JwtResult(JwtFailure.NotYetValid, null, "the token is not valid yet (nbf is in the future)"),
                SecurityTokenNoExpirationException => new JwtResult(JwtFailure.Invalid, null, "the token has no exp claim"),
                SecurityTokenInvalidSignatureException or SecurityTokenSignatureKeyNotFoundException =>
                    new JwtResult(JwtFailure.Invalid, null, "the token's signature is invalid"),
                SecurityTokenInvalidAlgorithmException => new JwtResult(JwtFailure.Invalid, null, $"the token is not signed with {settings.Algorithm}"),
                SecurityTokenInvalidIssuerException => new JwtResult(JwtFailure.Invalid, null, "the token's issuer (iss) is not accepted"),
                SecurityTokenInvalidAudienceException => new JwtResult(JwtFailure.Invalid, null, "the token's audience (aud) is not accepted"),
                _ => new JwtResult(JwtFailure.Invalid, null, "the token is malformed or not signed"),
            };
        }

        var keyId = result.Claims.TryGetValue(settings.PolicyClaim, out var claim) ? claim?.ToString() : null;
        return new JwtResult(JwtFailure.None, string.IsNullOrEmpty(keyId) ? null : keyId, "");
    }

    private static TokenValidationParameters Build(JwtSettings settings) => new()
    {
        ValidAlgorithms = new[] { settings.Algorithm },
        IssuerSigningKey = SigningKey(settings),
        RequireSignedTokens = true,
        RequireExpirationTime = true,
        ValidateLifetime = true,
        ClockSkew = settings.ClockSkew,
        ValidateIssuer = settings.Issuer is not null,
        ValidIssuer = settings.Issuer,
        ValidateAudience = settings.Audience is not null,
        ValidAudience = settings.Audience,
        ValidateIssuerSigningKey = true,
    };

    private static SecurityKey SigningKey(JwtSettings settings)
    {
        switch (settings.Algorithm)
        {
            case SecurityAlgorithms.HmacSha256:
                return new SymmetricSecurityKey(Encoding.UTF8.GetBytes(settings.Secret!));
            case SecurityAlgorithms.RsaSha256:
                var rsa = RSA.Create();
                rsa.ImportFromPem(settings.PublicKey);
                return new RsaSecurityKey(rsa);
            default:
                var ecdsa = ECDsa.Create();
                ecdsa.ImportFromPem(settings.PublicKey);
                return new ECDsaSecurityKey(ecdsa);
        }
    }
}
