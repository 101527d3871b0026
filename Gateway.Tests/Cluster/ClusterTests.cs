using System.Diagnostics;
using System.Net;
using Gateway.Tests.Support;

namespace Gateway.Tests.Cluster;

[Collection(ClusterCollection.Name)]
public sealed class ClusterTests
{
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
    }

    /// <summary>Sends GET /echo/ with <paramref name="key"/> until the answer is <paramref name="expected"/> or the time is up.</summary>
    internal static async Task<HttpStatusCode> WaitForStatusAsync(TestGateway node, string key, HttpStatusCode expected, TimeSpan timeout)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var clock = Stopwatch.StartNew();
        while (true)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, node.HttpUri("/echo/probe"));
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
