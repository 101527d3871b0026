using System.Text.Json;
using System.Text.RegularExpressions;
using Akka.Configuration;

namespace Gateway.Actors.Configuration;

/// <summary>
/// Parses HOCON text with environment substitutions resolved first.
/// </summary>
/// <remarks>
/// Akka.NET 1.5's built-in HOCON parser resolves <c>${path}</c> against the configuration only: it
/// leaves <c>${?ENV_VAR}</c> unset even when the variable exists, and it fails on a comma right after
/// a substitution. This class replaces every <c>${NAME}</c> or <c>${?NAME}</c> whose NAME contains no
/// dot and is set in the environment with the variable's value as a quoted string, then parses.
/// A NAME with a dot is left for the parser, because it is a configuration path.
/// </remarks>
public static partial class HoconText
{
    [GeneratedRegex(@"\$\{(\?)?\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}")]
    private static partial Regex EnvironmentSubstitution();

    public static Config Parse(string text, Func<string, string?>? environment = null)
    {
        environment ??= Environment.GetEnvironmentVariable;
        var resolved = EnvironmentSubstitution().Replace(text, match =>
        {
            var value = environment(match.Groups[2].Value);
            return value is null ? match.Value : JsonSerializer.Serialize(value);
        });
        return ConfigurationFactory.ParseString(resolved);
    }
}
