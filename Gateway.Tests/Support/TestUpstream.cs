using System.Net;
using System.Net.WebSockets;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Gateway.Tests.Support;

/// <summary>A real Kestrel upstream on a free loopback port, running the handler a test gives it.</summary>
public sealed class TestUpstream : IAsyncDisposable
{
    private readonly WebApplication _app;

    private TestUpstream(WebApplication app, int port)
    {
        _app = app;
        Port = port;
    }

    public int Port { get; }

    public Uri WsUri(string path = "/") => new($"ws://127.0.0.1:{Port}{path}");

    public Uri HttpUri(string path = "/") => new($"http://127.0.0.1:{Port}{path}");

    public Uri WssUri(string path = "/") => new($"wss://127.0.0.1:{Port}{path}");

    public Uri HttpsUri(string path = "/") => new($"https://127.0.0.1:{Port}{path}");

    /// <param name="configureListener">Adds to the listener's options, for instance TLS; by default it speaks plain HTTP/1.1.</param>
    public static async Task<TestUpstream> StartAsync(RequestDelegate handler, Action<ListenOptions>? configureListener = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Listen(IPAddress.Loopback, 0, options => configureListener?.Invoke(options));
            kestrel.Limits.MaxRequestBodySize = null;
        });
        var app = builder.Build();
        app.UseWebSockets();
        app.Run(handler);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new TestUpstream(app, new Uri(address).Port);
    }

    /// <summary>An upstream that echoes every WebSocket message and mirrors the close code and reason.</summary>
    public static Task<TestUpstream> StartEchoAsync() => StartAsync(EchoAsync);

    /// <summary>An HTTP/1.1 echo upstream that serves TLS with <paramref name="certificate"/>.</summary>
    public static Task<TestUpstream> StartTlsEchoAsync(X509Certificate2 certificate, Action<HttpsConnectionAdapterOptions>? configureTls = null) =>
        StartAsync(EchoAsync, listener =>
        {
            listener.Protocols = HttpProtocols.Http1;
            listener.UseHttps(certificate, https => configureTls?.Invoke(https));
        });

    public static async Task EchoAsync(HttpContext context)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            context.Response.StatusCode = 200;
            await context.Response.WriteAsync($"{context.Request.Method} {context.Request.Path}{context.Request.QueryString}");
            return;
        }

        var offered = context.WebSockets.WebSocketRequestedProtocols;
        using var socket = await context.WebSockets.AcceptWebSocketAsync(offered.Count > 0 ? offered[^1] : null);
        var buffer = new byte[64 * 1024];
        try
        {
            while (true)
            {
                var received = await socket.ReceiveAsync(buffer, CancellationToken.None);
                if (received.MessageType == WebSocketMessageType.Close)
                {
                    await socket.CloseOutputAsync(socket.CloseStatus!.Value, socket.CloseStatusDescription, CancellationToken.None);
                    return;
                }

                await socket.SendAsync(buffer.AsMemory(0, received.Count), received.MessageType, received.EndOfMessage, CancellationToken.None);
            }
        }
        catch (WebSocketException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        try
        {
            await _app.StopAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
        }

        await _app.DisposeAsync();
    }
}
