using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Gateway.Host.Hosting;
using Gateway.Tests.Support;

namespace Gateway.Tests.Access;

public sealed class DurabilityTests
{
    [Fact]
    public async Task KeysAndApis_SurviveKill()
    {
        await using var upstream = await TestUpstream.StartEchoAsync();
        var directory = Path.Combine(Path.GetTempPath(), "gateway-tests", Guid.NewGuid().ToString("n"));
        Directory.CreateDirectory(directory);
        var clientPort = FreePort();
        var adminPort = FreePort();
        var configFile = Path.Combine(directory, "gateway.conf");
        await File.WriteAllTextAsync(configFile, $$"""
            gateway {
              listen = [ { host = "127.0.0.1", port = {{clientPort}} } ]
              admin {
                host = "127.0.0.1"
                port = {{adminPort}}
                secret = "{{AdminClient.Secret}}"
              }
              data-directory = "{{Path.Combine(directory, "data")}}"
            }
            """);
        var adminUri = new Uri($"http://127.0.0.1:{adminPort}/");
        using var admin = new AdminClient(adminUri);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        http.DefaultRequestHeaders.Add("Authorization", "placeholder");

        string id;
        string key;
        using (var first = await StartGatewayAsync(configFile, adminUri))
        {
            (id, key) = await admin.CreateKeyAsync("""{"access-rights": ["live"]}""");
            using var created = await admin.Http.PostAsync("/admin/apis", AdminClient.Json(
                $$$"""{"id": "live", "listen-path": "/live/", "target-url": "{{{upstream.HttpUri()}}}", "auth": {"mode": "token"} }"""));
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);

            // SIGKILL: no shutdown code runs, so only what was on disk when the admin API responded counts.
            first.Kill();
            await first.WaitForExitAsync();
        }

        using var second = await StartGatewayAsync(configFile, adminUri);
        try
        {
            using var storedKey = await admin.Http.GetAsync($"/admin/keys/{id}");
            using var request = new HttpRequestMessage(HttpMethod.Get, $"http://127.0.0.1:{clientPort}/live/after-restart");
            request.Headers.Add("Authorization", $"Bearer {key}");
            using var proxied = await http.SendAsync(request);

            Assert.Equal(HttpStatusCode.OK, storedKey.StatusCode);
            Assert.Equal(HttpStatusCode.OK, proxied.StatusCode);
            Assert.Equal("GET /after-restart", await proxied.Content.ReadAsStringAsync());
        }
        finally
        {
            second.Kill();
            await second.WaitForExitAsync();
            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>Starts Gateway.Host as a child process and waits until its admin listener responds.</summary>
    private static async Task<Process> StartGatewayAsync(string configFile, Uri adminUri)
    {
        var hostDll = typeof(GatewayHost).Assembly.Location;
        var start = new ProcessStartInfo("dotnet")
        {
            ArgumentList = { hostDll, "--config", configFile },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        var process = Process.Start(start)!;
        var output = new System.Text.StringBuilder();
        process.OutputDataReceived += (_, line) => { lock (output) { output.AppendLine(line.Data); } };
        process.ErrorDataReceived += (_, line) => { lock (output) { output.AppendLine(line.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(20))
        {
            if (process.HasExited)
            {
                break;
            }

            try
            {
                using var hello = await http.GetAsync(new Uri(adminUri, "/hello"));
                if (hello.IsSuccessStatusCode)
                {
                    return process;
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException)
            {
            }

            await Task.Delay(100);
        }

        if (!process.HasExited)
        {
            process.Kill();
        }

        lock (output)
        {
            throw new Xunit.Sdk.XunitException($"Gateway.Host did not start within 20 s. Its output:\n{output}");
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
