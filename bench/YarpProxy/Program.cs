using System.Globalization;
using System.Net;
using Yarp.ReverseProxy.Configuration;

// A minimal YARP reverse proxy, the "yarp" contender of bench/run.sh: everything under /echo/ goes to
// the echo upstream with the prefix removed, as nginx and the gateway do. Everything else is YARP's
// default, and YARP proxies WebSocket upgrades by default (its documentation, "Proxying WebSockets
// and SPDY").
const string Usage = "Usage: YarpProxy --port N --upstream http://127.0.0.1:PORT/   (listens on 127.0.0.1:N)";

if (args is not ["--port", var portText, "--upstream", var upstream]
    || !int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out var port)
    || !Uri.TryCreate(upstream, UriKind.Absolute, out _))
{
    Console.Error.WriteLine(Usage);
    return 2;
}

var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { Args = args });
builder.Logging.AddConsole().SetMinimumLevel(LogLevel.Warning);
builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel =>
{
    kestrel.AddServerHeader = false;
    kestrel.Listen(IPAddress.Loopback, port);
});

RouteConfig[] routes =
[
    new RouteConfig
    {
        RouteId = "echo",
        ClusterId = "echo",
        Match = new RouteMatch { Path = "/echo/{**rest}" },
        Transforms = [new Dictionary<string, string> { ["PathRemovePrefix"] = "/echo" }],
    },
];
ClusterConfig[] clusters =
[
    new ClusterConfig
    {
        ClusterId = "echo",
        Destinations = new Dictionary<string, DestinationConfig> { ["upstream"] = new() { Address = upstream } },
    },
];
builder.Services.AddRouting();
builder.Services.AddReverseProxy().LoadFromMemory(routes, clusters);

var app = builder.Build();
app.MapReverseProxy();
await app.RunAsync();
return 0;
