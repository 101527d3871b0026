using System.Collections.Immutable;
using System.Text;
using Akka.Actor;
using Akka.Configuration;
using Akka.DistributedData.Durable;
using Akka.Event;
using Akka.Serialization;
using Gateway.Actors.Persistence;

namespace Gateway.Actors.Cluster;

/// <summary>
/// Durable store of Akka.DistributedData that keeps each durable entry in its own file, written with
/// <see cref="DurableFile"/> (temporary file, flush, rename) before the replicator is told it is stored.
/// It speaks the replicator's durable store protocol: <see cref="LoadAll"/> at start, then <see cref="Store"/>.
/// </summary>
/// <remarks>
/// Akka.NET's own LMDB store (Akka.DistributedData.LightningDB 1.5.75) was built against LightningDB
/// 0.16, and the LightningDB versions available to this project (0.23.1 and 0.24.0) lack a method it
/// calls, so it fails with MissingMethodException on its first load. The entries here are the same
/// serialized <see cref="DurableDataEnvelope"/>s, so switching back to LMDB later only needs the
/// configuration changed; the files themselves would not be migrated.
/// </remarks>
public sealed class FileDurableStore : ReceiveActor
{
    private const string Extension = ".ddata";

    private readonly string _directory;
    private readonly Akka.Serialization.Serialization _serialization = Context.System.Serialization;
    private readonly ILoggingAdapter _log = Context.GetLogger();

    /// <param name="config">The akka.cluster.distributed-data.durable section; <c>file-store.dir</c> names the directory.</param>
    public FileDurableStore(Config config)
    {
        _directory = config.GetString("file-store.dir");
        if (string.IsNullOrWhiteSpace(_directory))
        {
            throw new ConfigurationException("akka.cluster.distributed-data.durable.file-store.dir is missing: set it to a writable directory of this node");
        }

        Directory.CreateDirectory(_directory);
        Receive<LoadAll>(_ => Load());
        ReceiveAsync<Store>(StoreAsync);
    }

    private void Load()
    {
        var entries = ImmutableDictionary.CreateBuilder<string, DurableDataEnvelope>();
        foreach (var path in Directory.EnumerateFiles(_directory, "*" + Extension))
        {
            var key = Encoding.UTF8.GetString(Convert.FromHexString(Path.GetFileNameWithoutExtension(path)));
            try
            {
                entries[key] = Read(File.ReadAllBytes(path));
            }
            catch (Exception error) when (error is IOException or System.Runtime.Serialization.SerializationException or FormatException or InvalidDataException)
            {
                throw new LoadFailedException($"reading the durable entry {path} failed: {error.Message}", error);
            }
        }

        _log.Info("Loaded {EntryCount} durable replicated entries from {Directory}", entries.Count, _directory);
        if (entries.Count > 0)
        {
            Sender.Tell(new LoadData(entries.ToImmutable()));
        }

        Sender.Tell(LoadAllCompleted.Instance);
    }

    private async Task StoreAsync(Store store)
    {
        var path = Path.Combine(_directory, Convert.ToHexString(Encoding.UTF8.GetBytes(store.Key)) + Extension);
        try
        {
            await DurableFile.WriteAsync(path, Write(store.Data));
            store.Reply?.ReplyTo.Tell(store.Reply.SuccessMessage);
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            _log.Error(error, "Writing the durable entry {Key} to {Path} failed; the change stays in memory only", store.Key, path);
            store.Reply?.ReplyTo.Tell(store.Reply.FailureMessage);
        }
    }

    /// <summary>Serializes an envelope as: serializer id (4 bytes), manifest length (4 bytes), manifest, payload.</summary>
    private byte[] Write(DurableDataEnvelope envelope)
    {
        var serializer = _serialization.FindSerializerFor(envelope);
        var manifest = Encoding.UTF8.GetBytes(Akka.Serialization.Serialization.ManifestFor(serializer, envelope));
        var payload = serializer.ToBinary(envelope);
        using var buffer = new MemoryStream();
        using var writer = new BinaryWriter(buffer);
        writer.Write(serializer.Identifier);
        writer.Write(manifest.Length);
        writer.Write(manifest);
        writer.Write(payload);
        writer.Flush();
        return buffer.ToArray();
    }

    private DurableDataEnvelope Read(byte[] bytes)
    {
        using var reader = new BinaryReader(new MemoryStream(bytes));
        var serializerId = reader.ReadInt32();
        var manifest = Encoding.UTF8.GetString(reader.ReadBytes(reader.ReadInt32()));
        var payload = reader.ReadBytes(bytes.Length - (int)reader.BaseStream.Position);
        return (DurableDataEnvelope)_serialization.Deserialize(payload, serializerId, manifest);
    }
}
