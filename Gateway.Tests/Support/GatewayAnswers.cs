using System.Net;
using System.Text.Json;

namespace Gateway.Tests.Support;

/// <summary>Requests and checks shared by the access tests.</summary>
public static class GatewayAnswers
{
    /// <summary>
    /// Sends a WebSocket upgrade request with HttpClient, for checking rejections: the gateway rejects
    /// an upgrade with an ordinary response and a JSON body.
    /// </summary>
    public static async Task<HttpResponseMessage> SendUpgradeAsync(HttpClient http, Uri uri, Action<HttpRequestMessage>? configure = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, uri);
        request.Headers.Connection.Add("Upgrade");
        request.Headers.Upgrade.Add(new System.Net.Http.Headers.ProductHeaderValue("websocket"));
        request.Headers.Add("Sec-WebSocket-Version", "13");
        request.Headers.Add("Sec-WebSocket-Key", Convert.ToBase64String(Guid.NewGuid().ToByteArray()));
        configure?.Invoke(request);
        return await http.SendAsync(request);
    }

    /// <summary>Checks the status and that the body is {"error": "..."} naming the API and never the key.</summary>
    public static async Task AssertErrorAsync(HttpResponseMessage response, HttpStatusCode status, string apiName, string? secret = null)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"expected {(int)status}, got {(int)response.StatusCode}: {body}");
        using var document = JsonDocument.Parse(body);
        var error = document.RootElement.GetProperty("error").GetString()!;
        Assert.Contains($"'{apiName}'", error);
        if (secret is not null)
        {
            Assert.DoesNotContain(secret, error);
        }
    }
}
