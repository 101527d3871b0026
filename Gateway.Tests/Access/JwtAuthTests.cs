using System.Net;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;
using Gateway.Tests.Support;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Gateway.Tests.Access;

public sealed class JwtAuthTests
{
    private const string Secret = "jwt-shared-secret-of-at-least-32-characters";

    private static readonly string HsAuth = $$"""
        auth {
          mode = jwt
          jwt {
            algorithm = HS256
            secret = "{{Secret}}"
            clock-skew = 5s
          }
        }
        """;

    [Fact]
    public async Task Hs256_AcceptsValidTokenForHttpAndWebSocket()
    {
        await using var upstream = await TestUpstream.StartEchoAsync();
        await using var gateway = await TestGateway.StartWithApiAsync(upstream.WsUri(), apiExtra: HsAuth);
        var token = Sign(HmacCredentials(Secret), DateTime.UtcNow.AddMinutes(-1), DateTime.UtcNow.AddMinutes(5));
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, gateway.HttpUri("/echo/a"));
        request.Headers.Add("Authorization", $"Bearer {token}");
        using var client = new ClientWebSocket();
        client.Options.SetRequestHeader("Authorization", $"Bearer {token}");
        using var cancellation = new CancellationTokenSource(TimeSpan.FromSeconds(15));

