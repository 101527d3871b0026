using System.Net;
using Akka.Hosting;
using Akka.Logger.Serilog;
using Gateway.Actors.Apis;
using Gateway.Actors.Cluster;
using Gateway.Actors.Configuration;
using Gateway.Actors.Connections;
using Gateway.Actors.Keys;
using Gateway.Actors.Limits;
using Gateway.Host.Admin;
using Gateway.Host.Auth;
using Gateway.Host.Cluster;
using Gateway.Host.Echo;
using Gateway.Host.Proxy;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Serilog;

namespace Gateway.Host.Hosting;

/// <summary>Builds the gateway's web application: Kestrel listeners, the actor system, the proxy and the admin API.</summary>
public static class GatewayHost
{
    private const string ListenerKindItem = "gateway.listener-kind";

    /// <param name="upstreamConnect">
    /// Replaces how upstream connections are opened (see <see cref="UpstreamHandlers.Create"/>); null for
    /// the default. Tests use it to reach loopback servers for targets that name no port.
    /// </param>
    public static WebApplication Build(
        LoadedConfig config,
        UpstreamConnect? upstreamConnect = null)
    {
        var settings = config.Gateway;
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.Services.AddSerilog(Log.Logger, dispose: false);
        builder.Services.AddRoutingCore();
        builder.Services.Configure<HostOptions>(options => options.ShutdownTimeout = settings.DrainTimeout + TimeSpan.FromSeconds(5));

        var endpoints = new GatewayEndpoints();
        var routes = new RouteTableHolder();
        var stored = StoredState.Load(settings.DataDirectory);
        var keys = new KeySnapshotHolder();
        var usage = settings.Cluster.Enabled ? new ClusterUsage() : null;
        var keyConnections = new KeyConnectionCounts(usage);
        var share = new NodeShare();
        builder.Services.AddSingleton(keys);
        builder.Services.AddSingleton(share);
        builder.Services.AddSingleton(new RequestLimiters(share, usage));
        builder.Services.AddSingleton<JwtValidator>();
        builder.Services.AddSingleton<AccessGate>();
        builder.Services.AddSingleton(settings);
        builder.Services.AddSingleton(config);
        builder.Services.AddSingleton(endpoints);
        builder.Services.AddSingleton(routes);
        builder.Services.AddSingleton<WebSocketProxy>();
        builder.Services.AddSingleton<WebSocketCapacity>();
        builder.Services.AddSingleton<HttpProxy>();
        builder.Services.AddSingleton<SessionAffinity>();
        builder.Services.AddHttpForwarder();
        builder.Services.AddHostedService<DrainService>();

        builder.Services.AddAkka("gateway", akka =>
        {
            // Cluster settings go first, so akka keys of the configuration file override them.
            if (settings.Cluster.Enabled)
            {
                akka.WithGatewayCluster(settings.Cluster, settings.DataDirectory);
            }

            akka.AddHocon(config.Root, HoconAddMode.Prepend);

            // The host stops the actor system, after DrainService has closed every WebSocket with 1001.
            // Akka's own process-exit hook would terminate it first, on SIGTERM, and cut every connection.
            akka.AddHocon("akka.coordinated-shutdown.run-by-clr-shutdown-hook = off", HoconAddMode.Prepend);
            akka.AddHocon(TunnelMailbox.Hocon, HoconAddMode.Append);
            akka.ConfigureLoggers(loggers =>
            {
                loggers.ClearLoggers();
                loggers.AddLogger<SerilogLogger>();
            });
            akka.WithActors((system, registry) =>
            {
                var supervisor = system.ActorOf(
                    ApiSupervisor.Props(settings.Apis, routes, stored.ApiFilePath, stored.Apis, keyConnections, upstreamConnect), "apis");
                registry.Register<ApiSupervisor>(supervisor);
                if (settings.Cluster.Enabled)
                {
                    ClusterHosting.StartActors(system, registry, supervisor, stored, keys, share);
                    system.ActorOf(UsageReplicator.Props(usage!, keyConnections, settings.Cluster.FlushInterval), "usage");
                    return;
                }

                var keyStore = system.ActorOf(KeyStore.Props(stored.KeyFilePath, stored.Keys, keys), "keys");
                registry.Register<KeyStore>(keyStore);
            });
        });

        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;

            // Kestrel answers a request over these bounds itself, with 431 or 414 and no body.
            kestrel.Limits.MaxRequestHeadersTotalSize = (int)settings.RequestLimits.MaxHeaderSize;
            kestrel.Limits.MaxRequestLineSize = settings.RequestLimits.MaxRequestLine;
            foreach (var listener in settings.Listeners)
            {
                Listen(kestrel, endpoints, ListenerKind.Client, listener.Host, listener.Port, listener.Tls);
            }

            if (settings.Admin.Enabled)
            {
                Listen(kestrel, endpoints, ListenerKind.Admin, settings.Admin.Host, settings.Admin.Port);
            }

            if (settings.EchoUpstream.Enabled)
            {
                Listen(kestrel, endpoints, ListenerKind.Echo, settings.EchoUpstream.Host, settings.EchoUpstream.Port);
            }
        });

        var app = builder.Build();

        // Sized now, from the files open before any traffic, and logged with the start-up lines.
        app.Services.GetRequiredService<WebSocketCapacity>();
        app.UseWebSockets();
        app.Use((context, next) => KindOf(context) switch
        {
            ListenerKind.Admin => AdminEndpoints.HandleAsync(context),
            ListenerKind.Echo => EchoHandler.HandleAsync(context),
            _ when context.Request.Path == "/hello" => AdminEndpoints.HelloAsync(context),
            _ => next(context),
        });
        app.UseMiddleware<ProxyMiddleware>();
        return app;
    }

    /// <summary>Builds a web application that only runs the echo upstream, for <c>Gateway.Host echo</c>.</summary>
    public static WebApplication BuildEcho(string host, int port)
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.Services.AddSerilog(Log.Logger, dispose: false);
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            Listen(kestrel, new GatewayEndpoints(), ListenerKind.Echo, host, port);
        });
        var app = builder.Build();
        app.UseWebSockets();
        app.Run(EchoHandler.HandleAsync);
        return app;
    }

    private static ListenerKind KindOf(HttpContext context) =>
        context.Features.Get<IConnectionItemsFeature>()?.Items.TryGetValue(ListenerKindItem, out var kind) == true
            ? (ListenerKind)kind!
            : ListenerKind.Client;

    private static void Listen(
        KestrelServerOptions kestrel, GatewayEndpoints endpoints, ListenerKind kind, string host, int port, ListenerTls? tls = null)
    {
        void Configure(ListenOptions options)
        {
            // Plain listeners speak HTTP/1.1 only: without TLS there is no ALPN to offer h2 with, and
            // the gateway does not accept HTTP/2 with prior knowledge (h2c).
            options.Protocols = HttpProtocols.Http1;
            options.Use(next => connection =>
            {
                connection.Items[ListenerKindItem] = kind;
                return next(connection);
            });
            if (tls is not null)
            {
                ListenerTlsSetup.UseTls(options, tls);
            }

            endpoints.Add(kind, options);
        }

        switch (host)
        {
            case "localhost":
                kestrel.Listen(IPAddress.Loopback, port, Configure);
                break;
            case "*":
                kestrel.ListenAnyIP(port, Configure);
                break;
            default:
                kestrel.Listen(IPAddress.Parse(host), port, Configure);
                break;
        }
    }
}
