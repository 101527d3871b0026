using Akka.Actor;
using Akka.Cluster.Hosting;
using Akka.Cluster.Hosting.SBR;
using Akka.Hosting;
using Akka.Remote.Hosting;
using Gateway.Actors.Apis;
using Gateway.Actors.Cluster;
using Gateway.Actors.Configuration;
using Gateway.Actors.Keys;
using Gateway.Actors.Limits;
using Gateway.Host.Hosting;

namespace Gateway.Host.Cluster;

/// <summary>Akka.Cluster wiring of a gateway node: remoting, membership, the split brain resolver and replicated state.</summary>
public static class ClusterHosting
{
    /// <summary>Name of the actor system, and so of the cluster; seed node addresses must use it.</summary>
    public const string SystemName = "gateway";

    /// <summary>Directory of the durable store of Akka.DistributedData, under the node's data directory.</summary>
    public static string StateDirectory(string dataDirectory) => Path.GetFullPath(Path.Combine(dataDirectory, "cluster-state"));

    /// <summary>Adds remoting, clustering and the distributed data settings to the actor system.</summary>
    public static AkkaConfigurationBuilder WithGatewayCluster(this AkkaConfigurationBuilder akka, ClusterSettings cluster, string dataDirectory)
    {
        var stateDirectory = StateDirectory(dataDirectory);
        Directory.CreateDirectory(stateDirectory);

        akka.WithRemoting(new RemoteOptions
        {
            HostName = cluster.Hostname,
            Port = cluster.Port,
            PublicHostName = cluster.PublicHostname,
        });

        // Keep majority: the side with more than half of the nodes stays up and the smaller side downs
        // itself, so a partition never leaves two halves that both accept key and API changes. With an
        // even split the side holding the lowest address wins. It needs no fixed cluster size (unlike
        // static quorum) and no external lease. A lone node that loses its peers downs itself when it
        // is the minority, which is what an operator of a 3-node deployment expects.
        akka.WithClustering(new ClusterOptions
        {
            SeedNodes = cluster.SeedNodes.Select(seed => $"akka.tcp://{SystemName}@{seed}").ToArray(),
            SplitBrainResolver = new KeepMajorityOption(),
        });

        var keys = string.Join(", ", new[] { ReplicatedKeyStore.DataKeyName, ReplicatedApiStore.DataKeyName }.Select(name => $"\"{name}\""));
        akka.AddHocon($$"""
            akka.cluster {
              split-brain-resolver.stable-after = {{(long)cluster.DownUnreachableAfter.TotalMilliseconds}}ms
              distributed-data {
                # Keys and API definitions must reach every node within two seconds even when a
                # direct write missed one, so gossip runs more often than the 2 s default.
                gossip-interval = 500ms
                notify-subscribers-interval = 100ms
                durable {
                  keys = [ {{keys}} ]
                  store-actor-class = "{{typeof(FileDurableStore).FullName}}, {{typeof(FileDurableStore).Assembly.GetName().Name}}"
                  file-store.dir = "{{stateDirectory.Replace("\\", "\\\\")}}"
                }
              }
            }
            """, HoconAddMode.Prepend);
        return akka;
    }

    /// <summary>Starts the cluster-only actors and the replicated key store, and registers it as the key store.</summary>
    public static void StartActors(ActorSystem system, IActorRegistry registry, IActorRef supervisor, StoredState stored, KeySnapshotHolder keys, NodeShare share)
    {
        system.ActorOf(MembershipWatcher.Props(share), "membership");
        var keyStore = system.ActorOf(ReplicatedKeyStore.Props(keys), "keys");
        registry.Register<KeyStore>(keyStore);
        var applied = stored.Apis.ToDictionary(entry => entry.Api.Id, entry => entry.Api.Json, StringComparer.Ordinal);
        system.ActorOf(ReplicatedApiStore.Props(supervisor, applied), "api-replication");
    }
}
