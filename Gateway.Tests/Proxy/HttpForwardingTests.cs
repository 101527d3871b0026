using System.Net;
using System.Text;
using System.Text.Json;
using Gateway.Tests.Support;
using Microsoft.AspNetCore.Http;

namespace Gateway.Tests.Proxy;

/// <summary>Ordinary HTTP requests through the gateway: routing, path joining, headers and bodies.</summary>
public sealed class HttpForwardingTests
{
    [Theory]
    [InlineData("/api/", "on", "/v1", "/api/users/7?active=true", "/v1/users/7?active=true")]
    [InlineData("/api/", "on", "/v1/", "/api/users", "/v1/users")]
    [InlineData("/api/", "on", "/", "/api/", "/")]
    [InlineData("/api/", "on", "/v1", "/api", "/v1")]
    [InlineData("/api/", "off", "/", "/api/users", "/api/users")]
    [InlineData("/api/", "off", "/base/", "/api/users?q=a%20b", "/base/api/users?q=a%20b")]
    public async Task Path_JoinedToTargetPath(string listenPath, string strip, string targetPath, string requestPath, string expected)
    {
        await using var upstream = await TestUpstream.StartAsync(DescribeAsync);
        await using var gateway = await TestGateway.StartAsync($$"""
            apis {
              api {
                listen-path = "{{listenPath}}"
                strip-listen-path = {{strip}}
                target-url = "{{upstream.HttpUri(targetPath)}}"
              }
            }
            """);
        using var http = new HttpClient();

        var seen = await http.GetFromJsonAsync(gateway.HttpUri(requestPath));

        Assert.Equal(expected, seen.GetProperty("target").GetString());
    }

    [Fact]
    public async Task LongestListenPath_Wins()
    {
        await using var general = await TestUpstream.StartAsync(context => context.Response.WriteAsync("general"));
        await using var specific = await TestUpstream.StartAsync(context => context.Response.WriteAsync("specific"));
        await using var gateway = await TestGateway.StartAsync($$"""
            apis {
              general {
                listen-path = "/a/"
                target-url = "{{general.HttpUri()}}"
              }
              specific {
                listen-path = "/a/b/"
                target-url = "{{specific.HttpUri()}}"
              }
            }
            """);
        using var http = new HttpClient();

        Assert.Equal("specific", await http.GetStringAsync(gateway.HttpUri("/a/b/c")));
        Assert.Equal("general", await http.GetStringAsync(gateway.HttpUri("/a/bc")));
        Assert.Equal("general", await http.GetStringAsync(gateway.HttpUri("/a/")));
    }

    [Fact]
    public async Task Headers_ForwardedAndHopByHopRemoved()
    {
        await using var upstream = await TestUpstream.StartAsync(DescribeAsync);
        await using var gateway = await TestGateway.StartWithApiAsync(upstream.HttpUri());
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, gateway.HttpUri("/echo/x"));
        request.Headers.Add("X-Forwarded-For", "10.1.2.3");
        request.Headers.Add("X-Custom", "kept");
        request.Headers.Add("Keep-Alive", "timeout=5");
        request.Headers.Host = "public.test";

        using var response = await http.SendAsync(request);
        var seen = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("headers");

