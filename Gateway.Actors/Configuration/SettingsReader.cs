using System.Globalization;
using System.Text.RegularExpressions;
using Akka.Configuration;
using Akka.Configuration.Hocon;

namespace Gateway.Actors.Configuration;

/// <summary>
/// Typed reads of configuration values that collect every problem instead of stopping at the first,
/// each naming the source, the key path, the value found and what is expected.
/// </summary>
internal sealed partial class SettingsReader
{
    private readonly string _source;
    private readonly List<string> _problems = new();

    public SettingsReader(string source)
    {
        _source = source;
    }

    public IReadOnlyList<string> Problems => _problems;

    public void Problem(string path, string message) => _problems.Add($"{_source}: {path}: {message}");

    public void Invalid(string path, HoconValue? value, string expected) =>
        Problem(path, $"found {Describe(value)}, expected {expected}.");

    /// <summary>Reports every key of <paramref name="actual"/> that <paramref name="known"/> lacks.</summary>
    public void RejectUnknownKeys(string path, Config actual, IReadOnlyCollection<string> known)
    {
        foreach (var key in Keys(actual))
        {
            if (known.Contains(key))
            {
                continue;
            }

            var dashed = key.Replace('_', '-');
            var hint = dashed != key && known.Contains(dashed)
                ? $" Did you mean '{dashed}'?"
                : $" Known keys: {string.Join(", ", known.Order(StringComparer.Ordinal))}.";
            Problem($"{path}.{key}", "unknown key." + hint);
        }
    }

    public static IReadOnlyCollection<string> Keys(Config config) =>
        config.IsEmpty ? Array.Empty<string>() : config.Root.GetObject().Items.Keys.ToArray();

    public string ReadString(Config config, string key, string path)
    {
        var value = config.GetValue(key);
        if (value is null || !value.IsString())
        {
            Invalid(path, value, "a string");
            return "";
        }

        return value.GetString();
    }

    public bool ReadBoolean(Config config, string key, string path)
    {
        var value = config.GetValue(key);
        var text = value is not null && value.IsString() ? value.GetString() : null;
        switch (text)
        {
            case "on" or "true" or "yes":
                return true;
            case "off" or "false" or "no":
                return false;
            default:
                Invalid(path, value, "on or off");
                return false;
        }
    }

    public int ReadPort(Config config, string key, string path, bool allowZero = true)
    {
        var value = config.GetValue(key);
        var text = value is not null && value.IsString() ? value.GetString() : null;
        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var port)
            && port <= 65535 && (port > 0 || allowZero))
        {
            return port;
        }

        Invalid(path, value, allowZero ? "a port number from 0 to 65535" : "a port number from 1 to 65535");
        return 0;
    }

    public TimeSpan ReadDuration(Config config, string key, string path)
    {
        var value = config.GetValue(key);
        var text = value is not null && value.IsString() ? value.GetString() : null;
        if (text is not null && TryParseDuration(text, out var duration) && duration > TimeSpan.Zero)
        {
            return duration;
        }

        Invalid(path, value, "a positive duration with a unit, such as 500ms, 5s or 2m");
        return TimeSpan.FromSeconds(1);
    }

    public TimeSpan? ReadOptionalDuration(Config config, string key, string path)
    {
        var value = config.GetValue(key);
        var text = value is not null && value.IsString() ? value.GetString() : null;
        if (text == "off")
        {
            return null;
        }

        if (text is not null && TryParseDuration(text, out var duration) && duration > TimeSpan.Zero)
        {
            return duration;
        }

        Invalid(path, value, "off or a positive duration with a unit, such as 500ms, 30s or 5m");
        return null;
    }

    /// <summary>Reads off, or a share above 0 and at most 1.</summary>
    public double? ReadOptionalShare(Config config, string key, string path)
    {
        var value = config.GetValue(key);
        var text = value is not null && value.IsString() ? value.GetString() : null;
        if (text == "off")
        {
            return null;
        }

        if (double.TryParse(text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var share) && share > 0 && share <= 1)
        {
            return share;
        }

        Invalid(path, value, "off or a share above 0 and at most 1, such as 0.5");
        return null;
    }

    public long? ReadOptionalSize(Config config, string key, string path)
    {
        var value = config.GetValue(key);
        var text = value is not null && value.IsString() ? value.GetString() : null;
        if (text == "off")
        {
            return null;
        }

        if (text is not null && TryParseSize(text, out var size) && size > 0)
        {
            return size;
        }

        Invalid(path, value, "off or a positive size such as 64KiB or 16MiB");
        return null;
    }

    public int? ReadOptionalCount(Config config, string key, string path)
    {
        var value = config.GetValue(key);
        var text = value is not null && value.IsString() ? value.GetString() : null;
        if (text == "off")
        {
            return null;
        }

        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var count) && count > 0)
        {
            return count;
        }

        Invalid(path, value, "off or a positive whole number");
        return null;
    }

    /// <summary>Reads a name such as a query parameter or cookie name; off or an empty string gives null.</summary>
    public string? ReadOptionalName(Config config, string key, string path)
    {
        var value = config.GetValue(key);
        var text = value is not null && value.IsString() ? value.GetString() : null;
        if (text is "off" or "")
        {
            return null;
        }

        if (text is not null && text.All(character => char.IsAsciiLetterOrDigit(character) || character is '-' or '_' or '.'))
        {
            return text;
        }

        Invalid(path, value, "off or a name of letters, digits, '-', '_' and '.'");
        return null;
    }

    [GeneratedRegex(@"^\s*(\d+(?:\.\d+)?)\s*(ms|milliseconds?|s|seconds?|m|minutes?|h|hours?)\s*$")]
    private static partial Regex DurationPattern();

    [GeneratedRegex(@"^\s*(\d+)\s*(B|KiB|MiB|GiB|KB|MB|GB)?\s*$")]
    private static partial Regex SizePattern();

    public static bool TryParseDuration(string text, out TimeSpan duration)
    {
        duration = default;
        var match = DurationPattern().Match(text);
        if (!match.Success)
        {
            return false;
        }

        var amount = double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
        duration = match.Groups[2].Value[0] switch
        {
            'm' when match.Groups[2].Value.StartsWith("ms") || match.Groups[2].Value.StartsWith("milli") =>
                TimeSpan.FromMilliseconds(amount),
            's' => TimeSpan.FromSeconds(amount),
            'm' => TimeSpan.FromMinutes(amount),
            _ => TimeSpan.FromHours(amount),
        };
        return true;
    }

    public static bool TryParseSize(string text, out long size)
    {
        size = 0;
        var match = SizePattern().Match(text);
        if (!match.Success || !long.TryParse(match.Groups[1].Value, CultureInfo.InvariantCulture, out var amount))
        {
            return false;
        }

        long unit = match.Groups[2].Value switch
        {
            "KiB" => 1024,
            "MiB" => 1024 * 1024,
            "GiB" => 1024 * 1024 * 1024,
            "KB" => 1000,
            "MB" => 1000 * 1000,
            "GB" => 1000 * 1000 * 1000,
            _ => 1,
        };
        if (amount > long.MaxValue / unit)
        {
            return false;
        }

        size = amount * unit;
        return true;
    }

    private static string Describe(HoconValue? value)
    {
        if (value is null || value.IsEmpty)
        {
            return "nothing";
        }

        if (value.IsArray())
        {
            return "a list";
        }

        if (value.IsObject())
        {
            return "an object";
        }

        return $"\"{value.GetString()}\"";
    }
}
