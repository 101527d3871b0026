using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace Gateway.Tests.Support;

/// <summary>An HTTP client for a test gateway's admin API, sending the bearer secret.</summary>
public sealed class AdminClient : IDisposable
{
    public const string Secret = "test-admin-secret-0123456789";

    /// <summary>HOCON for the body of <see cref="TestGateway.StartAsync"/> that sets <see cref="Secret"/>.</summary>
    public const string SecretConfig = $"admin.secret = \"{Secret}\"";

    private readonly HttpClient _http;

    public AdminClient(Uri baseUri)
    {
        _http = new HttpClient { BaseAddress = baseUri, Timeout = TimeSpan.FromSeconds(15) };
        _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Secret);
    }

    public AdminClient(TestGateway gateway)
        : this(gateway.AdminUri("/"))
    {
    }

    public HttpClient Http => _http;

    /// <summary>Creates a key from a JSON policy and returns its public id and its key text.</summary>
    public async Task<(string Id, string Key)> CreateKeyAsync(string policyJson)
    {
        using var response = await _http.PostAsync("/admin/keys", Json(policyJson));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == System.Net.HttpStatusCode.Created, $"POST /admin/keys answered {(int)response.StatusCode}: {body}");
        using var document = JsonDocument.Parse(body);
        return (document.RootElement.GetProperty("id").GetString()!, document.RootElement.GetProperty("key").GetString()!);
    }

    public static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    public void Dispose() => _http.Dispose();
}