        Assert.Equal($"127.0.0.1:{upstream.Port}", seen.GetProperty("Host").GetString());
        Assert.Equal("10.1.2.3, 127.0.0.1", seen.GetProperty("X-Forwarded-For").GetString());
        Assert.Equal("http", seen.GetProperty("X-Forwarded-Proto").GetString());
        Assert.Equal("public.test", seen.GetProperty("X-Forwarded-Host").GetString());
        Assert.Equal("kept", seen.GetProperty("X-Custom").GetString());
        Assert.False(seen.TryGetProperty("Keep-Alive", out _));
    }

    [Fact]
    public async Task PreserveHostHeader_SendsClientHost()
    {
        await using var upstream = await TestUpstream.StartAsync(DescribeAsync);
        await using var gateway = await TestGateway.StartWithApiAsync(upstream.HttpUri(), apiExtra: "preserve-host-header = on");
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, gateway.HttpUri("/echo/"));
        request.Headers.Host = "public.test";

        using var response = await http.SendAsync(request);
        var seen = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("headers");

        Assert.Equal("public.test", seen.GetProperty("Host").GetString());
    }

    [Fact]
    public async Task LargeUpload_ReachesUpstreamIntact()
    {
        await using var upstream = await TestUpstream.StartAsync(async context =>
        {
            // The upstream hashes the body as it arrives, so it never holds it whole either.
            using var hash = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
            var buffer = new byte[64 * 1024];
            int read;
            while ((read = await context.Request.Body.ReadAsync(buffer)) > 0)
            {
                hash.AppendData(buffer, 0, read);
            }

            await context.Response.WriteAsync(Convert.ToHexString(hash.GetHashAndReset()));
        });
        await using var gateway = await TestGateway.StartWithApiAsync(upstream.HttpUri());
        using var http = new HttpClient();
        var body = new byte[8 * 1024 * 1024];
        new Random(7).NextBytes(body);

        using var response = await http.PostAsync(gateway.HttpUri("/echo/upload"), new ByteArrayContent(body));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(body)), await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task LargeDownload_ReachesClientIntact()
    {
        var body = new byte[8 * 1024 * 1024];
        new Random(9).NextBytes(body);
        await using var upstream = await TestUpstream.StartAsync(async context =>
        {
            context.Response.ContentType = "application/octet-stream";
            for (var offset = 0; offset < body.Length; offset += 64 * 1024)
            {
                await context.Response.Body.WriteAsync(body.AsMemory(offset, 64 * 1024));
            }
        });
        await using var gateway = await TestGateway.StartWithApiAsync(upstream.HttpUri());
        using var http = new HttpClient();

        var received = await http.GetByteArrayAsync(gateway.HttpUri("/echo/download"));

        Assert.True(body.AsSpan().SequenceEqual(received), "the downloaded body differs from the one the upstream sent");
    }

    [Fact]
    public async Task UpstreamErrors_PassUntouched()
    {
        await using var upstream = await TestUpstream.StartAsync(async context =>
        {
            context.Response.StatusCode = 500;
            await context.Response.WriteAsync("upstream's own error");
        });
        await using var gateway = await TestGateway.StartWithApiAsync(upstream.HttpUri());
        using var http = new HttpClient();

        using var response = await http.GetAsync(gateway.HttpUri("/echo/"));

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Equal("upstream's own error", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task UpstreamDown_Gets502Json()
    {
        await using var gateway = await TestGateway.StartWithApiAsync(new Uri($"http://127.0.0.1:{HandshakeTests.FreePort()}/"));
        using var http = new HttpClient();

        using var response = await http.GetAsync(gateway.HttpUri("/echo/"));
        var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetString();

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Contains("'echo' is unreachable", error);
    }

    [Fact]
    public async Task Hello_AnswersOnClientListener()
    {
        await using var gateway = await TestGateway.StartAsync("");
        using var http = new HttpClient();

        var hello = await http.GetFromJsonAsync(gateway.HttpUri("/hello"));

        Assert.Equal("pass", hello.GetProperty("status").GetString());
    }

    private static Task DescribeAsync(HttpContext context) =>
        context.Response.WriteAsync(JsonSerializer.Serialize(new
        {
            target = context.Request.Path.ToUriComponent() + context.Request.QueryString.Value,
            headers = context.Request.Headers.ToDictionary(header => header.Key, header => header.Value.ToString()),
        }));
}

internal static class HttpClientJson
{
    public static async Task<JsonElement> GetFromJsonAsync(this HttpClient http, Uri uri)
    {
        var text = await http.GetStringAsync(uri);
        return JsonDocument.Parse(text).RootElement;
    }
}
