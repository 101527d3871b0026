using Akka.Configuration;
using Gateway.Actors.Apis;
using Gateway.Actors.Configuration;
using Gateway.Actors.Keys;

namespace Gateway.Host.Hosting;

/// <summary>The keys and the runtime APIs read from the data directory at start-up.</summary>
public sealed record StoredState(
    string KeyFilePath,
    KeySnapshot Keys,
    string ApiFilePath,
    IReadOnlyList<(RuntimeApi Api, ApiDefinition Definition)> Apis)
{
    /// <exception cref="ConfigException">A file exists but cannot be read or contains an invalid entry.</exception>
    public static StoredState Load(string dataDirectory)
    {
        var keyFile = KeyFile.PathIn(dataDirectory);
        var apiFile = ApiFile.PathIn(dataDirectory);
        try
        {
            var keys = KeyFile.Load(keyFile);
            var apis = ApiFile.Load(apiFile)
                .Select(api => (api, GatewayConfigLoader.ReadApi(api.Id, ConfigurationFactory.ParseString(api.Json), $"{apiFile} ({api.Id})")))
                .ToArray();
            return new StoredState(keyFile, keys, apiFile, apis);
        }
        catch (Exception error) when (error is InvalidDataException or IOException or UnauthorizedAccessException)
        {
            throw new ConfigException(new[] { $"gateway.data-directory: cannot load the stored keys and APIs: {error.Message}" });
        }
    }
}
