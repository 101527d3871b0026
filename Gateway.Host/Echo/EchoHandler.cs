using System.Buffers;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;

namespace Gateway.Host.Echo;

/// <summary>
/// The built-in echo upstream: a WebSocket on any path sends every message back as it came, and any
/// other request gets a JSON description of itself.
/// </summary>
public static class EchoHandler
{
    private const int MaxEchoedBody = 1024 * 1024;

    public static Task HandleAsync(HttpContext context) =>
        context.WebSockets.IsWebSocketRequest ? EchoWebSocketAsync(context) : DescribeRequestAsync(context);

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
