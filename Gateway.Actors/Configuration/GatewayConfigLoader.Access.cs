using System.Security.Cryptography;
using Akka.Configuration;

namespace Gateway.Actors.Configuration;

/// <summary>Reading of the access settings: authentication, rate limits, quotas and the data directory.</summary>
public static partial class GatewayConfigLoader
{
    private static readonly string[] JwtAlgorithms = { "HS256", "RS256", "ES256" };

    private static string ReadDataDirectory(Config gateway, SettingsReader reader)
    {
        var directory = reader.ReadString(gateway, "data-directory", "gateway.data-directory");
        if (directory.Length == 0)
        {
            reader.Problem("gateway.data-directory", "found an empty path, expected a directory such as \"./data\" or \"/var/lib/gateway\".");
        }

        return directory;
    }

    private static RequestLimits ReadRequestLimits(Config gateway, SettingsReader reader)
    {
        const string path = "gateway.request-limits";
        var limits = gateway.GetConfig("request-limits");
        reader.RejectUnknownKeys(path, limits, SettingsReader.Keys(Reference.GetConfig(path)));
        var headerSize = reader.ReadOptionalSize(limits, "max-header-size", $"{path}.max-header-size");
        var requestLine = reader.ReadOptionalSize(limits, "max-request-line", $"{path}.max-request-line");
        if (headerSize is null or > int.MaxValue)
        {
            reader.Problem($"{path}.max-header-size", "expected a size from 1KiB to 2GiB, such as 32KiB.");
        }

        if (requestLine is null or > int.MaxValue)
        {
            reader.Problem($"{path}.max-request-line", "expected a size from 1KiB to 2GiB, such as 8KiB.");
        }

        return new RequestLimits(headerSize ?? 32 * 1024, (int)Math.Min(requestLine ?? 8 * 1024, int.MaxValue));
    }

    private static AuthSettings ReadAuth(Config api, Config raw, Config defaults, string apiPath, SettingsReader reader)
    {
        var path = $"{apiPath}.auth";
        var auth = api.GetConfig("auth");
        reader.RejectUnknownKeys(path, raw.GetConfig("auth") ?? ConfigurationFactory.Empty, SettingsReader.Keys(defaults.GetConfig("auth")));

        var modeText = reader.ReadString(auth, "mode", $"{path}.mode");
        AuthMode mode;
        switch (modeText)
        {
            case "keyless":
                mode = AuthMode.Keyless;
                break;
            case "token":
                mode = AuthMode.Token;
                break;
            case "jwt":
                mode = AuthMode.Jwt;
                break;
            default:
                reader.Problem($"{path}.mode", $"found \"{modeText}\", expected keyless, token or jwt.");
                mode = AuthMode.Keyless;
                break;
        }

        var header = reader.ReadString(auth, "header", $"{path}.header");
        if (header.Length == 0 || header.Any(character => character <= ' ' || character == ':'))
        {
            reader.Problem($"{path}.header", $"found \"{header}\", expected a header name such as \"Authorization\" or \"X-Api-Key\".");
        }

        var queryParam = reader.ReadOptionalName(auth, "query-param", $"{path}.query-param");
        var cookie = reader.ReadOptionalName(auth, "cookie", $"{path}.cookie");
        var strip = reader.ReadBoolean(auth, "strip", $"{path}.strip");
        var jwt = mode == AuthMode.Jwt ? ReadJwt(auth, raw.GetConfig("auth"), defaults, path, reader) : null;
        return new AuthSettings(mode, header, queryParam, cookie, strip, jwt);
    }

    private static JwtSettings ReadJwt(Config auth, Config? rawAuth, Config defaults, string authPath, SettingsReader reader)
    {
        var path = $"{authPath}.jwt";
        var jwt = auth.GetConfig("jwt");
        reader.RejectUnknownKeys(path, rawAuth?.GetConfig("jwt") ?? ConfigurationFactory.Empty, SettingsReader.Keys(defaults.GetConfig("auth.jwt")));

        var algorithm = reader.ReadString(jwt, "algorithm", $"{path}.algorithm");
        if (!JwtAlgorithms.Contains(algorithm))
        {
            reader.Problem($"{path}.algorithm", $"found \"{algorithm}\", expected HS256, RS256 or ES256.");
        }

        var secret = reader.ReadString(jwt, "secret", $"{path}.secret");
        var publicKey = reader.ReadString(jwt, "public-key", $"{path}.public-key");
        if (algorithm == "HS256" && secret.Length < 32)
        {
            // RFC 7518 section 3.2: an HMAC key must be at least as long as the hash output (256 bits).
            reader.Problem($"{path}.secret", $"found a secret of {secret.Length} characters, expected at least 32 for HS256.");
        }

        if (algorithm is "RS256" or "ES256" && !IsPublicKeyPem(algorithm, publicKey))
        {
            reader.Problem($"{path}.public-key",
                $"expected the PEM text of an {(algorithm == "RS256" ? "RSA" : "EC P-256")} public key (-----BEGIN PUBLIC KEY----- ...) for {algorithm}.");
        }

        var claim = reader.ReadString(jwt, "policy-claim", $"{path}.policy-claim");
        var issuer = reader.ReadString(jwt, "issuer", $"{path}.issuer");
        var audience = reader.ReadString(jwt, "audience", $"{path}.audience");
        var skew = reader.ReadDuration(jwt, "clock-skew", $"{path}.clock-skew");
        return new JwtSettings(
            algorithm,
            secret.Length == 0 ? null : secret,
            publicKey.Length == 0 ? null : publicKey,
            claim,
            issuer.Length == 0 ? null : issuer,
            audience.Length == 0 ? null : audience,
            skew);
    }

    private static bool IsPublicKeyPem(string algorithm, string pem)
    {
        if (pem.Length == 0)
        {
            return false;
        }

        try
        {
            using AsymmetricAlgorithm key = algorithm == "RS256" ? RSA.Create() : ECDsa.Create();
            key.ImportFromPem(pem);
            return true;
        }
        catch (Exception error) when (error is ArgumentException or CryptographicException)
        {
            return false;
        }
    }

    private static RateLimitSettings? ReadRateLimit(Config api, Config raw, Config defaults, string apiPath, SettingsReader reader)
    {
        var path = $"{apiPath}.rate-limit";
        var limit = api.GetConfig("rate-limit");
        reader.RejectUnknownKeys(path, raw.GetConfig("rate-limit") ?? ConfigurationFactory.Empty, SettingsReader.Keys(defaults.GetConfig("rate-limit")));
        var rate = reader.ReadOptionalCount(limit, "rate", $"{path}.rate");
        var per = reader.ReadDuration(limit, "per", $"{path}.per");
        return rate is { } value ? new RateLimitSettings(value, per) : null;
    }

    private static QuotaSettings? ReadQuota(Config api, Config raw, Config defaults, string apiPath, SettingsReader reader)
    {
        var path = $"{apiPath}.quota";
        var quota = api.GetConfig("quota");
        reader.RejectUnknownKeys(path, raw.GetConfig("quota") ?? ConfigurationFactory.Empty, SettingsReader.Keys(defaults.GetConfig("quota")));
        var max = reader.ReadOptionalCount(quota, "max", $"{path}.max");
        var renewal = reader.ReadDuration(quota, "renewal-rate", $"{path}.renewal-rate");
        return max is { } value ? new QuotaSettings(value, renewal) : null;
    }
}
