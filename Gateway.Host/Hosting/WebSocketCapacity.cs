using System.Globalization;
using Gateway.Actors.Configuration;

namespace Gateway.Host.Hosting;

/// <summary>
/// Counts the WebSocket connections the gateway proxies and rejects new ones beyond its limit, so
/// that the process never runs out of open files.
/// </summary>
/// <remarks>
/// A process without free file descriptors cannot accept connections, open upstream sockets or even
/// load an assembly for an error path, and the runtime then aborts the process. The limit keeps a
/// reserve for HTTP traffic, listeners, logs and the runtime.
/// </remarks>
public sealed class WebSocketCapacity
{
    /// <summary>Open files kept for everything but proxied WebSockets: HTTP clients and upstreams, cluster links.</summary>
    public const int Reserve = 256;

    /// <summary>An automatic limit below this many connections is logged as a warning.</summary>
    private const int LowAutoLimit = 1000;

    private int _live;

    public WebSocketCapacity(GatewaySettings settings, ILogger<WebSocketCapacity> logger)
    {
        var fileLimit = SoftOpenFileLimit();
        var openNow = OpenFiles();
        var allowed = fileLimit is { } files && openNow is { } open ? Math.Max(1, (files - open - Reserve) / 2) : (int?)null;
        FileLimit = fileLimit;
        Limit = settings.MaxWebSocketConnections ?? allowed ?? int.MaxValue;
        if (settings.MaxWebSocketConnections is { } configured && allowed is { } fit && configured > fit)
        {
            logger.LogWarning(
                "gateway.max-websocket-connections = {Configured}, but the open-file limit ({FileLimit}) leaves room for about {Fit} " +
                "WebSocket connections (two files each); raise it with 'ulimit -n' or lower the setting, or the process may run out of files",
                configured, fileLimit, fit);
        }
        else if (settings.MaxWebSocketConnections is null && allowed < LowAutoLimit)
        {
            logger.LogWarning(
                "The open-file limit ({FileLimit}) leaves room for only {Limit} concurrent WebSocket connections (two files each, " +
                "{Reserve} kept for HTTP traffic); raise it with 'ulimit -n' to accept more",
                fileLimit, Limit, Reserve);
        }
        else
        {
            logger.LogInformation("Accepting up to {Limit} concurrent WebSocket connections (open-file limit {FileLimit})",
                Limit, fileLimit?.ToString(CultureInfo.InvariantCulture) ?? "unknown");
        }
    }

    /// <summary>Most WebSocket connections proxied at once.</summary>
    public int Limit { get; }

    /// <summary>The process's soft open-file limit, or null where the platform does not report it.</summary>
    public int? FileLimit { get; }

    public int Live => Volatile.Read(ref _live);

    /// <summary>Takes a place for one connection; returns false when the gateway is at its limit.</summary>
    public bool TryAcquire()
    {
        if (Interlocked.Increment(ref _live) <= Limit)
        {
            return true;
        }

        Interlocked.Decrement(ref _live);
        return false;
    }

    /// <summary>Gives back the place a successful <see cref="TryAcquire"/> took.</summary>
    public void Release() => Interlocked.Decrement(ref _live);

    /// <summary>Reads the soft "Max open files" limit from /proc/self/limits.</summary>
    private static int? SoftOpenFileLimit()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/limits"))
            {
                if (!line.StartsWith("Max open files", StringComparison.Ordinal))
                {
                    continue;
                }

                var soft = line["Max open files".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries)[0];
                return int.TryParse(soft, NumberStyles.None, CultureInfo.InvariantCulture, out var limit) ? limit : null;
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }

        return null;
    }

    private static int? OpenFiles()
    {
        try
        {
            return Directory.GetFileSystemEntries("/proc/self/fd").Length;
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
