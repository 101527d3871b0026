using System.Globalization;
using Akka.Configuration;
using Gateway.Actors.Configuration;

namespace Gateway.Actors.Keys;

/// <summary>
/// Reads a key's policy from HOCON or JSON (JSON is valid HOCON) with the field names of the admin API:
/// rate, per, quota-max, quota-renewal-rate, expires, access-rights, max-connections, messages-per-second.
/// </summary>
public static class KeyPolicyReader
{
    private static readonly string[] Fields =
    {
        "rate", "per", "quota-max", "quota-renewal-rate", "expires", "access-rights", "max-connections", "messages-per-second",
    };

    private static readonly Config Defaults = ConfigurationFactory.ParseString("""
        rate = off
        per = 1s
        quota-max = off
        quota-renewal-rate = 1h
        expires = off
        access-rights = []
        max-connections = off
        messages-per-second = off
        """);

    /// <summary>Parses <paramref name="text"/> and reads the policy.</summary>
    /// <exception cref="ConfigException">The text is not valid HOCON or JSON, or a field is invalid; the message lists every problem.</exception>
    public static KeyPolicy Parse(string text, string source)
    {
        // Akka's HOCON parser accepts truncated input without complaint, so the body is checked as JSON
        // first: a cut-off request must not create a key with half its limits.
        if (string.IsNullOrWhiteSpace(text))
        {
            throw new ConfigException(new[] { $"{source}: the body is empty. Send a JSON object such as {{\"rate\": 10, \"per\": \"1s\"}}, or {{}} for a key without limits." });
        }

        try
        {
            using var document = System.Text.Json.JsonDocument.Parse(text);
            if (document.RootElement.ValueKind != System.Text.Json.JsonValueKind.Object)
            {
                throw new ConfigException(new[] { $"{source}: the body is JSON but not an object. Send an object such as {{\"rate\": 10, \"per\": \"1s\"}}." });
            }
        }
        catch (System.Text.Json.JsonException error)
        {
            throw new ConfigException(new[] { $"{source}: the body is not valid JSON: {error.Message}" });
        }

        Config raw;
        try
        {
            raw = ConfigurationFactory.ParseString(text);
        }
        catch (Exception error) when (error is FormatException or ConfigurationException)
        {
            throw new ConfigException(new[] { $"{source}: invalid JSON: {error.Message}" });
        }

        var reader = new SettingsReader(source);
        reader.RejectUnknownKeys("key", raw, Fields);
        var config = raw.WithFallback(Defaults);
        var policy = new KeyPolicy(
            reader.ReadOptionalCount(config, "rate", "key.rate"),
            reader.ReadDuration(config, "per", "key.per"),
            reader.ReadOptionalCount(config, "quota-max", "key.quota-max"),
            reader.ReadDuration(config, "quota-renewal-rate", "key.quota-renewal-rate"),
            ReadExpires(config, reader),
            ReadAccessRights(config, reader),
            reader.ReadOptionalCount(config, "max-connections", "key.max-connections"),
            reader.ReadOptionalCount(config, "messages-per-second", "key.messages-per-second"));
        if (reader.Problems.Count > 0)
        {
            throw new ConfigException(reader.Problems);
        }

        return policy;
    }

    private static DateTimeOffset? ReadExpires(Config config, SettingsReader reader)
    {
        var value = config.GetValue("expires");
        var text = value is not null && value.IsString() ? value.GetString() : null;
        if (text == "off")
        {
            return null;
        }

        if (text is not null && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var expires))
        {
            return expires.ToUniversalTime();
        }

        reader.Invalid("key.expires", value, "off or a date and time such as \"2026-12-31T23:59:59Z\"");
        return null;
    }

    private static IReadOnlyList<string> ReadAccessRights(Config config, SettingsReader reader)
    {
        var value = config.GetValue("access-rights");
        if (value is null || value.IsObject() || value.IsString())
        {
            reader.Invalid("key.access-rights", value, "a list of API ids, such as [\"echo\"]; an empty list allows every API");
            return Array.Empty<string>();
        }

        var rights = new List<string>();
        var index = 0;
        foreach (var item in value.GetArray())
        {
            if (item.IsString() && item.GetString().Length > 0)
            {
                rights.Add(item.GetString());
            }
            else
            {
                reader.Invalid($"key.access-rights[{index}]", item, "an API id");
            }

            index++;
        }

        return rights;
    }
}
