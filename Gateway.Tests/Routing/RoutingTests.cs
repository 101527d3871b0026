using Akka.Actor;
using Gateway.Actors.Configuration;
using Gateway.Actors.Resilience;
using Gateway.Actors.Routing;

namespace Gateway.Tests.Routing;

public sealed class RoutingTests
{
    [Theory]
    [InlineData("/a/b/c", "b")]
    [InlineData("/a/b", "b")]
    [InlineData("/a/bc", "a")]
    [InlineData("/a", "a")]
    [InlineData("/ab", null)]
    [InlineData("/", null)]
    public void Match_PicksLongestListenPath(string path, string? expected)
    {
        var table = new RouteTable(new[] { Route("a", "/a/"), Route("b", "/a/b/") });

        var match = table.Match(path);

        Assert.Equal(expected, match?.Definition.Id);
    }

    [Theory]
    [InlineData("ws://h/", "/x", "http", 80, "/x")]
    [InlineData("wss://h/base", "/x", "https", 443, "/base/x")]
    [InlineData("ws://h:9001/base/", "", "http", 9001, "/base/")]
    [InlineData("http://[::1]:81/", "/x?q=1", "http", 81, "/x?q=1")]
    public void Build_MapsSchemeAndDefaultPort(string target, string rest, string scheme, int port, string pathAndQuery)
    {
        var api = Route("a", "/a/").Definition;
        var query = rest.Contains('?') ? rest[rest.IndexOf('?')..] : "";
        var path = rest.Contains('?') ? rest[..rest.IndexOf('?')] : rest;

        var uri = TargetAddress.Build(api, new Uri(target), "/a" + path, query);

        Assert.Equal(scheme, uri.Scheme);
        Assert.Equal(port, uri.Port);
        Assert.Equal(pathAndQuery, uri.PathAndQuery);
    }

    private static ApiRoute Route(string id, string listenPath) => new(
        new ApiDefinition(id, id, listenPath, true, new[] { new Uri("ws://127.0.0.1:1/") }, false,
            new ApiTimeouts(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1)),
            new WebSocketLimits(null, null),
            UpstreamTls.Default),
        ActorRefs.Nobody,
        new HttpMessageInvoker(new SocketsHttpHandler()),
        new TargetSelector(new[] { new Uri("ws://127.0.0.1:1/") }, LoadBalancing.RoundRobin, TimeSpan.FromSeconds(1)),
        null);
}
