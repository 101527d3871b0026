using System.Net;
using System.Net.WebSockets;
using System.Text;
using Gateway.Tests.Proxy;
using Gateway.Tests.Support;

namespace Gateway.Tests.Access;

public sealed class RateLimitTests
{
    private const string TokenAuth = "auth { mode = token }";

    [Fact]
    public async Task KeyRate_CountsUpgradesNotMessages()
    {
        await using var upstream = await TestUpstream.StartEchoAsync();
        await using var gateway = await TestGateway.StartWithApiAsync(upstream.WsUri(), apiExtra: TokenAuth, gatewayExtra: AdminClient.SecretConfig);
        using var admin = new AdminClient(gateway);
        var (_, key) = await admin.CreateKeyAsync("""{"rate": 2, "per": "1s"}""");
        using var cancellation = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        using var first = new ClientWebSocket();
        using var second = new ClientWebSocket();
        first.Options.SetRequestHeader("Authorization", key);
        second.Options.SetRequestHeader("Authorization", key);

        await first.ConnectAsync(gateway.WsUri("/echo/"), cancellation.Token);
        await second.ConnectAsync(gateway.WsUri("/echo/"), cancellation.Token);
        var (third, thirdStream, thirdHead) = await RawWebSocket.ConnectAsync(gateway.ClientEndpoint, "/echo/", $"Authorization: {key}\r\n", cancellation.Token);
        using (third)
        {
            Assert.StartsWith("HTTP/1.1 429", thirdHead);
            Assert.NotNull(RawWebSocket.Header(thirdHead, "Retry-After"));
            Assert.Equal("2", RawWebSocket.Header(thirdHead, "X-RateLimit-Limit"));
            Assert.Equal("0", RawWebSocket.Header(thirdHead, "X-RateLimit-Remaining"));
            Assert.NotNull(RawWebSocket.Header(thirdHead, "X-RateLimit-Reset"));
        }

        var echoed = await Task.WhenAll(new[] { first, second }.Select(async client =>
        {
            var count = 0;
            for (var i = 0; i < 1000; i++)
            {
                var sent = $"message {i}";
                var reply = await WebSocketEchoTests.SendAndReceiveAsync(client, Encoding.UTF8.GetBytes(sent), WebSocketMessageType.Text, cancellation.Token);
                count += Encoding.UTF8.GetString(reply.Payload) == sent ? 1 : 0;
            }

            return count;
        }));

        Assert.Equal(new[] { 1000, 1000 }, echoed);
        Assert.Equal(WebSocketState.Open, first.State);
        Assert.Equal(WebSocketState.Open, second.State);
    }

    [Fact]
    public async Task KeyQuota_RunsOutAndRenews()
    {
        await using var upstream = await TestUpstream.StartEchoAsync();
        await using var gateway = await TestGateway.StartWithApiAsync(upstream.HttpUri(), apiExtra: TokenAuth, gatewayExtra: AdminClient.SecretConfig);
        using var admin = new AdminClient(gateway);
        var (_, key) = await admin.CreateKeyAsync("""{"quota-max": 3, "quota-renewal-rate": "2s"}""");
        using var http = new HttpClient();
        http.DefaultRequestHeaders.Add("Authorization", key);

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 3; i++)
        {
            using var response = await http.GetAsync(gateway.HttpUri("/echo/a"));
            statuses.Add(response.StatusCode);
        }

        using var spent = await http.GetAsync(gateway.HttpUri("/echo/a"));
        var renewedAfter = TimeSpan.Zero;
        var started = DateTime.UtcNow;
        HttpStatusCode renewed;
        do
        {
            await Task.Delay(200);
            using var retry = await http.GetAsync(gateway.HttpUri("/echo/a"));
            renewed = retry.StatusCode;
            renewedAfter = DateTime.UtcNow - started;
        }
        while (renewed != HttpStatusCode.OK && renewedAfter < TimeSpan.FromSeconds(5));

        Assert.All(statuses, status => Assert.Equal(HttpStatusCode.OK, status));
        Assert.NotNull(spent.Headers.RetryAfter);
        await GatewayAnswers.AssertErrorAsync(spent, HttpStatusCode.Forbidden, "echo", key);
        Assert.Equal(HttpStatusCode.OK, renewed);
    }

    [Fact]
    public async Task ApiRate_LimitsAllClientsTogether()
    {
        await using var upstream = await TestUpstream.StartEchoAsync();
        await using var gateway = await TestGateway.StartWithApiAsync(upstream.HttpUri(), apiExtra: "rate-limit { rate = 3, per = 10s }");
        using var http = new HttpClient();

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 4; i++)
        {
            using var response = await http.GetAsync(gateway.HttpUri("/echo/a"));
            statuses.Add(response.StatusCode);
        }

        using var limited = await http.GetAsync(gateway.HttpUri("/echo/a"));

        Assert.Equal(new[] { HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests }, statuses);
        Assert.Equal("3", limited.Headers.GetValues("X-RateLimit-Limit").Single());
        await GatewayAnswers.AssertErrorAsync(limited, HttpStatusCode.TooManyRequests, "echo");
    }

    [Fact]
    public async Task KeyMaxConnections_RejectsUpgradeWith429()
    {
        await using var upstream = await TestUpstream.StartEchoAsync();
        await using var gateway = await TestGateway.StartWithApiAsync(upstream.WsUri(), apiExtra: TokenAuth, gatewayExtra: AdminClient.SecretConfig);
        using var admin = new AdminClient(gateway);
        var (_, key) = await admin.CreateKeyAsync("""{"max-connections": 1}""");
        using var cancellation = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        using var first = new ClientWebSocket();
        first.Options.SetRequestHeader("Authorization", key);
        await first.ConnectAsync(gateway.WsUri("/echo/"), cancellation.Token);

        var (second, _, head) = await RawWebSocket.ConnectAsync(gateway.ClientEndpoint, "/echo/", $"Authorization: {key}\r\n", cancellation.Token);
        second.Dispose();
        await first.CloseAsync(WebSocketCloseStatus.NormalClosure, "", cancellation.Token);
        var reopened = await ConnectWhenFreedAsync(gateway, key, cancellation.Token);

        Assert.StartsWith("HTTP/1.1 429", head);
        Assert.Equal(WebSocketState.Open, reopened.State);
        reopened.Dispose();
    }

    private static async Task<ClientWebSocket> ConnectWhenFreedAsync(TestGateway gateway, string key, CancellationToken cancellationToken)
    {
        // The API actor frees the slot when both legs have stopped, a moment after the close handshake.
        while (true)
        {
            var client = new ClientWebSocket();
            client.Options.SetRequestHeader("Authorization", key);
            try
            {
                await client.ConnectAsync(gateway.WsUri("/echo/"), cancellationToken);
                return client;
            }
            catch (WebSocketException) when (!cancellationToken.IsCancellationRequested)
            {
                client.Dispose();
                await Task.Delay(100, cancellationToken);
            }
        }
    }
}
