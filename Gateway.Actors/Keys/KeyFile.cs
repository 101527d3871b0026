using System.Collections.Immutable;
using System.Text.Json;
using Gateway.Actors.Persistence;

namespace Gateway.Actors.Keys;

/// <summary>The key store's file: every key record as JSON, rewritten whole on each change.</summary>
public static class KeyFile
{
    public const string FileName = "keys.json";

    private static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true };

    public static string PathIn(string dataDirectory) => Path.Combine(dataDirectory, FileName);

    /// <summary>Loads the records, or an empty snapshot when the file does not exist yet.</summary>
    /// <exception cref="InvalidDataException">The file exists but is not a valid key file.</exception>
    public static KeySnapshot Load(string path)
    {
        var bytes = DurableFile.ReadIfExists(path);
        if (bytes is null)
        {
            return KeySnapshot.Empty;
        }

        try
        {
            var content = JsonSerializer.Deserialize<Content>(bytes, JsonOptions)
                ?? throw new InvalidDataException("the file contains null");
            return new KeySnapshot(content.Keys.ToImmutableDictionary(record => record.Id));
        }
        catch (JsonException error)
        {
            throw new InvalidDataException($"{path}: invalid key file: {error.Message}", error);
        }
    }

    public static Task SaveAsync(string path, KeySnapshot snapshot) =>
        DurableFile.WriteAsync(path, JsonSerializer.SerializeToUtf8Bytes(
            new Content(1, snapshot.ById.Values.OrderBy(record => record.Created).ToArray()), JsonOptions));

    private sealed record Content(int Version, IReadOnlyList<KeyRecord> Keys);
}
