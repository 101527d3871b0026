using System.Net;
using System.Net.Http.Headers;
using System.Net.WebSockets;
using System.Text;
using Gateway.Tests.Proxy;
using System.Text.Json;
using Gateway.Tests.Support;

namespace Gateway.Tests.Access;

public sealed class AdminApiTests
{
    [Fact]
    public async Task Secret_RejectsMissingAndWrong()
    {
        await using var gateway = await TestGateway.StartAsync(AdminClient.SecretConfig);
        using var http = new HttpClient();
        using var wrongRequest = new HttpRequestMessage(HttpMethod.Get, gateway.AdminUri("/admin/keys"));
        wrongRequest.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "wrong-secret-wrong-secret");
        using var admin = new AdminClient(gateway);

        using var missing = await http.GetAsync(gateway.AdminUri("/admin/keys"));
        using var wrong = await http.SendAsync(wrongRequest);
        using var post = await http.PostAsync(gateway.AdminUri("/admin/keys"), AdminClient.Json("{}"));
        using var right = await admin.Http.GetAsync("/admin/keys");

        Assert.Equal(HttpStatusCode.Unauthorized, missing.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, wrong.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, post.StatusCode);
        Assert.Equal(HttpStatusCode.OK, right.StatusCode);
    }

    [Theory]
    [InlineData("{\"rate\": 10, \"per\": \"1s\",", "not valid JSON")]
    [InlineData("", "the body is empty")]
    [InlineData("this is not json", "not valid JSON")]
    [InlineData("[1, 2]", "not an object")]
    public async Task Keys_RejectMalformedBody(string body, string expected)
    {
        await using var gateway = await TestGateway.StartAsync(AdminClient.SecretConfig);
        using var admin = new AdminClient(gateway);

        using var response = await admin.Http.PostAsync("/admin/keys", AdminClient.Json(body));
        var text = await response.Content.ReadAsStringAsync();
        var list = await admin.Http.GetStringAsync("/admin/keys");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(expected, text);
        Assert.Equal(0, JsonDocument.Parse(list).RootElement.GetArrayLength());
    }

    [Fact]
    public async Task Keys_CreateReadUpdateDeleteWithoutShowingKey()
    {
        await using var gateway = await TestGateway.StartAsync(AdminClient.SecretConfig);
        using var admin = new AdminClient(gateway);

        var (id, key) = await admin.CreateKeyAsync("""{"rate": 5, "per": "1s", "access-rights": ["echo"], "max-connections": 3}""");
        var read = await admin.Http.GetStringAsync($"/admin/keys/{id}");
        using var updated = await admin.Http.PutAsync($"/admin/keys/{id}", AdminClient.Json("""{"rate": 7}"""));
        var list = await admin.Http.GetStringAsync("/admin/keys");
        using var invalid = await admin.Http.PostAsync("/admin/keys", AdminClient.Json("""{"rate": "fast"}"""));
        using var deleted = await admin.Http.DeleteAsync($"/admin/keys/{id}");
        using var afterDelete = await admin.Http.GetAsync($"/admin/keys/{id}");
        var keyFile = await File.ReadAllTextAsync(Path.Combine(gateway.Config.Gateway.DataDirectory, "keys.json"));

        Assert.StartsWith("key_", id);
        Assert.DoesNotContain(key, read);
        Assert.Equal(5, JsonDocument.Parse(read).RootElement.GetProperty("rate").GetInt32());
        Assert.Equal(HttpStatusCode.OK, updated.StatusCode);
        Assert.Contains("\"rate\":7", list);
        Assert.DoesNotContain(key, list);
        Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
        Assert.Contains("key.rate", await invalid.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, afterDelete.StatusCode);
        Assert.DoesNotContain(key, keyFile);
    }

    [Fact]
    public async Task Apis_CreateReplaceAndRemoveAtRunTime()
    {
        await using var upstream = await TestUpstream.StartEchoAsync();
        await using var gateway = await TestGateway.StartAsync(AdminClient.SecretConfig);
        using var admin = new AdminClient(gateway);
        using var http = new HttpClient();

        using var created = await admin.Http.PostAsync("/admin/apis", AdminClient.Json(
            $$"""{"id": "live", "listen-path": "/live/", "target-url": "{{upstream.HttpUri()}}"}"""));
        var first = await http.GetStringAsync(gateway.HttpUri("/live/one"));
        using var duplicate = await admin.Http.PostAsync("/admin/apis", AdminClient.Json(
            $$"""{"id": "live", "listen-path": "/other/", "target-url": "{{upstream.HttpUri()}}"}"""));
        using var replaced = await admin.Http.PutAsync("/admin/apis/live", AdminClient.Json(
            $$"""{"listen-path": "/moved/", "target-url": "{{upstream.HttpUri()}}"}"""));
        using var oldPath = await http.GetAsync(gateway.HttpUri("/live/one"));
        var moved = await http.GetStringAsync(gateway.HttpUri("/moved/two"));
        using var invalid = await admin.Http.PostAsync("/admin/apis", AdminClient.Json("""{"id": "bad", "listen-path": "nope"}"""));
        using var removed = await admin.Http.DeleteAsync("/admin/apis/live");
        using var afterRemove = await http.GetAsync(gateway.HttpUri("/moved/two"));

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal("GET /one", first);
        Assert.Equal(HttpStatusCode.Conflict, duplicate.StatusCode);
        Assert.Equal(HttpStatusCode.OK, replaced.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, oldPath.StatusCode);
        Assert.Equal("GET /two", moved);
        Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, removed.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, afterRemove.StatusCode);
    }

    [Fact]
    public async Task ReplacedApi_KeepsOpenConnections()
    {
        await using var upstream = await TestUpstream.StartEchoAsync();
        await using var gateway = await TestGateway.StartAsync(AdminClient.SecretConfig);
        using var admin = new AdminClient(gateway);
        foreach (var id in new[] { "kept", "changed" })
        {
            using var created = await admin.Http.PostAsync("/admin/apis", AdminClient.Json(
                $$"""{"id": "{{id}}", "listen-path": "/{{id}}/", "target-url": "{{upstream.WsUri()}}"}"""));
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }

        using var cancellation = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        using var kept = new ClientWebSocket();
        using var changed = new ClientWebSocket();
        await kept.ConnectAsync(gateway.WsUri("/kept/"), cancellation.Token);
        await changed.ConnectAsync(gateway.WsUri("/changed/"), cancellation.Token);

        using var replaced = await admin.Http.PutAsync("/admin/apis/changed", AdminClient.Json(
            $$$"""{"listen-path": "/changed/", "target-url": "{{{upstream.WsUri()}}}", "websocket-limits": {"max-message-size": "1MiB"} }"""));
        var keptEcho = await WebSocketEchoTests.SendAndReceiveAsync(kept, Encoding.UTF8.GetBytes("kept"), WebSocketMessageType.Text, cancellation.Token);
        var changedEcho = await WebSocketEchoTests.SendAndReceiveAsync(changed, Encoding.UTF8.GetBytes("changed"), WebSocketMessageType.Text, cancellation.Token);
        using var removed = await admin.Http.DeleteAsync("/admin/apis/changed");
        var closed = await changed.ReceiveAsync(new byte[256], cancellation.Token);

        Assert.Equal(HttpStatusCode.OK, replaced.StatusCode);
        Assert.Equal("kept", Encoding.UTF8.GetString(keptEcho.Payload));
        Assert.Equal("changed", Encoding.UTF8.GetString(changedEcho.Payload));
        Assert.Equal(HttpStatusCode.NoContent, removed.StatusCode);
        Assert.Equal(WebSocketMessageType.Close, closed.MessageType);
        Assert.Equal((WebSocketCloseStatus)1012, changed.CloseStatus);
        await kept.CloseAsync(WebSocketCloseStatus.NormalClosure, "", cancellation.Token);
    }

    [Fact]
    public async Task RequestHead_OverLimitsGets431And414()
    {
        await using var upstream = await TestUpstream.StartEchoAsync();
        await using var gateway = await TestGateway.StartWithApiAsync(upstream.HttpUri(),
            gatewayExtra: "request-limits { max-header-size = 4KiB, max-request-line = 1KiB }");
        using var http = new HttpClient();
        using var bigHeaders = new HttpRequestMessage(HttpMethod.Get, gateway.HttpUri("/echo/a"));
        bigHeaders.Headers.Add("X-Big", new string('h', 5000));

        using var headers = await http.SendAsync(bigHeaders);
        using var url = await http.GetAsync(gateway.HttpUri("/echo/" + new string('u', 2000)));
        using var fine = await http.GetAsync(gateway.HttpUri("/echo/" + new string('u', 500)));

        Assert.Equal(HttpStatusCode.RequestHeaderFieldsTooLarge, headers.StatusCode);
        Assert.Equal(HttpStatusCode.RequestUriTooLong, url.StatusCode);
        Assert.Equal(HttpStatusCode.OK, fine.StatusCode);
    }
}
