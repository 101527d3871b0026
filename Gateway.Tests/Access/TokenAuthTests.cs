using System.Net;
using System.Net.WebSockets;
using System.Text;
using Gateway.Tests.Proxy;
using Gateway.Tests.Support;

namespace Gateway.Tests.Access;

public sealed class TokenAuthTests
{
    private const string TokenAuth = """
        auth {
          mode = token
          query-param = "auth_token"
          cookie = "auth_token"
        }
        """;

    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task Http_AcceptsKeyInHeaderQueryAndCookie()
    {
        await using var upstream = await TestUpstream.StartAsync(EchoHeadersAsync);
        await using var gateway = await TestGateway.StartWithApiAsync(upstream.HttpUri(), apiExtra: TokenAuth, gatewayExtra: AdminClient.SecretConfig);
        using var admin = new AdminClient(gateway);
        var (_, key) = await admin.CreateKeyAsync("{}");
        using var http = new HttpClient();

        using var bearer = new HttpRequestMessage(HttpMethod.Get, gateway.HttpUri("/echo/a"));
        bearer.Headers.Add("Authorization", $"Bearer {key}");
        var bearerBody = await (await http.SendAsync(bearer)).Content.ReadAsStringAsync();
        using var bare = new HttpRequestMessage(HttpMethod.Get, gateway.HttpUri("/echo/a"));
        bare.Headers.Add("Authorization", key);
        using var bareResponse = await http.SendAsync(bare);
        var queryBody = await http.GetStringAsync(gateway.HttpUri($"/echo/a?x=1&auth_token={key}"));
        using var cookie = new HttpRequestMessage(HttpMethod.Get, gateway.HttpUri("/echo/a"));
        cookie.Headers.Add("Cookie", $"theme=dark; auth_token={key}");
        var cookieBody = await (await http.SendAsync(cookie)).Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, bareResponse.StatusCode);
        Assert.DoesNotContain(key, bearerBody);
        Assert.Contains("authorization=(none)", bearerBody);
        Assert.Contains("query=?x=1", queryBody);
        Assert.DoesNotContain(key, queryBody);
        Assert.Contains("cookie=theme=dark", cookieBody);
        Assert.DoesNotContain(key, cookieBody);
    }

    [Fact]
    public async Task Strip_RemovesEveryCredentialPlace()
    {
        await using var upstream = await TestUpstream.StartAsync(EchoHeadersAsync);
        await using var gateway = await TestGateway.StartWithApiAsync(upstream.HttpUri(), apiExtra: TokenAuth, gatewayExtra: AdminClient.SecretConfig);
        using var admin = new AdminClient(gateway);
        var (_, key) = await admin.CreateKeyAsync("{}");
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, gateway.HttpUri("/echo/a?auth_token=stale&y=2"));
        request.Headers.Add("Authorization", $"Bearer {key}");
        request.Headers.Add("Cookie", "theme=dark; auth_token=old");

        var body = await (await http.SendAsync(request)).Content.ReadAsStringAsync();

        Assert.Contains("query=?y=2", body);
        Assert.DoesNotContain("stale", body);
        Assert.Contains("cookie=theme=dark", body);
        Assert.DoesNotContain("auth_token=old", body);
        Assert.Contains("authorization=(none)", body);
    }

    [Fact]
    public async Task Http_RejectsMissingAndWrongKey()
    {
        await using var upstream = await TestUpstream.StartEchoAsync();
        await using var gateway = await TestGateway.StartWithApiAsync(upstream.HttpUri(), apiExtra: TokenAuth, gatewayExtra: AdminClient.SecretConfig);
        using var http = new HttpClient();

        using var missing = await http.GetAsync(gateway.HttpUri("/echo/a"));
        using var wrongHeader = new HttpRequestMessage(HttpMethod.Get, gateway.HttpUri("/echo/a"));
        wrongHeader.Headers.Add("Authorization", "Bearer gwk_not-a-real-key");
        using var wrong = await http.SendAsync(wrongHeader);
        using var wrongQuery = await http.GetAsync(gateway.HttpUri("/echo/a?auth_token=gwk_wrong"));

        await GatewayAnswers.AssertErrorAsync(missing, HttpStatusCode.Unauthorized, "echo");
        Assert.Equal("Bearer", missing.Headers.WwwAuthenticate.ToString());
        await GatewayAnswers.AssertErrorAsync(wrong, HttpStatusCode.Forbidden, "echo", "gwk_not-a-real-key");
        await GatewayAnswers.AssertErrorAsync(wrongQuery, HttpStatusCode.Forbidden, "echo", "gwk_wrong");
    }

    [Fact]
    public async Task Http_RejectsExpiredKeyAndMissingAccessRight()
    {
        await using var upstream = await TestUpstream.StartEchoAsync();
        await using var gateway = await TestGateway.StartWithApiAsync(upstream.HttpUri(), apiExtra: TokenAuth, gatewayExtra: AdminClient.SecretConfig);
        using var admin = new AdminClient(gateway);
        var (_, expired) = await admin.CreateKeyAsync("""{"expires": "2020-01-01T00:00:00Z"}""");
        var (_, other) = await admin.CreateKeyAsync("""{"access-rights": ["other-api"]}""");
        using var http = new HttpClient();

        using var expiredResponse = await http.GetAsync(gateway.HttpUri($"/echo/a?auth_token={expired}"));
        using var otherResponse = await http.GetAsync(gateway.HttpUri($"/echo/a?auth_token={other}"));

        await GatewayAnswers.AssertErrorAsync(expiredResponse, HttpStatusCode.Unauthorized, "echo", expired);
        await GatewayAnswers.AssertErrorAsync(otherResponse, HttpStatusCode.Forbidden, "echo", other);
    }

    [Theory]
    [InlineData("header")]
    [InlineData("query")]
    [InlineData("cookie")]
    public async Task WebSocket_AcceptsKey(string place)
    {
        await using var upstream = await TestUpstream.StartEchoAsync();
        await using var gateway = await TestGateway.StartWithApiAsync(upstream.WsUri(), apiExtra: TokenAuth, gatewayExtra: AdminClient.SecretConfig);
        using var admin = new AdminClient(gateway);
        var (_, key) = await admin.CreateKeyAsync("{}");
        using var cancellation = new CancellationTokenSource(Timeout);
        using var client = new ClientWebSocket();
        var uri = gateway.WsUri("/echo/");
        switch (place)
        {
            case "header":
                client.Options.SetRequestHeader("Authorization", $"Bearer {key}");
                break;
            case "query":
                uri = gateway.WsUri($"/echo/?auth_token={key}");
                break;
            default:
                client.Options.SetRequestHeader("Cookie", $"auth_token={key}");
                break;
        }

        await client.ConnectAsync(uri, cancellation.Token);
        var echoed = await WebSocketEchoTests.SendAndReceiveAsync(client, Encoding.UTF8.GetBytes("hi"), WebSocketMessageType.Text, cancellation.Token);

        Assert.Equal("hi", Encoding.UTF8.GetString(echoed.Payload));
    }

    [Theory]
    [InlineData("none", HttpStatusCode.Unauthorized)]
    [InlineData("header", HttpStatusCode.Forbidden)]
    [InlineData("query", HttpStatusCode.Forbidden)]
    [InlineData("cookie", HttpStatusCode.Forbidden)]
    public async Task WebSocket_RejectsMissingOrWrongKeyBeforeUpgrade(string place, HttpStatusCode expected)
    {
        await using var upstream = await TestUpstream.StartEchoAsync();
        await using var gateway = await TestGateway.StartWithApiAsync(upstream.WsUri(), apiExtra: TokenAuth, gatewayExtra: AdminClient.SecretConfig);
        using var http = new HttpClient();
        const string wrongKey = "gwk_wrong-key-text";
        var uri = gateway.HttpUri(place == "query" ? $"/echo/?auth_token={wrongKey}" : "/echo/");

        using var response = await GatewayAnswers.SendUpgradeAsync(http, uri, request =>
        {
            if (place == "header")
            {
                request.Headers.Add("Authorization", wrongKey);
            }
            else if (place == "cookie")
            {
                request.Headers.Add("Cookie", $"auth_token={wrongKey}");
            }
        });

        await GatewayAnswers.AssertErrorAsync(response, expected, "echo", wrongKey);
    }

    [Fact]
    public async Task Keyless_PassesWithoutCredential()
    {
        await using var upstream = await TestUpstream.StartEchoAsync();
        await using var gateway = await TestGateway.StartWithApiAsync(upstream.HttpUri());
        using var http = new HttpClient();

        using var response = await http.GetAsync(gateway.HttpUri("/echo/a"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    /// <summary>Returns the Authorization and Cookie headers and the query string the upstream received.</summary>
    private static Task EchoHeadersAsync(Microsoft.AspNetCore.Http.HttpContext context)
    {
        var authorization = context.Request.Headers.Authorization.ToString();
        var text = $"authorization={(authorization.Length == 0 ? "(none)" : authorization)}\n" +
                   $"cookie={context.Request.Headers.Cookie}\nquery={context.Request.QueryString}";
        return Microsoft.AspNetCore.Http.HttpResponseWritingExtensions.WriteAsync(context.Response, text);
    }
}
