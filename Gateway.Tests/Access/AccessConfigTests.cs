using Gateway.Actors.Configuration;
using Gateway.Actors.Keys;

namespace Gateway.Tests.Access;

public sealed class AccessConfigTests
{
    [Fact]
    public void Defaults_AreKeylessWithoutLimits()
    {
        var config = GatewayConfigLoader.LoadText("""
            gateway.apis.echo {
              listen-path = "/echo/"
              target-url = "ws://127.0.0.1:9001/"
            }
            """, "test.conf");

        var api = config.Gateway.Apis.Single();
        Assert.Equal(AuthMode.Keyless, api.Auth.Mode);
        Assert.Null(api.RateLimit);
        Assert.Null(api.Quota);
        Assert.Null(api.WebSocketLimits.MessagesPerSecond);
        Assert.Equal("./data", config.Gateway.DataDirectory);
    }

    [Fact]
    public void InvalidAccessValues_NameFilePathAndValue()
    {
        var error = Assert.Throws<ConfigException>(() => GatewayConfigLoader.LoadText("""
            gateway.apis.echo {
              listen-path = "/echo/"
              target-url = "ws://127.0.0.1:9001/"
              auth {
                mode = password
                query_param = "t"
              }
              rate-limit { rate = -3 }
              websocket-limits { messages-per-second = fast }
            }
            """, "bad.conf"));

        Assert.Contains("bad.conf: gateway.apis.echo.auth.mode: found \"password\", expected keyless, token or jwt.", error.Problems);
        Assert.Contains(error.Problems, problem => problem.StartsWith("bad.conf: gateway.apis.echo.auth.query_param: unknown key. Did you mean 'query-param'?"));
        Assert.Contains(error.Problems, problem => problem.StartsWith("bad.conf: gateway.apis.echo.rate-limit.rate: found \"-3\""));
        Assert.Contains(error.Problems, problem => problem.StartsWith("bad.conf: gateway.apis.echo.websocket-limits.messages-per-second: found \"fast\""));
    }

    [Fact]
    public void JwtSettings_RejectShortSecretAndMissingKey()
    {
        var error = Assert.Throws<ConfigException>(() => GatewayConfigLoader.LoadText("""
            gateway.apis {
              a {
                listen-path = "/a/"
                target-url = "http://127.0.0.1:9001/"
                auth { mode = jwt, jwt { secret = "short" } }
              }
              b {
                listen-path = "/b/"
                target-url = "http://127.0.0.1:9001/"
                auth { mode = jwt, jwt { algorithm = RS256 } }
              }
            }
            """, "jwt.conf"));

        Assert.Contains(error.Problems, problem => problem.StartsWith("jwt.conf: gateway.apis.a.auth.jwt.secret: found a secret of 5 characters"));
        Assert.Contains(error.Problems, problem => problem.StartsWith("jwt.conf: gateway.apis.b.auth.jwt.public-key: expected the PEM text of an RSA public key"));
    }

    [Fact]
    public void KeyPolicy_ReadsJsonWithAdminFieldNames()
    {
        var policy = KeyPolicyReader.Parse("""
            {"rate": 2, "per": "1s", "quota-max": 10, "quota-renewal-rate": "1h", "expires": "2030-01-01T00:00:00Z",
             "access-rights": ["echo"], "max-connections": 3, "messages-per-second": 50}
            """, "test");

        Assert.Equal(2, policy.Rate);
        Assert.Equal(TimeSpan.FromSeconds(1), policy.Per);
        Assert.Equal(10, policy.QuotaMax);
        Assert.Equal(TimeSpan.FromHours(1), policy.QuotaRenewalRate);
        Assert.Equal(new DateTimeOffset(2030, 1, 1, 0, 0, 0, TimeSpan.Zero), policy.Expires);
        Assert.Equal(new[] { "echo" }, policy.AccessRights);
        Assert.Equal(3, policy.MaxConnections);
        Assert.Equal(50, policy.MessagesPerSecond);
        Assert.True(policy.Allows("echo"));
        Assert.False(policy.Allows("billing"));
    }

    [Fact]
    public void KeySnapshot_FindsByKeyTextOnly()
    {
        var key = KeyText.NewKey();
        var record = new KeyRecord(KeyText.NewId(), KeyText.Hash(key), KeyPolicyReader.Parse("{}", "test"), DateTimeOffset.UtcNow, 1);

        var snapshot = KeySnapshot.Empty.Apply(new KeyStoreProtocol.KeyCreated(record));

        Assert.Same(record, snapshot.FindByKey(key));
        Assert.Null(snapshot.FindByKey(record.Hash));
        Assert.Null(snapshot.FindByKey(record.Id));
        Assert.DoesNotContain(key, record.Hash);
        Assert.Empty(snapshot.Apply(new KeyStoreProtocol.KeyDeleted(record.Id)).ById);
    }
}
