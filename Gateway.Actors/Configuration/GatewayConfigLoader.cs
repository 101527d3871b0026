using System.Net;
using System.Text.RegularExpressions;
using Akka.Configuration;
using Gateway.Actors.Resilience;

namespace Gateway.Actors.Configuration;

/// <summary>A loaded configuration: the validated gateway settings and the whole merged HOCON tree.</summary>
public sealed record LoadedConfig(GatewaySettings Gateway, Config Root)
{
    /// <summary>The file the configuration was read from; null when it came from text.</summary>
    public string? FilePath { get; init; }
}

/// <summary>
/// Loads a HOCON file over the embedded reference configuration and validates the <c>gateway</c>
/// section. Every problem is collected and raised together in one <see cref="ConfigException"/>.
/// </summary>
public static partial class GatewayConfigLoader
{
    private const string ReferenceResource = "Gateway.reference.conf";

    private static readonly Lazy<Config> ReferenceConfig = new(() =>
    {
        using var stream = typeof(GatewayConfigLoader).Assembly.GetManifestResourceStream(ReferenceResource)
            ?? throw new InvalidOperationException($"Embedded resource {ReferenceResource} is missing from the build.");
        using var reader = new StreamReader(stream);
        return ConfigurationFactory.ParseString(reader.ReadToEnd());
    });

