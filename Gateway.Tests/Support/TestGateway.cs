using System.Net;
using Gateway.Actors.Apis;
using Gateway.Actors.Configuration;
using Gateway.Host.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests.Support;

/// <summary>
/// A real gateway host on loopback, started from HOCON text, with every listener on a free port.
/// </summary>
public sealed class TestGateway : IAsyncDisposable
{
    private TestGateway(WebApplication app, LoadedConfig config)
    {
        App = app;
        Config = config;
        var endpoints = app.Services.GetRequiredService<GatewayEndpoints>();
        ClientEndpoint = endpoints.Of(ListenerKind.Client)[0];
        AdminEndpoint = endpoints.Of(ListenerKind.Admin).FirstOrDefault();
    }

    public WebApplication App { get; }

    public LoadedConfig Config { get; }

    public IPEndPoint ClientEndpoint { get; }

    public IPEndPoint? AdminEndpoint { get; }

    /// <summary>Every client listener's endpoint, in configuration order.</summary>
    public IReadOnlyList<IPEndPoint> ClientEndpoints => App.Services.GetRequiredService<GatewayEndpoints>().Of(ListenerKind.Client);

    public Uri HttpUri(string path) => new($"http://127.0.0.1:{ClientEndpoint.Port}{path}");

    public Uri WsUri(string path) => new($"ws://127.0.0.1:{ClientEndpoint.Port}{path}");

    public Uri AdminUri(string path) => new($"http://127.0.0.1:{AdminEndpoint!.Port}{path}");

    /// <summary>
    /// Starts a gateway. <paramref name="gatewayBody"/> is HOCON placed inside <c>gateway { }</c>, after
    /// listeners on free loopback ports.
    /// </summary>
    /// <param name="upstreamConnect">Replaces how the gateway opens upstream connections; null for the default.</param>
    /// <param name="rootExtra">HOCON placed after <c>gateway { }</c> at the root, such as <c>akka</c> settings.</param>
    public static async Task<TestGateway> StartAsync(
        string gatewayBody,
        UpstreamConnect? upstreamConnect = null,
        string rootExtra = "")
    {
        var config = GatewayConfigLoader.LoadText(ConfigText(gatewayBody, NewDataDirectory(), rootExtra), "test.conf");
        var app = GatewayHost.Build(config, upstreamConnect);
        await app.StartAsync();
        return new TestGateway(app, config);
    }

    /// <summary>Starts a gateway from a configuration file, so that POST /admin/reload can read it again.</summary>
    public static async Task<TestGateway> StartFromFileAsync(string path)
    {
        var config = GatewayConfigLoader.LoadFile(path);
        var app = GatewayHost.Build(config);
        await app.StartAsync();
        return new TestGateway(app, config);
    }

    /// <summary>A fresh data directory, so tests never share keys or runtime APIs.</summary>
    public static string NewDataDirectory() => Path.Combine(Path.GetTempPath(), "gateway-tests", Guid.NewGuid().ToString("n"));

    /// <summary>
    /// The configuration the tests use: listeners on free loopback ports, a short drain time, the given
    /// data directory, <paramref name="gatewayBody"/> inside <c>gateway { }</c>, and <paramref name="rootExtra"/> after it.
    /// </summary>
    public static string ConfigText(string gatewayBody, string dataDirectory, string rootExtra = "") =>
        $$"""
            gateway {
              listen = [ { host = "127.0.0.1", port = 0 } ]
              admin {
                host = "127.0.0.1"
                port = 0
              }
              drain-timeout = 3s
              data-directory = "{{dataDirectory}}"
              {{gatewayBody}}
            }
            akka.loglevel = INFO
            {{rootExtra}}
            """;

    /// <summary>Starts a gateway with one API named <paramref name="apiId"/> on /{apiId}/ in front of <paramref name="target"/>.</summary>
    public static Task<TestGateway> StartWithApiAsync(Uri target, string apiId = "echo", string apiExtra = "", string gatewayExtra = "") =>
        StartAsync($$"""
            {{gatewayExtra}}
            apis {
              {{apiId}} {
                listen-path = "/{{apiId}}/"
                target-url = "{{target}}"
                {{apiExtra}}
              }
            }
            """);

    public async ValueTask DisposeAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        await App.StopAsync(timeout.Token);
        await App.DisposeAsync();
    }
}
