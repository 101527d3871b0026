using Gateway.Actors.Configuration;

namespace Gateway.Tests.Cluster;

public sealed class ClusterConfigTests
{
    [Fact]
    public void NoClusterSection_RunsSingleNode()
    {
        var config = GatewayConfigLoader.LoadText("gateway { }", "single.conf");

        Assert.False(config.Gateway.Cluster.Enabled);
    }

    [Fact]
    public void ClusterSection_IsRead()
    {
        var config = GatewayConfigLoader.LoadText("""
            gateway.cluster {
              enabled = on
              hostname = "0.0.0.0"
              port = 4060
              public-hostname = "gateway-2"
              seed-nodes = [ "gateway-1:4060", "gateway-2:4060" ]
              down-unreachable-after = 7s
            }
            """, "node.conf");
        var cluster = config.Gateway.Cluster;

        Assert.True(cluster.Enabled);
        Assert.Equal("0.0.0.0", cluster.Hostname);
        Assert.Equal(4060, cluster.Port);
        Assert.Equal("gateway-2", cluster.PublicHostname);
        Assert.Equal(new[] { "gateway-1:4060", "gateway-2:4060" }, cluster.SeedNodes);
        Assert.Equal(TimeSpan.FromSeconds(7), cluster.DownUnreachableAfter);
    }

    [Fact]
    public void InvalidValues_NameFileKeyAndExpectation()
    {
        var error = Assert.Throws<ConfigException>(() => GatewayConfigLoader.LoadText("""
            gateway.cluster {
              enabled = on
              port = 70000
              seed-nodes = [ "gateway-1" ]
              stable-after = 5s
            }
            """, "bad.conf"));

        Assert.Contains(error.Problems, problem => problem.StartsWith("bad.conf: gateway.cluster.port: found \"70000\", expected a port number"));
        Assert.Contains(error.Problems, problem => problem.StartsWith("bad.conf: gateway.cluster.seed-nodes[0]: found \"gateway-1\", expected \"host:port\""));
        Assert.Contains(error.Problems, problem => problem.StartsWith("bad.conf: gateway.cluster.seed-nodes: found no valid entry"));
        Assert.Contains(error.Problems, problem => problem.StartsWith("bad.conf: gateway.cluster.stable-after: unknown key."));
    }

    [Fact]
    public void EnvironmentVariable_OverridesPublicHostname()
    {
        var name = $"GATEWAY_TEST_PUBLIC_HOSTNAME_{Guid.NewGuid():n}";
        Environment.SetEnvironmentVariable(name, "gateway-3");
        try
        {
            var config = GatewayConfigLoader.LoadText($$"""
                gateway.cluster {
                  public-hostname = "gateway-1"
                  public-hostname = ${?{{name}}}
                }
                """, "env.conf");

            Assert.Equal("gateway-3", config.Gateway.Cluster.PublicHostname);
        }
        finally
        {
            Environment.SetEnvironmentVariable(name, null);
        }
    }
}
