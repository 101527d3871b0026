using System.Text.Json;
using Gateway.Actors.Persistence;

namespace Gateway.Actors.Apis;

/// <summary>
/// An API created through the admin API: its id and its definition as the JSON text that was sent,
/// which <see cref="Configuration.GatewayConfigLoader.ReadApi(string, Akka.Configuration.Config, string)"/> reads.
/// </summary>
public sealed record RuntimeApi(string Id, string Json);

/// <summary>The file of APIs created through the admin API, rewritten whole on each change.</summary>
public static class ApiFile
{
    public const string FileName = "apis.json";

    private static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true };

    public static string PathIn(string dataDirectory) => Path.Combine(dataDirectory, FileName);

    /// <exception cref="InvalidDataException">The file exists but is not a valid API file.</exception>
    public static IReadOnlyList<RuntimeApi> Load(string path)
    {
        var bytes = DurableFile.ReadIfExists(path);
        if (bytes is null)
        {
            return Array.Empty<RuntimeApi>();
        }

        try
        {
            return JsonSerializer.Deserialize<Content>(bytes, JsonOptions)?.Apis
                ?? throw new InvalidDataException($"{path}: the file contains null");
        }
        catch (JsonException error)
        {
            throw new InvalidDataException($"{path}: invalid API file: {error.Message}", error);
        }
    }

    public static Task SaveAsync(string path, IEnumerable<RuntimeApi> apis) =>
        DurableFile.WriteAsync(path, JsonSerializer.SerializeToUtf8Bytes(new Content(1, apis.OrderBy(api => api.Id, StringComparer.Ordinal).ToArray()), JsonOptions));

    private sealed record Content(int Version, IReadOnlyList<RuntimeApi> Apis);
}
