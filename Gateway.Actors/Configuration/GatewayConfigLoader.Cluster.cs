using System.Globalization;
using System.Net;
using Akka.Configuration;

namespace Gateway.Actors.Configuration;

public static partial class GatewayConfigLoader
{
    private static ClusterSettings ReadCluster(Config gateway, SettingsReader reader)
    {
        var cluster = gateway.GetConfig("cluster");
        reader.RejectUnknownKeys("gateway.cluster", cluster, SettingsReader.Keys(Reference.GetConfig("gateway.cluster")));
        var enabled = reader.ReadBoolean(cluster, "enabled", "gateway.cluster.enabled");
        var hostname = reader.ReadString(cluster, "hostname", "gateway.cluster.hostname");
        if (!IPAddress.TryParse(hostname, out _) && Uri.CheckHostName(hostname) != UriHostNameType.Dns)
        {
            reader.Problem("gateway.cluster.hostname", $"found \"{hostname}\", expected an IP address such as \"127.0.0.1\" or \"0.0.0.0\", or a host name.");
        }

        var port = reader.ReadPort(cluster, "port", "gateway.cluster.port");
        var publicHostname = reader.ReadString(cluster, "public-hostname", "gateway.cluster.public-hostname");
        if (publicHostname.Length > 0 && Uri.CheckHostName(publicHostname) == UriHostNameType.Unknown)
        {
            reader.Problem("gateway.cluster.public-hostname", $"found \"{publicHostname}\", expected a host name or an IP address, or \"\" to use hostname.");
        }

        var seeds = ReadSeedNodes(cluster, reader);
        if (enabled && seeds.Count == 0)
        {
            reader.Problem("gateway.cluster.seed-nodes", "found no valid entry, expected at least one \"host:port\" when gateway.cluster.enabled = on (list this node itself to start a new cluster).");
        }

        var downAfter = reader.ReadDuration(cluster, "down-unreachable-after", "gateway.cluster.down-unreachable-after");
        var flushInterval = reader.ReadDuration(cluster, "flush-interval", "gateway.cluster.flush-interval");
        return new ClusterSettings(enabled, hostname, port, publicHostname.Length == 0 ? null : publicHostname, seeds, downAfter, flushInterval);
    }

    private static IReadOnlyList<string> ReadSeedNodes(Config cluster, SettingsReader reader)
    {
        var value = cluster.GetValue("seed-nodes");

        // Akka's HOCON parser reads an empty list as an empty value that is not an array.
        if (value is not null && !value.IsArray() && !value.IsObject() && string.IsNullOrEmpty(value.GetString()))
        {
            return Array.Empty<string>();
        }

        if (value is null || !value.IsArray())
        {
            reader.Invalid("gateway.cluster.seed-nodes", value, "a list of \"host:port\" strings such as [ \"gateway-1:4053\" ]");
            return Array.Empty<string>();
        }

        var seeds = new List<string>();
        var index = 0;
        foreach (var item in value.GetArray())
        {
            var path = $"gateway.cluster.seed-nodes[{index++}]";
            var text = item.IsString() ? item.GetString() : null;
            var colon = text?.LastIndexOf(':') ?? -1;
            if (text is null
                || colon <= 0
                || Uri.CheckHostName(text[..colon]) == UriHostNameType.Unknown
                || !int.TryParse(text[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var port)
                || port is < 1 or > 65535)
            {
                reader.Invalid(path, item, "\"host:port\" with a port from 1 to 65535, such as \"gateway-1:4053\"");
                continue;
            }

            seeds.Add(text);
        }

        return seeds;
    }
}
