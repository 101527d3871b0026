using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Gateway.Actors.Limits;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests.Support;

/// <summary>
/// Gateway nodes forming an Akka.NET cluster on loopback, each a <see cref="TestGateway"/> with its own
/// actor system, ports and data directory. Every node is a seed, and a stopped node can be started
/// again on the same remoting port and data directory.
/// </summary>
public sealed class TestCluster : IAsyncDisposable
{
    /// <summary>
    /// Akka settings that make membership fast enough for tests: joins retried every second, and a
    /// node whose peers stopped answering marked unreachable within about two seconds.
    /// </summary>
    public const string FastMembership = """
        akka.cluster {
          seed-node-timeout = 2s
          retry-unsuccessful-join-after = 1s
          gossip-interval = 200ms
          leader-actions-interval = 200ms
          unreachable-nodes-reaper-interval = 250ms
          failure-detector {
            heartbeat-interval = 250ms
            acceptable-heartbeat-pause = 1500ms
          }
        }
        akka.remote.dot-netty.tcp.connection-timeout = 2s
        """;

    private readonly TestGateway?[] _nodes;
    private readonly string _apis;

    private TestCluster(int size, int spareSeeds, string apis)
    {
        _nodes = new TestGateway?[size];
        _apis = apis;
        RemotePorts = Enumerable.Range(0, size + spareSeeds).Select(_ => FreePort()).ToArray();
        DataDirectories = Enumerable.Range(0, size + spareSeeds)
            .Select(index => Path.Combine(Path.GetTempPath(), "gateway-tests", Guid.NewGuid().ToString("n"), $"node-{index + 1}"))
            .ToArray();
    }

    public IReadOnlyList<int> RemotePorts { get; }

    public IReadOnlyList<string> DataDirectories { get; }

    /// <summary>The running node at <paramref name="index"/> (0-based).</summary>
    public TestGateway this[int index] => _nodes[index] ?? throw new InvalidOperationException($"node {index + 1} is stopped");

    /// <summary>Seed nodes for a node's configuration: every node of this cluster.</summary>
    public string SeedNodes => string.Join(", ", RemotePorts.Select(port => $"\"127.0.0.1:{port}\""));

    /// <summary>
    /// Starts <paramref name="size"/> nodes at once and waits until every one counts them all live.
    /// <paramref name="apis"/> is the HOCON body of <c>gateway.apis</c>. <paramref name="spareSeeds"/>
    /// more seed addresses and data directories are reserved for nodes started as child processes.
    /// </summary>
    public static async Task<TestCluster> StartAsync(int size, string apis, int spareSeeds = 0)
    {
        var cluster = new TestCluster(size, spareSeeds, apis);
        await Task.WhenAll(Enumerable.Range(0, size).Select(cluster.StartNodeAsync));
        await cluster.WaitForLiveNodesAsync(size, TimeSpan.FromSeconds(20));
        return cluster;
    }

    /// <summary>The <c>gateway.cluster</c> section of node <paramref name="index"/>.</summary>
    public string ClusterSection(int index) => $$"""
        cluster {
          enabled = on
          hostname = "127.0.0.1"
          port = {{RemotePorts[index]}}
          seed-nodes = [ {{SeedNodes}} ]
          down-unreachable-after = 2s
        }
        """;

    public async Task StartNodeAsync(int index)
    {
        _nodes[index] = await TestGateway.StartAsync($$"""
            {{AdminClient.SecretConfig}}
            data-directory = "{{DataDirectories[index]}}"
            {{ClusterSection(index)}}
            apis {
              {{_apis}}
            }
            """, rootExtra: FastMembership);
    }

    /// <summary>Stops a node gracefully: it leaves the cluster before its actor system ends.</summary>
    public async Task StopNodeAsync(int index)
    {
        var node = _nodes[index];
        _nodes[index] = null;
        if (node is not null)
        {
            await node.DisposeAsync();
        }
    }

    /// <summary>Waits until every running node counts <paramref name="count"/> live nodes.</summary>
    public async Task WaitForLiveNodesAsync(int count, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (!_nodes.Where(node => node is not null).All(node => LiveNodes(node!) == count))
        {
            if (clock.Elapsed > timeout)
            {
                var counts = string.Join(", ", _nodes.Select((node, index) => node is null ? $"node {index + 1} stopped" : $"node {index + 1} sees {LiveNodes(node)}"));
                throw new Xunit.Sdk.XunitException($"the cluster did not reach {count} live nodes within {timeout.TotalSeconds} s: {counts}");
            }

            await Task.Delay(50);
        }
    }

    public static int LiveNodes(TestGateway node) => node.App.Services.GetRequiredService<NodeShare>().LiveNodes;

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        await Task.WhenAll(Enumerable.Range(0, _nodes.Length).Select(StopNodeAsync));
        var root = Path.GetDirectoryName(DataDirectories[0])!;
        try
        {
            Directory.Delete(root, recursive: true);
        }
        catch (IOException)
        {
            // A node can still be writing its durable files for a moment after its actor system ended; the
            // directory is under the temporary directory and holds only test keys.
        }
    }
}
