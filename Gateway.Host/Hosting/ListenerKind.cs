namespace Gateway.Host.Hosting;

/// <summary>What a Kestrel listener serves; each accepted connection is tagged with its listener's kind.</summary>
public enum ListenerKind
{
    Client,
    Admin,
    Echo,
}
