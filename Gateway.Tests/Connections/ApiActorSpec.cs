using System.Text;
using Akka.Actor;
using Akka.TestKit.Xunit2;
using Gateway.Actors.Apis;
using Gateway.Actors.Configuration;
using Gateway.Actors.Connections;
using Gateway.Tests.Proxy;
using Gateway.Tests.Support;
using static Gateway.Actors.Connections.ConnectionProtocol;

namespace Gateway.Tests.Connections;

/// <summary>The API actor and its leg pair, driven by TestKit probes against a real upstream.</summary>
public sealed class ApiActorSpec : TestKit
{
    private static readonly byte[] Mask = { 5, 6, 7, 8 };

    public ApiActorSpec()
        : base(TunnelMailbox.Hocon)
    {
    }

    [Fact]
    public async Task Pair_EchoesThenStopsWhenClientVanishes()
    {
        await using var upstream = await TestUpstream.StartEchoAsync();
        var api = Definition(upstream.WsUri());
        var apiActor = Sys.ActorOf(ApiActor.Props(api, new UpstreamConnector(api)));
        var host = CreateTestProbe();
        var completion = new TaskCompletionSource<ConnectionSummary>();

        apiActor.Tell(new OpenConnection("c1", Upgrade(upstream.WsUri()), completion), host.Ref);
        var accepted = host.ExpectMsg<UpstreamAccepted>(TimeSpan.FromSeconds(10));
        var watcher = CreateTestProbe();
        var clientLeg = await Sys.ActorSelection(apiActor.Path / "client-c1").ResolveOne(TimeSpan.FromSeconds(3));
        watcher.Watch(clientLeg);
        watcher.Watch(accepted.UpstreamLeg);
        var client = new InMemoryClient();
        accepted.UpstreamLeg.Tell(new AttachClient("c1", client));

        await client.ToGateway.WriteAsync(RawWebSocket.Frame(0x1, "through the pair"u8, mask: Mask));
        var echoed = await RawWebSocket.ReadFrameAsync(client.FromGateway, CancellationToken.None);
        client.Vanish();

        Assert.Contains("Sec-WebSocket-Accept", accepted.Headers.Select(header => header.Key));
        Assert.Equal("through the pair", Encoding.UTF8.GetString(echoed.Payload));
        var stopped = watcher.ReceiveN(2, TimeSpan.FromSeconds(3)).Cast<Terminated>().Select(terminated => terminated.ActorRef);
        Assert.Equal(new[] { clientLeg, accepted.UpstreamLeg }.OrderBy(leg => leg.Path.Name), stopped.OrderBy(leg => leg.Path.Name));
        var summary = await completion.Task.WaitAsync(TimeSpan.FromSeconds(3));
        Assert.Equal("client", summary.ClosedBy);
        Assert.Equal(1, summary.MessagesToUpstream);
        Assert.True(client.Closed.IsCompleted, "the client connection was not closed");
    }

    [Fact]
    public void UnreachableUpstream_RepliesFailedAndStopsLegs()
    {
        var target = new Uri($"ws://127.0.0.1:{HandshakeTests.FreePort()}/");
        var api = Definition(target);
        var apiActor = Sys.ActorOf(ApiActor.Props(api, new UpstreamConnector(api)));
        var completion = new TaskCompletionSource<ConnectionSummary>();

        apiActor.Tell(new OpenConnection("c2", Upgrade(target), completion), TestActor);

        var failed = ExpectMsg<UpstreamFailed>(TimeSpan.FromSeconds(10));
        Assert.Equal(ForwardingOutcome.UpstreamUnreachable, failed.Outcome);
        AwaitAssert(() => Assert.True(completion.Task.IsCompleted), TimeSpan.FromSeconds(3));
        apiActor.Tell(new GetConnections());
        var listed = ExpectMsg<ConnectionsListed>();
        Assert.Empty(listed.Connections);
        Assert.Equal(0, listed.LiveActors);
    }

    [Fact]
    public async Task MaxConnections_RefusesBeforeUpstream()
    {
        await using var upstream = await TestUpstream.StartEchoAsync();
        var api = Definition(upstream.WsUri()) with { WebSocketLimits = new WebSocketLimits(null, 1) };
        var apiActor = Sys.ActorOf(ApiActor.Props(api, new UpstreamConnector(api)));

        apiActor.Tell(new OpenConnection("c3", Upgrade(upstream.WsUri()), new()), TestActor);
        ExpectMsg<UpstreamAccepted>(TimeSpan.FromSeconds(10));
        apiActor.Tell(new OpenConnection("c4", Upgrade(upstream.WsUri()), new()), TestActor);

        var refused = ExpectMsg<ConnectionRefused>();
        Assert.Equal(ForwardingOutcome.ConnectionLimitReached, refused.Outcome);
    }

    private static ApiDefinition Definition(Uri target) => new(
        "spec", "Spec", "/spec/", true, new[] { target }, false,
        new ApiTimeouts(TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(5)),
        new WebSocketLimits(null, null),
        UpstreamTls.Default);

    private static UpgradeRequest Upgrade(Uri target) => new(
        "/spec/",
        "",
        new List<KeyValuePair<string, string[]>>
        {
            new("Connection", new[] { "Upgrade" }),
            new("Upgrade", new[] { "websocket" }),
            new("Sec-WebSocket-Version", new[] { "13" }),
            new("Sec-WebSocket-Key", new[] { "dGhlIHNhbXBsZSBub25jZQ==" }),
        },
        null,
        "127.0.0.1");
}