        using var response = await http.SendAsync(request);
        await client.ConnectAsync(gateway.WsUri("/echo/"), cancellation.Token);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(WebSocketState.Open, client.State);
    }

    [Fact]
    public async Task Hs256_RejectsBadSignatureExpiryNotBeforeAndNone()
    {
        await using var upstream = await TestUpstream.StartEchoAsync();
        await using var gateway = await TestGateway.StartWithApiAsync(upstream.WsUri(), apiExtra: HsAuth);
        var now = DateTime.UtcNow;
        var cases = new (string Name, string Token, HttpStatusCode Status)[]
        {
            ("bad signature", Sign(HmacCredentials("another-secret-that-is-32-characters-long"), now.AddMinutes(-1), now.AddMinutes(5)), HttpStatusCode.Forbidden),
            ("expired exp", Sign(HmacCredentials(Secret), now.AddMinutes(-10), now.AddMinutes(-2)), HttpStatusCode.Unauthorized),
            ("future nbf", Sign(HmacCredentials(Secret), now.AddMinutes(2), now.AddMinutes(10)), HttpStatusCode.Unauthorized),
            ("none algorithm", Unsigned(now.AddMinutes(5)), HttpStatusCode.Forbidden),
            ("not a token", "not.a.token", HttpStatusCode.Forbidden),
        };
        using var http = new HttpClient();

        foreach (var (name, token, status) in cases)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, gateway.HttpUri("/echo/a"));
            request.Headers.Add("Authorization", $"Bearer {token}");
            using var response = await http.SendAsync(request);
            using var upgrade = await GatewayAnswers.SendUpgradeAsync(http, gateway.HttpUri("/echo/"),
                message => message.Headers.Add("Authorization", $"Bearer {token}"));

            Assert.True(status == response.StatusCode, $"{name}: HTTP answered {(int)response.StatusCode}");
            Assert.True(status == upgrade.StatusCode, $"{name}: upgrade answered {(int)upgrade.StatusCode}");
            await GatewayAnswers.AssertErrorAsync(response, status, "echo", token);
        }
    }

    [Fact]
    public async Task Es256_AcceptsTokenSignedWithMatchingKey()
    {
        using var ecdsa = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var publicPem = ecdsa.ExportSubjectPublicKeyInfoPem();
        await using var upstream = await TestUpstream.StartEchoAsync();
        await using var gateway = await TestGateway.StartWithApiAsync(upstream.HttpUri(), apiExtra: $$"""
            auth {
              mode = jwt
              jwt {
                algorithm = ES256
                public-key = "{{publicPem.Replace("\n", "\\n")}}"
              }
            }
            """);
        var credentials = new SigningCredentials(new ECDsaSecurityKey(ecdsa), SecurityAlgorithms.EcdsaSha256);
        using var other = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var forged = new SigningCredentials(new ECDsaSecurityKey(other), SecurityAlgorithms.EcdsaSha256);
        using var http = new HttpClient();

        using var good = await GetWithTokenAsync(http, gateway, Sign(credentials, DateTime.UtcNow.AddMinutes(-1), DateTime.UtcNow.AddMinutes(5)));
        using var bad = await GetWithTokenAsync(http, gateway, Sign(forged, DateTime.UtcNow.AddMinutes(-1), DateTime.UtcNow.AddMinutes(5)));

        Assert.Equal(HttpStatusCode.OK, good.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, bad.StatusCode);
    }

    [Fact]
    public async Task PolicyClaim_AppliesKeyAccessRights()
    {
        await using var upstream = await TestUpstream.StartEchoAsync();
        await using var gateway = await TestGateway.StartWithApiAsync(upstream.HttpUri(), apiExtra: HsAuth, gatewayExtra: AdminClient.SecretConfig);
        using var admin = new AdminClient(gateway);
        var (allowedId, _) = await admin.CreateKeyAsync("""{"access-rights": ["echo"]}""");
        var (deniedId, _) = await admin.CreateKeyAsync("""{"access-rights": ["billing"]}""");
        using var http = new HttpClient();
        var now = DateTime.UtcNow;

        using var allowed = await GetWithTokenAsync(http, gateway, Sign(HmacCredentials(Secret), now.AddMinutes(-1), now.AddMinutes(5), allowedId));
        using var denied = await GetWithTokenAsync(http, gateway, Sign(HmacCredentials(Secret), now.AddMinutes(-1), now.AddMinutes(5), deniedId));
        using var unknown = await GetWithTokenAsync(http, gateway, Sign(HmacCredentials(Secret), now.AddMinutes(-1), now.AddMinutes(5), "key_unknown"));

        Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
        await GatewayAnswers.AssertErrorAsync(denied, HttpStatusCode.Forbidden, "echo");
        await GatewayAnswers.AssertErrorAsync(unknown, HttpStatusCode.Forbidden, "echo");
    }

    private static async Task<HttpResponseMessage> GetWithTokenAsync(HttpClient http, TestGateway gateway, string token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, gateway.HttpUri("/echo/a"));
        request.Headers.Add("Authorization", $"Bearer {token}");
        return await http.SendAsync(request);
    }

    private static SigningCredentials HmacCredentials(string secret) =>
        new(new SymmetricSecurityKey(Encoding.UTF8.GetBytes(secret)), SecurityAlgorithms.HmacSha256);

    private static string Sign(SigningCredentials credentials, DateTime notBefore, DateTime expires, string? keyId = null)
    {
        var descriptor = new SecurityTokenDescriptor
        {
            Subject = new System.Security.Claims.ClaimsIdentity(new[] { new System.Security.Claims.Claim("sub", "user-1") }),
            NotBefore = notBefore,
            IssuedAt = notBefore,
            Expires = expires,
            SigningCredentials = credentials,
        };
        if (keyId is not null)
        {
            descriptor.Claims = new Dictionary<string, object> { ["key"] = keyId };
        }

        return new JsonWebTokenHandler().CreateToken(descriptor);
    }

    /// <summary>Builds a token with "alg": "none" and no signature, which must never be accepted.</summary>
    private static string Unsigned(DateTime expires)
    {
        static string Encode(string json) => Convert.ToBase64String(Encoding.UTF8.GetBytes(json)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        var exp = new DateTimeOffset(expires).ToUnixTimeSeconds();
        return $"{Encode("""{"alg":"none","typ":"JWT"}""")}.{Encode($$"""{"sub":"user-1","exp":{{exp}}}""")}.";
    }
}
