namespace Gateway.Actors.Configuration;

/// <summary>
/// Invalid configuration. <see cref="Exception.Message"/> lists every problem found, one a line,
/// each naming the source file, the key path, the value found and what is expected.
/// </summary>
public sealed class ConfigException : Exception
{
    public ConfigException(IReadOnlyList<string> problems)
        : base(string.Join(Environment.NewLine, problems))
    {
        Problems = problems;
    }

    public IReadOnlyList<string> Problems { get; }
}
