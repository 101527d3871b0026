using System.Globalization;

namespace Gateway.Bench;

/// <summary>Command-line options of the form <c>--name value</c>, read by name with a default.</summary>
public sealed class Options
{
    private readonly Dictionary<string, string> _values = new(StringComparer.Ordinal);

    public Options(IEnumerable<string> args)
    {
        string? name = null;
        foreach (var arg in args)
        {
            if (arg.StartsWith("--", StringComparison.Ordinal))
            {
                name = arg[2..];
                _values[name] = "true";
            }
            else if (name is not null)
            {
                _values[name] = arg;
                name = null;
            }
            else
            {
                throw new ArgumentException($"Unexpected argument '{arg}': options take the form --name value.");
            }
        }
    }

    public string Text(string name, string? fallback = null) =>
        _values.TryGetValue(name, out var value) ? value
        : fallback ?? throw new ArgumentException($"The option --{name} is missing.");

    public int Integer(string name, int? fallback = null) =>
        _values.TryGetValue(name, out var value)
            ? int.Parse(value, CultureInfo.InvariantCulture)
            : fallback ?? throw new ArgumentException($"The option --{name} is missing.");

    public double Number(string name, double? fallback = null) =>
        _values.TryGetValue(name, out var value)
            ? double.Parse(value, CultureInfo.InvariantCulture)
            : fallback ?? throw new ArgumentException($"The option --{name} is missing.");

    public TimeSpan Seconds(string name, double fallback) => TimeSpan.FromSeconds(Number(name, fallback));

    public Uri Url(string name = "url") => new(Text(name));
}
