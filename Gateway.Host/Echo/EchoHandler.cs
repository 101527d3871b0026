using System.Buffers;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;

namespace Gateway.Host.Echo;

/// <summary>
/// The built-in echo upstream: a WebSocket on any path sends every message back as it came, and any
/// other request gets a JSON description of itself. A WebSocket on <c>/flood</c> is the exception: it
/// sends binary messages as fast as the client takes them, for the benchmark's flood case.
/// </summary>
public static class EchoHandler
{
    private const int MaxEchoedBody = 1024 * 1024;

    private const string FloodPath = "/flood";
    private const int FloodMessageSize = 16 * 1024;

    // A flood whose client neither reads nor leaves still ends, so a stuck benchmark cannot keep it going.
    private static readonly TimeSpan MaxFloodDuration = TimeSpan.FromSeconds(60);

    public static Task HandleAsync(HttpContext context)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            return DescribeRequestAsync(context);
        }

        return context.Request.Path == FloodPath ? FloodWebSocketAsync(context) : EchoWebSocketAsync(context);
    }

    private static async Task EchoWebSocketAsync(HttpContext context)
    {
        var offered = context.WebSockets.WebSocketRequestedProtocols;
        using var socket = await context.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext
        {
            SubProtocol = offered.Count > 0 ? offered[0] : null,
            DangerousEnableCompression = true,
        });

        // Fragments are echoed as they arrive, so a large message never sits whole in memory.
        var buffer = ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
            while (true)
            {
                var received = await socket.ReceiveAsync(buffer, context.RequestAborted);
                if (received.MessageType == WebSocketMessageType.Close)
                {
                    await socket.CloseOutputAsync(
                        socket.CloseStatus ?? WebSocketCloseStatus.NormalClosure,
                        socket.CloseStatusDescription,
                        context.RequestAborted);
                    return;
                }

                await socket.SendAsync(buffer.AsMemory(0, received.Count), received.MessageType, received.EndOfMessage, context.RequestAborted);
            }
        }
        catch (Exception error) when (error is WebSocketException or OperationCanceledException)
        {
            // The client went away; nothing to echo to.
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// Sends 16 KiB binary messages from the client's first message on, until the client closes or goes
    /// away, or for at most <see cref="MaxFloodDuration"/>. Waiting for a first message lets a client
    /// measure with its connections open and idle before the flood. Messages from the client are dropped.
    /// </summary>
    private static async Task FloodWebSocketAsync(HttpContext context)
    {
        using var socket = await context.WebSockets.AcceptWebSocketAsync();
        using var flood = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        flood.CancelAfter(MaxFloodDuration);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var receiving = DropUntilCloseAsync(socket, started, flood, context.RequestAborted);

        var message = new byte[FloodMessageSize];
        Random.Shared.NextBytes(message);
        try
        {
            await started.Task.WaitAsync(flood.Token);
            while (!flood.IsCancellationRequested)
            {
                await socket.SendAsync(message, WebSocketMessageType.Binary, endOfMessage: true, flood.Token);
            }
        }
        catch (Exception error) when (error is WebSocketException or OperationCanceledException)
        {
            // Cancelling a pending send aborts the socket, which is how a flood into a full connection ends.
        }

        // Reply to the client's close frame within 2 s. A client that stopped reading never receives the
        // reply, so the socket is aborted either way.
        if (socket.State == WebSocketState.CloseReceived)
        {
            using var closing = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            try
            {
                await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, closing.Token);
            }
            catch (Exception error) when (error is WebSocketException or OperationCanceledException)
            {
                // The socket is aborted below.
            }
        }

        socket.Abort();
        await receiving;
    }

    private static async Task DropUntilCloseAsync(WebSocket socket, TaskCompletionSource started, CancellationTokenSource flood, CancellationToken aborted)
    {
        var buffer = new byte[1024];
        try
        {
            while ((await socket.ReceiveAsync(buffer, aborted)).MessageType != WebSocketMessageType.Close)
            {
                started.TrySetResult();
            }
        }
        catch (Exception error) when (error is WebSocketException or OperationCanceledException)
        {
            // The socket was aborted or the client went away: the flood stops below either way.
        }
        finally
        {
            flood.Cancel();
        }
    }

    private static async Task DescribeRequestAsync(HttpContext context)
    {
        var request = context.Request;
        var body = new MemoryStream();
        var limited = new byte[16 * 1024];
        int read;
        while ((read = await request.Body.ReadAsync(limited, context.RequestAborted)) > 0)
        {
            if (body.Length + read > MaxEchoedBody)
            {
                context.Response.StatusCode = StatusCodes.Status413PayloadTooLarge;
                return;
            }

            body.Write(limited, 0, read);
        }

        var description = new
        {
            method = request.Method,
            path = request.Path.Value,
            query = request.QueryString.Value,
            headers = request.Headers.ToDictionary(header => header.Key, header => header.Value.ToString()),
            body = Encoding.UTF8.GetString(body.GetBuffer(), 0, (int)body.Length),
        };
        context.Response.ContentType = "application/json; charset=utf-8";
        await JsonSerializer.SerializeAsync(context.Response.Body, description, cancellationToken: context.RequestAborted);
    }
}
