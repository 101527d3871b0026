using System.Text.Json;
using System.Text.RegularExpressions;
using Akka.Configuration;

namespace Gateway.Actors.Configuration;

/// <summary>
/// Parses HOCON text with environment substitutions resolved first.
/// </summary>
/// <remarks>
/// Akka.NET 1.5's built-in HOCON parser resolves <c>${path}</c> against the configuration only: it
/// leaves <c>${?ENV_VAR}</c> unset even when the variable exists, turns an unresolved optional
/// substitution into an unusable value instead of leaving the key unset, and fails on a comma right
/// after a substitution. So before parsing, this class replaces every <c>${NAME}</c> or
/// <c>${?NAME}</c> whose NAME contains no dot and is set in the environment with the variable's value
/// as a quoted string, and removes a line of the form <c>key = ${?NAME}</c> whose variable is unset,
/// so the key keeps its default as HOCON specifies. A NAME with a dot is a configuration path and is
/// left for the parser.
/// </remarks>
public static partial class HoconText
{
    [GeneratedRegex(@"\$\{(\?)?\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}")]
    private static partial Regex EnvironmentSubstitution();

    [GeneratedRegex(@"^[ \t]*[A-Za-z0-9_.""-]+[ \t]*[=:][ \t]*\$\{\?[ \t]*([A-Za-z_][A-Za-z0-9_]*)[ \t]*\}[ \t]*$", RegexOptions.Multiline)]
    private static partial Regex OptionalAssignment();

    public static Config Parse(string text, Func<string, string?>? environment = null)
    {
        environment ??= Environment.GetEnvironmentVariable;
        var withoutUnset = OptionalAssignment().Replace(text, match =>
            environment(match.Groups[1].Value) is null ? "" : match.Value);
        var resolved = EnvironmentSubstitution().Replace(withoutUnset, match =>
        {
            var value = environment(match.Groups[2].Value);
            return value is null ? match.Value : JsonSerializer.Serialize(value);
        });
        return ConfigurationFactory.ParseString(resolved);
    }
}
