using System.Diagnostics;
using System.Net;
using System.Net.WebSockets;
using System.Text;
using Akka.Actor;
using Gateway.Tests.Proxy;
using Gateway.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace Gateway.Tests.Cluster;

[Collection(ClusterCollection.Name)]
public sealed class ClusterTests
{
    private readonly ITestOutputHelper _output;

    public ClusterTests(ITestOutputHelper output) => _output = output;

    private static string EchoApi(Uri target) => $$"""
        echo {
          listen-path = "/echo/"
          target-url = "{{target}}"
          auth { mode = token }
        }
        """;

    [Fact]
    public async Task KeyCreatedOnNodeOne_WorksOnAllNodes()
    {
        await using var upstream = await TestUpstream.StartEchoAsync();
        await using var cluster = await TestCluster.StartAsync(3, EchoApi(upstream.HttpUri()));
        using var admin = new AdminClient(cluster[0]);

        var (_, key) = await admin.CreateKeyAsync("{}");
        var clock = Stopwatch.StartNew();
        var second = await WaitForStatusAsync(cluster[1], key, HttpStatusCode.OK, TimeSpan.FromSeconds(2));
        var third = await WaitForStatusAsync(cluster[2], key, HttpStatusCode.OK, TimeSpan.FromSeconds(2));

        Assert.Equal(HttpStatusCode.OK, second);
        Assert.Equal(HttpStatusCode.OK, third);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"the key took {clock.ElapsedMilliseconds} ms to reach nodes 2 and 3");
        var status = System.Text.Json.JsonDocument.Parse(await admin.Http.GetStringAsync("/admin/status")).RootElement;
        var members = status.GetProperty("cluster").GetProperty("members").EnumerateArray().ToArray();
        Assert.Equal(3, members.Length);
        Assert.All(members, member => Assert.Equal("Up", member.GetProperty("status").GetString()));
    }

    [Fact]
    public async Task KeyRate_SplitOverNodesAndRebalanced()
    {
        await using var upstream = await TestUpstream.StartEchoAsync();
        await using var cluster = await TestCluster.StartAsync(3, EchoApi(upstream.HttpUri()));
        using var admin = new AdminClient(cluster[0]);
        var (_, key) = await admin.CreateKeyAsync("""{"rate": 30, "per": "1s"}""");
        await WaitForStatusAsync(cluster[1], key, HttpStatusCode.OK, TimeSpan.FromSeconds(2));
        await WaitForStatusAsync(cluster[2], key, HttpStatusCode.OK, TimeSpan.FromSeconds(2));

        // The probes above took permits from the current windows, so wait for those to end.
        await Task.Delay(TimeSpan.FromSeconds(1.2));
        var threeNodes = await HitEvenlyAsync(new[] { cluster[0], cluster[1], cluster[2] }, key, TimeSpan.FromSeconds(5));

        await cluster.StopNodeAsync(2);
        await cluster.WaitForLiveNodesAsync(2, TimeSpan.FromSeconds(10));
        var twoNodes = await HitEvenlyAsync(new[] { cluster[0], cluster[1] }, key, TimeSpan.FromSeconds(5));
        _output.WriteLine($"rate 30/s for 5 s: three nodes admitted {threeNodes.Admitted} (rejected {threeNodes.Rejected}), two nodes admitted {twoNodes.Admitted} (rejected {twoNodes.Rejected})");

        Assert.InRange(threeNodes.Admitted, 135, 165);
        Assert.True(threeNodes.Rejected > 0, "no request was rejected, so the test did not reach the limit");
        Assert.InRange(twoNodes.Admitted, 135, 165);
        Assert.True(twoNodes.Rejected > 0, "no request was rejected on two nodes, so the test did not reach the limit");
    }

    [Fact]
    public async Task KeyDeletedOnNodeThree_ClosesWebSocketsEverywhere()
    {
        await using var upstream = await TestUpstream.StartEchoAsync();
        await using var cluster = await TestCluster.StartAsync(3, EchoApi(upstream.WsUri()));
        using var admin = new AdminClient(cluster[0]);
        var (id, key) = await admin.CreateKeyAsync("{}");
        using var cancellation = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        using var first = await ConnectAsync(cluster[0], key, cancellation.Token, TimeSpan.FromSeconds(2));
        using var second = await ConnectAsync(cluster[1], key, cancellation.Token, TimeSpan.FromSeconds(2));

        // A connection on node 3 also shows that node 3 has the key before it is asked to delete it.
        using var onThird = await ConnectAsync(cluster[2], key, cancellation.Token, TimeSpan.FromSeconds(2));
        using var third = new AdminClient(cluster[2]);

        var clock = Stopwatch.StartNew();
        using var deleted = await third.Http.DeleteAsync($"/admin/keys/{id}");
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        var firstResult = await first.ReceiveAsync(new byte[1024], cancellation.Token);
        var secondResult = await second.ReceiveAsync(new byte[1024], cancellation.Token);
        var closedAfter = clock.Elapsed;
        var thirdResult = await onThird.ReceiveAsync(new byte[1024], cancellation.Token);

        Assert.Equal(WebSocketMessageType.Close, firstResult.MessageType);
        Assert.Equal(WebSocketCloseStatus.PolicyViolation, first.CloseStatus);
        Assert.Equal(WebSocketMessageType.Close, secondResult.MessageType);
        Assert.Equal(WebSocketCloseStatus.PolicyViolation, second.CloseStatus);
        Assert.Equal(WebSocketMessageType.Close, thirdResult.MessageType);
        Assert.Equal(WebSocketCloseStatus.PolicyViolation, onThird.CloseStatus);
        Assert.True(closedAfter < TimeSpan.FromSeconds(2), $"the connections closed {closedAfter.TotalMilliseconds:0} ms after the delete");
    }

    [Fact]
    public async Task KeysAndApis_SurviveRestartOfEveryNode()
    {
        await using var upstream = await TestUpstream.StartEchoAsync();
        await using var cluster = await TestCluster.StartAsync(3, EchoApi(upstream.HttpUri()));
        using var firstAdmin = new AdminClient(cluster[0]);
        using var secondAdmin = new AdminClient(cluster[1]);
        var (_, key) = await firstAdmin.CreateKeyAsync("{}");
        using var created = await secondAdmin.Http.PostAsync("/admin/apis", AdminClient.Json(
            $$$"""{"id": "live", "listen-path": "/live/", "target-url": "{{{upstream.HttpUri()}}}", "auth": {"mode": "token"} }"""));
        var liveOnThird = await WaitForStatusAsync(cluster[2], key, HttpStatusCode.OK, TimeSpan.FromSeconds(2), "/live/probe");

        for (var index = 0; index < 3; index++)
        {
            await cluster.StopNodeAsync(index);
        }

        await Task.WhenAll(Enumerable.Range(0, 3).Select(cluster.StartNodeAsync));
        await cluster.WaitForLiveNodesAsync(3, TimeSpan.FromSeconds(20));
        var statuses = new List<HttpStatusCode>();
        for (var index = 0; index < 3; index++)
        {
            statuses.Add(await WaitForStatusAsync(cluster[index], key, HttpStatusCode.OK, TimeSpan.FromSeconds(5)));
            statuses.Add(await WaitForStatusAsync(cluster[index], key, HttpStatusCode.OK, TimeSpan.FromSeconds(5), "/live/probe"));
        }

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal(HttpStatusCode.OK, liveOnThird);
        Assert.All(statuses, status => Assert.Equal(HttpStatusCode.OK, status));
    }

    [Fact]
    public async Task KilledNode_DropsNoWebSocketOfOtherNodes()
    {
        await using var upstream = await TestUpstream.StartEchoAsync();
        await using var cluster = await TestCluster.StartAsync(2, EchoApi(upstream.WsUri()), spareSeeds: 1);
        using var victim = await GatewayProcess.StartAsync(cluster, 2, EchoApi(upstream.WsUri()));
        await cluster.WaitForLiveNodesAsync(3, TimeSpan.FromSeconds(20));
        using var admin = new AdminClient(cluster[0]);
        var (_, key) = await admin.CreateKeyAsync("{}");
        using var cancellation = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        using var first = await ConnectAsync(cluster[0], key, cancellation.Token, TimeSpan.FromSeconds(2));
        using var second = await ConnectAsync(cluster[1], key, cancellation.Token, TimeSpan.FromSeconds(2));
        using var onVictim = await ConnectAsync(new Uri($"ws://127.0.0.1:{victim.ClientPort}/echo/"), key, cancellation.Token, TimeSpan.FromSeconds(2));

        victim.Kill();
        await WaitForMembersAsync(cluster[0], 2, TimeSpan.FromSeconds(20));
        var firstEcho = await WebSocketEchoTests.SendAndReceiveAsync(first, Encoding.UTF8.GetBytes("one"), WebSocketMessageType.Text, cancellation.Token);
        var secondEcho = await WebSocketEchoTests.SendAndReceiveAsync(second, Encoding.UTF8.GetBytes("two"), WebSocketMessageType.Text, cancellation.Token);

        Assert.Equal("one", Encoding.UTF8.GetString(firstEcho.Payload));
        Assert.Equal("two", Encoding.UTF8.GetString(secondEcho.Payload));
        Assert.Equal(WebSocketState.Open, first.State);
        Assert.Equal(WebSocketState.Open, second.State);
        Assert.Equal(2, TestCluster.LiveNodes(cluster[1]));
    }

    [Fact]
    public async Task KeyQuota_CountedAcrossNodes()
    {
        await using var upstream = await TestUpstream.StartEchoAsync();
        await using var cluster = await TestCluster.StartAsync(3, EchoApi(upstream.HttpUri()));
        using var admin = new AdminClient(cluster[0]);
        var (_, key) = await admin.CreateKeyAsync("""{"quota-max": 30, "quota-renewal-rate": "1h"}""");
        await WaitForStatusAsync(cluster[1], key, HttpStatusCode.OK, TimeSpan.FromSeconds(2));
        await WaitForStatusAsync(cluster[2], key, HttpStatusCode.OK, TimeSpan.FromSeconds(2));

        var (admitted, rejected) = await HitEvenlyAsync(new[] { cluster[0], cluster[1], cluster[2] }, key, TimeSpan.FromSeconds(3));
        var total = admitted + 2;
        var perNodeRate = (admitted + rejected) / 3.0 / 3.0;

        // Each node learns the others' use up to one flush interval (200 ms) plus one network hop
        // late, so the two other nodes may admit up to that long at their request rate after the
        // quota is used up. 400 ms covers the flush interval and a slow hop on a loaded machine.
        var overshootBound = (int)Math.Ceiling(2 * perNodeRate * 0.4);
        _output.WriteLine($"quota 30: {total} admitted, {rejected} rejected over 3 s at {perNodeRate:0} requests/s per node; bound {30 + overshootBound}");
        Assert.True(rejected > 0, $"none of {total} requests was rejected, so the quota was never reached");
        Assert.InRange(total, 30, 30 + overshootBound);
    }

    [Fact]
    public async Task KeyMaxConnections_CountsEveryNode()
    {
        await using var upstream = await TestUpstream.StartEchoAsync();
        await using var cluster = await TestCluster.StartAsync(3, EchoApi(upstream.WsUri()));
        using var admin = new AdminClient(cluster[0]);
        var (_, key) = await admin.CreateKeyAsync("""{"max-connections": 2}""");
        using var cancellation = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        using var first = await ConnectAsync(cluster[0], key, cancellation.Token, TimeSpan.FromSeconds(2));
        using var second = await ConnectAsync(cluster[1], key, cancellation.Token, TimeSpan.FromSeconds(2));

        var clock = Stopwatch.StartNew();
        HttpStatusCode? rejectedWith = null;
        while (rejectedWith is null && clock.Elapsed < TimeSpan.FromSeconds(3))
        {
            using var third = new ClientWebSocket();
            third.Options.SetRequestHeader("Authorization", key);
            third.Options.CollectHttpResponseDetails = true;
            try
            {
                await third.ConnectAsync(cluster[2].WsUri("/echo/"), cancellation.Token);
                await third.CloseAsync(WebSocketCloseStatus.NormalClosure, "retry", cancellation.Token);
                await Task.Delay(100, cancellation.Token);
            }
            catch (WebSocketException) when (third.HttpStatusCode == HttpStatusCode.Forbidden)
            {
                // Node 3 does not have the key yet: it arrives by replication within the time checked below.
                await Task.Delay(50, cancellation.Token);
            }
            catch (WebSocketException)
            {
                rejectedWith = third.HttpStatusCode;
            }
        }

        Assert.Equal(HttpStatusCode.TooManyRequests, rejectedWith);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"node 3 admitted connections for {clock.ElapsedMilliseconds} ms");
    }

    /// <summary>
    /// Sends requests with <paramref name="key"/> to every node at once, each about every 20 ms, and
    /// counts the responses: 200 admitted, 429 (rate limit) or 403 (quota exceeded) rejected.
    /// </summary>
    private static async Task<(int Admitted, int Rejected)> HitEvenlyAsync(IReadOnlyList<TestGateway> nodes, string key, TimeSpan duration)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var clock = Stopwatch.StartNew();
        var results = await Task.WhenAll(nodes.Select(async node =>
        {
            var admitted = 0;
            var rejected = 0;
            while (clock.Elapsed < duration)
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, node.HttpUri("/echo/hit"));
                request.Headers.Add("Authorization", key);
                using var response = await http.SendAsync(request);
                if (clock.Elapsed >= duration)
                {
                    break;
                }

                admitted += response.StatusCode == HttpStatusCode.OK ? 1 : 0;
                rejected += response.StatusCode is HttpStatusCode.TooManyRequests or HttpStatusCode.Forbidden ? 1 : 0;
                await Task.Delay(20);
            }

            return (admitted, rejected);
        }));
        return (results.Sum(result => result.admitted), results.Sum(result => result.rejected));
    }

    /// <summary>Opens a WebSocket to /echo/ with <paramref name="key"/>, retrying while the node does not know the key yet.</summary>
    private static Task<ClientWebSocket> ConnectAsync(TestGateway node, string key, CancellationToken cancellationToken, TimeSpan timeout) =>
        ConnectAsync(node.WsUri("/echo/"), key, cancellationToken, timeout);

    private static async Task<ClientWebSocket> ConnectAsync(Uri uri, string key, CancellationToken cancellationToken, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var client = new ClientWebSocket();
            client.Options.SetRequestHeader("Authorization", key);
            try
            {
                await client.ConnectAsync(uri, cancellationToken);
                return client;
            }
            catch (WebSocketException) when (clock.Elapsed < timeout)
            {
                client.Dispose();
                await Task.Delay(50, cancellationToken);
            }
        }
    }

    /// <summary>Waits until the node's cluster has <paramref name="count"/> members, so a downed node was removed.</summary>
    private static async Task WaitForMembersAsync(TestGateway node, int count, TimeSpan timeout)
    {
        var cluster = Akka.Cluster.Cluster.Get(node.App.Services.GetRequiredService<ActorSystem>());
        var clock = Stopwatch.StartNew();
        while (cluster.State.Members.Count != count)
        {
            Assert.True(clock.Elapsed < timeout, $"the cluster still has {cluster.State.Members.Count} members after {timeout.TotalSeconds} s");
            await Task.Delay(50);
        }
    }

    /// <summary>Sends GET /echo/ with <paramref name="key"/> until the response status is <paramref name="expected"/> or the time is up.</summary>
    internal static async Task<HttpStatusCode> WaitForStatusAsync(
        TestGateway node, string key, HttpStatusCode expected, TimeSpan timeout, string path = "/echo/probe")
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var clock = Stopwatch.StartNew();
        while (true)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, node.HttpUri(path));
            request.Headers.Add("Authorization", key);
            using var response = await http.SendAsync(request);
            if (response.StatusCode == expected || clock.Elapsed > timeout)
            {
                return response.StatusCode;
            }

            await Task.Delay(50);
        }
    }
}

/// <summary>Runs the cluster tests one at a time: each starts three nodes, and two cores are enough for one cluster.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ClusterCollection
{
    public const string Name = "cluster";
}
