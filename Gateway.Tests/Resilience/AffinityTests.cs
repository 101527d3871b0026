using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Gateway.Tests.Configuration;
using Gateway.Tests.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Gateway.Tests.Resilience;

/// <summary>
/// Session affinity with real Socket.IO and SignalR clients, whose first requests (polling handshake,
/// negotiate) must reach the same upstream as the WebSocket that follows. The two upstreams share no
/// state, so a request that lands on the other one fails.
/// </summary>
public sealed class AffinityTests
{
    private static readonly SemaphoreSlim NpmInstall = new(1, 1);

    [Fact]
    public async Task SignalR_CookieKeepsNegotiateAndWebSocketTogether()
    {
        await using var first = await SignalRUpstream.StartAsync("first");
        await using var second = await SignalRUpstream.StartAsync("second");
        await using var gateway = await TestGateway.StartAsync($$"""
            apis.chat {
              listen-path = "/chat/"
              target-urls = [ "{{first.Uri}}", "{{second.Uri}}" ]
              affinity.mode = cookie
            }
            """);

        var names = new List<string>();
        for (var client = 0; client < 4; client++)
        {
            await using var connection = new HubConnectionBuilder()
                .WithUrl(gateway.HttpUri("/chat/hub"), HttpTransportType.WebSockets)
                .Build();
            await connection.StartAsync();
            var answers = new HashSet<string>();
            for (var i = 0; i < 3; i++)
            {
                answers.Add(await connection.InvokeAsync<string>("WhoAmI"));
            }

            Assert.Single(answers);
            names.Add(answers.Single());
        }

        Assert.Contains("first", names);
        Assert.Contains("second", names);
    }

    [Fact]
    public async Task SignalR_WithoutAffinityLosesItsConnection()
    {
        await using var first = await SignalRUpstream.StartAsync("first");
        await using var second = await SignalRUpstream.StartAsync("second");
        await using var gateway = await TestGateway.StartAsync($$"""
            apis.chat {
              listen-path = "/chat/"
              target-urls = [ "{{first.Uri}}", "{{second.Uri}}" ]
            }
            """);
        await using var connection = new HubConnectionBuilder()
            .WithUrl(gateway.HttpUri("/chat/hub"), HttpTransportType.WebSockets)
            .Build();

        await Assert.ThrowsAnyAsync<Exception>(() => connection.StartAsync());
    }

    [Fact]
    public async Task SocketIo_ClientAddressKeepsPollingAndUpgradeTogether()
    {
        var directory = Path.Combine(ConfigLoaderTests.RepositoryRoot(), "Gateway.Tests", "SocketIo");
        await EnsureNodeModulesAsync(directory);
        using var first = await NodeServer.StartAsync(directory, "first");
        using var second = await NodeServer.StartAsync(directory, "second");
        await using var gateway = await TestGateway.StartAsync($$"""
            apis.sio {
              listen-path = "/sio/"
              target-urls = [ "http://127.0.0.1:{{first.Port}}/", "http://127.0.0.1:{{second.Port}}/" ]
              affinity.mode = client-address
            }
            """);

        var (exitCode, output) = await RunNodeAsync(directory, "client.js", $"http://127.0.0.1:{gateway.ClientEndpoint.Port}", "/sio/socket.io/");
        var result = JsonDocument.Parse(output).RootElement;

        Assert.True(exitCode == 0, $"the Socket.IO client failed: {output}");
        Assert.Equal("websocket", result.GetProperty("transport").GetString());
        var names = result.GetProperty("names").EnumerateArray().Select(name => name.GetString()).ToHashSet();
        Assert.Single(names);
    }

    private static async Task EnsureNodeModulesAsync(string directory)
    {
        await NpmInstall.WaitAsync();
        try
        {
            if (Directory.Exists(Path.Combine(directory, "node_modules", "socket.io-client")))
            {
                return;
            }

            var (exitCode, output) = await RunAsync("npm", directory, "install", "--no-package-lock", "--no-audit", "--no-fund");
            Assert.True(exitCode == 0, $"npm install in {directory} failed: {output}");
        }
        finally
        {
            NpmInstall.Release();
        }
    }

    private static Task<(int ExitCode, string Output)> RunNodeAsync(string directory, params string[] arguments) =>
        RunAsync("node", directory, arguments);

    private static async Task<(int ExitCode, string Output)> RunAsync(string program, string directory, params string[] arguments)
    {
        var start = new ProcessStartInfo(program) { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, (await output).Trim() + (await error).Trim());
    }

    private sealed class NodeServer : IDisposable
    {
        private readonly Process _process;

        private NodeServer(Process process, int port)
        {
            _process = process;
            Port = port;
        }

        public int Port { get; }

        public static async Task<NodeServer> StartAsync(string directory, string name)
        {
            var start = new ProcessStartInfo("node") { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true };
            start.ArgumentList.Add("server.js");
            start.ArgumentList.Add(name);
            var process = Process.Start(start)!;
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            var line = await process.StandardOutput.ReadLineAsync(timeout.Token);
            if (line is null || !line.StartsWith("listening "))
            {
                process.Kill();
                throw new InvalidOperationException($"the Socket.IO server did not start: {line} {await process.StandardError.ReadToEndAsync()}");
            }

            return new NodeServer(process, int.Parse(line["listening ".Length..]));
        }

        public void Dispose()
        {
            _process.Kill(entireProcessTree: true);
            _process.Dispose();
        }
    }

    private sealed class SignalRUpstream : IAsyncDisposable
    {
        private readonly WebApplication _app;

        private SignalRUpstream(WebApplication app, Uri uri)
        {
            _app = app;
            Uri = uri;
        }

        public Uri Uri { get; }

        public static async Task<SignalRUpstream> StartAsync(string name)
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
            builder.Services.AddSignalR();
            builder.Services.AddSingleton(new UpstreamName(name));
            var app = builder.Build();
            app.UseWebSockets();
            app.MapHub<NameHub>("/hub");
            await app.StartAsync();
            var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
            return new SignalRUpstream(app, new Uri(address + "/"));
        }

        public async ValueTask DisposeAsync()
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }

    public sealed record UpstreamName(string Name);

    public sealed class NameHub : Hub
    {
        private readonly UpstreamName _name;

        public NameHub(UpstreamName name)
        {
            _name = name;
        }

        public string WhoAmI() => _name.Name;
    }
}