    /// <summary>The embedded reference configuration, with every key and its default.</summary>
    public static Config Reference => ReferenceConfig.Value;

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9_-]*$")]
    private static partial Regex ApiIdPattern();

    public static LoadedConfig LoadFile(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            throw new ConfigException(new[] { $"{path}: cannot read the file: {error.Message}" });
        }

        return LoadText(text, path, Path.GetDirectoryName(Path.GetFullPath(path))) with { FilePath = path };
    }

    /// <summary>
    /// Loads configuration text. Relative certificate paths are resolved against
    /// <paramref name="baseDirectory"/>, or the working directory when it is null.
    /// </summary>
    public static LoadedConfig LoadText(string text, string source, string? baseDirectory = null)
    {
        Config user;
        try
        {
            user = HoconText.Parse(text);
        }
        catch (Exception error) when (error is FormatException or ConfigurationException)
        {
            throw new ConfigException(new[] { $"{source}: invalid HOCON: {error.Message}" });
        }

        var root = user.WithFallback(Reference);
        var reader = new SettingsReader(source) { BaseDirectory = baseDirectory ?? Directory.GetCurrentDirectory() };
        var settings = ReadGateway(root, user, reader);
        if (reader.Problems.Count > 0)
        {
            throw new ConfigException(reader.Problems);
        }

        return new LoadedConfig(settings, root);
    }

    /// <summary>
    /// Reads one API definition from its HOCON (or JSON) object, with defaults from
    /// <c>gateway.api-defaults</c>. The admin API uses this for definitions sent at run time.
    /// </summary>
    public static ApiDefinition ReadApi(string id, Config api, string source)
    {
        var reader = new SettingsReader(source);
        var definition = ReadApi(id, api, Reference.GetConfig("gateway.api-defaults"), reader);
        if (reader.Problems.Count > 0)
        {
            throw new ConfigException(reader.Problems);
        }

        return definition;
    }

    private static GatewaySettings ReadGateway(Config root, Config user, SettingsReader reader)
    {
        var gateway = root.GetConfig("gateway");
        var referenceGateway = Reference.GetConfig("gateway");
        reader.RejectUnknownKeys("gateway", gateway, SettingsReader.Keys(referenceGateway));

        var listeners = ReadListeners(gateway, reader);
        var enableWebSockets = reader.ReadBoolean(gateway, "enable-websockets", "gateway.enable-websockets");
        var admin = ReadAdmin(gateway, reader);
        var echo = ReadEcho(gateway, reader);
        var drainTimeout = reader.ReadDuration(gateway, "drain-timeout", "gateway.drain-timeout");
        var apis = ReadApis(gateway, reader);
        return new GatewaySettings(listeners, enableWebSockets, admin, echo, drainTimeout, apis)
        {
            DataDirectory = ReadDataDirectory(gateway, reader),
            RequestLimits = ReadRequestLimits(gateway, reader),
            Cluster = ReadCluster(gateway, reader),
            MaxWebSocketConnections = ReadMaxWebSocketConnections(gateway, reader),
        };
    }

    private static int? ReadMaxWebSocketConnections(Config gateway, SettingsReader reader)
    {
        const string path = "gateway.max-websocket-connections";
        var value = gateway.GetValue("max-websocket-connections");
        var text = value is not null && value.IsString() ? value.GetString()?.Trim() : null;
        if (string.Equals(text, "auto", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        if (int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var count) && count > 0)
        {
            return count;
        }

        reader.Invalid(path, value, "auto, or a whole number of connections above 0 such as 10000");
        return null;
    }

    private static IReadOnlyList<ListenerSettings> ReadListeners(Config gateway, SettingsReader reader)
    {
        var value = gateway.GetValue("listen");
        if (value is null || !value.IsArray() || value.GetArray().Count == 0)
        {
            reader.Invalid("gateway.listen", value, "a list of listeners such as [ { host = \"0.0.0.0\", port = 8080 } ]");
            return Array.Empty<ListenerSettings>();
        }

        var listeners = new List<ListenerSettings>();
        var index = 0;
        foreach (var item in value.GetArray())
        {
            var path = $"gateway.listen[{index++}]";
            if (!item.IsObject())
            {
                reader.Invalid(path, item, "an object with host, port and optionally tls");
                continue;
            }

            var listener = new Config(new Akka.Configuration.Hocon.HoconRoot(item));
            reader.RejectUnknownKeys(path, listener, new[] { "host", "port", "tls" });
            var host = ReadHost(listener, path, reader);
            var port = reader.ReadPort(listener, "port", $"{path}.port");
            var tls = ReadListenerTls(listener, path, reader);
            listeners.Add(new ListenerSettings(host, port, tls));
        }

        return listeners;
    }

    private static AdminSettings ReadAdmin(Config gateway, SettingsReader reader)
    {
        var admin = gateway.GetConfig("admin");
        reader.RejectUnknownKeys("gateway.admin", admin, SettingsReader.Keys(Reference.GetConfig("gateway.admin")));
        var enabled = reader.ReadBoolean(admin, "enabled", "gateway.admin.enabled");
        var host = ReadHost(admin, "gateway.admin", reader);
        var port = reader.ReadPort(admin, "port", "gateway.admin.port");
        var secret = reader.ReadString(admin, "secret", "gateway.admin.secret");
        if (enabled && !IsLoopback(host) && secret.Length < 16)
        {
            reader.Problem(
                "gateway.admin.secret",
                $"the admin listener is on the non-loopback address \"{host}\" and needs a secret of at least 16 characters " +
                "(set GATEWAY_ADMIN_SECRET or gateway.admin.secret, or bind the admin listener to 127.0.0.1).");
        }

        return new AdminSettings(enabled, host, port, secret.Length == 0 ? null : secret);
    }

    private static EchoUpstreamSettings ReadEcho(Config gateway, SettingsReader reader)
    {
        var echo = gateway.GetConfig("echo-upstream");
        reader.RejectUnknownKeys("gateway.echo-upstream", echo, SettingsReader.Keys(Reference.GetConfig("gateway.echo-upstream")));
        var enabled = reader.ReadBoolean(echo, "enabled", "gateway.echo-upstream.enabled");
        var host = ReadHost(echo, "gateway.echo-upstream", reader);
        var port = reader.ReadPort(echo, "port", "gateway.echo-upstream.port");
        return new EchoUpstreamSettings(enabled, host, port);
    }

    private static IReadOnlyList<ApiDefinition> ReadApis(Config gateway, SettingsReader reader)
    {
        var apisValue = gateway.GetValue("apis");
        if (apisValue is null || !apisValue.IsObject())
        {
            reader.Invalid("gateway.apis", apisValue, "an object of APIs keyed by id");
            return Array.Empty<ApiDefinition>();
        }

        var apis = new List<ApiDefinition>();
        var apisConfig = gateway.GetConfig("apis");
        foreach (var id in SettingsReader.Keys(apisConfig))
        {
            var path = $"gateway.apis.{id}";
            var value = apisConfig.GetValue(id);
            if (value is null || !value.IsObject())
            {
                reader.Invalid(path, value, "an object with at least listen-path and target-url");
                continue;
            }

            var raw = apisConfig.GetConfig(id);
            var defaults = gateway.GetConfig("api-defaults");
            apis.Add(ReadApi(id, raw, defaults, reader) with { Fingerprint = raw.ToString() + "\n" + defaults.ToString() });
        }

        var duplicates = apis.GroupBy(api => api.ListenPath).Where(group => group.Count() > 1 && group.Key.Length > 0);
        foreach (var group in duplicates)
        {
            reader.Problem(
                "gateway.apis",
                $"APIs {string.Join(" and ", group.Select(api => api.Id))} share the listen-path \"{group.Key}\"; give each API its own.");
        }

        return apis;
    }

    private static ApiDefinition ReadApi(string id, Config raw, Config defaults, SettingsReader reader)
    {
        var path = $"gateway.apis.{id}";
        if (!ApiIdPattern().IsMatch(id))
        {
            reader.Problem(path, $"invalid API id \"{id}\": use letters, digits, '-' and '_', starting with a letter or digit.");
        }

        reader.RejectUnknownKeys(path, raw, SettingsReader.Keys(Reference.GetConfig("gateway.api-defaults")));
        var api = raw.WithFallback(defaults);

        var name = reader.ReadString(api, "name", $"{path}.name");
        var listenPath = reader.ReadString(api, "listen-path", $"{path}.listen-path");
        if (listenPath.Length == 0)
        {
            reader.Problem($"{path}.listen-path", "missing: set listen-path to the path prefix that selects this API, such as \"/echo/\".");
        }
        else if (!listenPath.StartsWith('/'))
        {
            reader.Problem($"{path}.listen-path", $"found \"{listenPath}\", expected a path that starts with '/', such as \"/echo/\".");
        }

        var strip = reader.ReadBoolean(api, "strip-listen-path", $"{path}.strip-listen-path");
        var targets = ReadTargets(api, path, reader);
        var preserveHost = reader.ReadBoolean(api, "preserve-host-header", $"{path}.preserve-host-header");

        var timeoutsPath = $"{path}.timeouts";
        var timeouts = api.GetConfig("timeouts");
        reader.RejectUnknownKeys(timeoutsPath, raw.GetConfig("timeouts") ?? ConfigurationFactory.Empty, SettingsReader.Keys(defaults.GetConfig("timeouts")));
        var apiTimeouts = new ApiTimeouts(
            reader.ReadDuration(timeouts, "connect", $"{timeoutsPath}.connect"),
            reader.ReadDuration(timeouts, "handshake", $"{timeoutsPath}.handshake"),
            reader.ReadDuration(timeouts, "response", $"{timeoutsPath}.response"),
            reader.ReadOptionalDuration(timeouts, "websocket-idle", $"{timeoutsPath}.websocket-idle"));

        var limitsPath = $"{path}.websocket-limits";
        var limits = api.GetConfig("websocket-limits");
        reader.RejectUnknownKeys(limitsPath, raw.GetConfig("websocket-limits") ?? ConfigurationFactory.Empty, SettingsReader.Keys(defaults.GetConfig("websocket-limits")));
        var webSocketLimits = new WebSocketLimits(
            reader.ReadOptionalSize(limits, "max-message-size", $"{limitsPath}.max-message-size"),
            reader.ReadOptionalCount(limits, "max-connections", $"{limitsPath}.max-connections"))
        {
            MessagesPerSecond = reader.ReadOptionalCount(limits, "messages-per-second", $"{limitsPath}.messages-per-second"),
        };

        var upstreamTls = ReadUpstreamTls(api, raw, defaults, path, reader);
        var resilience = ReadResilience(api, raw, defaults, path, reader);

        return new ApiDefinition(
            id,
            name.Length == 0 ? id : name,
            listenPath,
            strip,
            targets,
            preserveHost,
            apiTimeouts,
            webSocketLimits,
            upstreamTls,
            resilience)
        {
            Auth = ReadAuth(api, raw, defaults, path, reader),
            RateLimit = ReadRateLimit(api, raw, defaults, path, reader),
            Quota = ReadQuota(api, raw, defaults, path, reader),
        };
    }

    private static ApiResilience ReadResilience(Config api, Config raw, Config defaults, string path, SettingsReader reader)
    {
        var strategyText = reader.ReadString(api, "load-balancing", $"{path}.load-balancing");
        var strategy = strategyText switch
        {
            "round-robin" => LoadBalancing.RoundRobin,
            "least-connections" => LoadBalancing.LeastConnections,
            _ => LoadBalancing.RoundRobin,
        };
        if (strategyText is not ("round-robin" or "least-connections"))
        {
            reader.Problem($"{path}.load-balancing", $"found \"{strategyText}\", expected round-robin or least-connections.");
        }

        var skip = reader.ReadDuration(api, "skip-failed-target-for", $"{path}.skip-failed-target-for");

        var breakerPath = $"{path}.circuit-breaker";
        var breaker = api.GetConfig("circuit-breaker");
        reader.RejectUnknownKeys(breakerPath, raw.GetConfig("circuit-breaker") ?? ConfigurationFactory.Empty,
            SettingsReader.Keys(Reference.GetConfig("gateway.api-defaults.circuit-breaker")));
        var threshold = reader.ReadOptionalShare(breaker, "threshold", $"{breakerPath}.threshold");
        var samples = reader.ReadOptionalCount(breaker, "samples", $"{breakerPath}.samples");
        var returnAfter = reader.ReadDuration(breaker, "return-to-service-after", $"{breakerPath}.return-to-service-after");
        var settings = threshold is { } share && samples is { } count ? new BreakerSettings(share, count, returnAfter) : null;

        var affinityPath = $"{path}.affinity";
        var affinity = api.GetConfig("affinity");
        reader.RejectUnknownKeys(affinityPath, raw.GetConfig("affinity") ?? ConfigurationFactory.Empty,
            SettingsReader.Keys(Reference.GetConfig("gateway.api-defaults.affinity")));
        var modeText = reader.ReadString(affinity, "mode", $"{affinityPath}.mode");
        AffinityMode? mode = modeText switch
        {
            "off" => AffinityMode.Off,
            "cookie" => AffinityMode.Cookie,
            "client-address" => AffinityMode.ClientAddress,
            "query-param" => AffinityMode.QueryParam,
            _ => null,
        };
        if (mode is null)
        {
            reader.Problem($"{affinityPath}.mode", $"found \"{modeText}\", expected off, cookie, client-address or query-param.");
        }

        var name = reader.ReadString(affinity, "name", $"{affinityPath}.name");
        if (name.Length == 0 || name.Any(character => !(char.IsAsciiLetterOrDigit(character) || character is '_' or '-' or '.')))
        {
            reader.Problem($"{affinityPath}.name", $"found \"{name}\", expected a cookie or parameter name of letters, digits, '_', '-' and '.'.");
        }

        var affinitySettings = mode is AffinityMode.Off or null ? null : new AffinitySettings(mode.Value, name);
        return new ApiResilience(strategy, skip, settings, affinitySettings);
    }

    private static IReadOnlyList<Uri> ReadTargets(Config api, string path, SettingsReader reader)
    {
        var texts = new List<(string Path, string Text)>();
        var single = reader.ReadString(api, "target-url", $"{path}.target-url");
        if (single.Length > 0)
        {
            texts.Add(($"{path}.target-url", single));
        }

        var list = api.GetValue("target-urls");
        if (list is not null && (list.IsObject() || list.IsString()))
        {
            reader.Invalid($"{path}.target-urls", list, "a list of URLs");
        }
        else if (list is not null)
        {
            // Akka's parser reports an empty list as neither an array nor a string, but GetArray reads it.
            var index = 0;
            foreach (var item in list.GetArray())
            {
                var itemPath = $"{path}.target-urls[{index++}]";
                if (item.IsString())
                {
                    texts.Add((itemPath, item.GetString()));
                }
                else
                {
                    reader.Invalid(itemPath, item, "a URL string");
                }
            }
        }

        if (texts.Count == 0)
        {
            reader.Problem($"{path}.target-url", "missing: set target-url (or target-urls) to the upstream URL, such as \"ws://127.0.0.1:9001/\".");
        }
        else if (single.Length > 0 && texts.Count > 1)
        {
            reader.Problem($"{path}.target-url", "set either target-url or target-urls, not both.");
        }

        var targets = new List<Uri>();
        foreach (var (itemPath, text) in texts)
        {
            if (Uri.TryCreate(text, UriKind.Absolute, out var uri)
                && uri.Scheme is "ws" or "wss" or "http" or "https"
                && uri.Host.Length > 0
                && uri.Query.Length == 0
                && uri.UserInfo.Length == 0)
            {
                targets.Add(uri);
            }
            else
            {
                reader.Problem(itemPath, $"found \"{text}\", expected an absolute URL with scheme ws, wss, http or https, a host, and no query or user info, such as \"ws://127.0.0.1:9001/\".");
            }
        }

        return targets;
    }

    private static string ReadHost(Config config, string path, SettingsReader reader)
    {
        var host = reader.ReadString(config, "host", $"{path}.host");
        if (host is "localhost" or "*" || IPAddress.TryParse(host, out _))
        {
            return host;
        }

        reader.Problem($"{path}.host", $"found \"{host}\", expected an IP address such as \"127.0.0.1\", \"0.0.0.0\" or \"::\", or \"localhost\".");
        return "127.0.0.1";
    }

    public static bool IsLoopback(string host) =>
        host == "localhost" || (IPAddress.TryParse(host, out var address) && IPAddress.IsLoopback(address));
}
