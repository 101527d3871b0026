using System.Net.WebSockets;

namespace Gateway.Bench.Client;

/// <summary>Opens client WebSockets for the scenarios, many at a time, through one shared HTTP handler.</summary>
public static class WebSocketConnector
{
    // One handler for every connection keeps the generator's own cost per connection low; each upgrade
    // still gets its own TCP connection.
    private static readonly HttpMessageInvoker s_invoker = new(new SocketsHttpHandler
    {
        UseProxy = false,
        UseCookies = false,
        ConnectTimeout = TimeSpan.FromSeconds(10),
    });

    public static async Task<ClientWebSocket> ConnectAsync(Uri url, CancellationToken cancellation)
    {
        var socket = new ClientWebSocket();

        // Keep-alive pings would add traffic that only some contenders answer.
        socket.Options.KeepAliveInterval = TimeSpan.Zero;
        try
        {
            await socket.ConnectAsync(url, s_invoker, cancellation);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Opens <paramref name="count"/> connections with at most <paramref name="parallel"/> handshakes in flight.</summary>
    public static async Task<ClientWebSocket[]> ConnectManyAsync(Uri url, int count, int parallel, CancellationToken cancellation)
    {
        var sockets = new ClientWebSocket[count];
        var next = -1;
        async Task OpenLoop()
        {
            int index;
            while ((index = Interlocked.Increment(ref next)) < count)
            {
                sockets[index] = await ConnectAsync(url, cancellation);
            }
        }

        try
        {
            await Task.WhenAll(Enumerable.Range(0, Math.Min(parallel, count)).Select(_ => OpenLoop()));
        }
        catch
        {
            await CloseAllAsync(sockets.Where(socket => socket is not null).ToArray());
            throw;
        }

        return sockets;
    }

    /// <summary>Sends one message and waits for its echo, to prove that a tunnel carries data.</summary>
    public static async Task EchoOnceAsync(ClientWebSocket socket, byte[] message, byte[] buffer, CancellationToken cancellation)
    {
        await socket.SendAsync(message, WebSocketMessageType.Binary, endOfMessage: true, cancellation);
        await ReceiveMessageAsync(socket, buffer, cancellation);
    }

    /// <summary>Receives one whole message into <paramref name="buffer"/> and returns its length.</summary>
    public static async ValueTask<int> ReceiveMessageAsync(ClientWebSocket socket, byte[] buffer, CancellationToken cancellation)
    {
        var total = 0;
        while (true)
        {
            var memory = buffer.AsMemory(Math.Min(total, buffer.Length - 1));
            var received = await socket.ReceiveAsync(memory, cancellation);
            if (received.MessageType == WebSocketMessageType.Close)
            {
                throw new WebSocketException(WebSocketError.ConnectionClosedPrematurely,
                    $"The server closed the connection with {socket.CloseStatus} while an echo was expected.");
            }

            total += received.Count;
            if (received.EndOfMessage)
            {
                return total;
            }
        }
    }

    /// <summary>Closes every socket with a close handshake, waiting at most a few seconds, then disposes them.</summary>
    /// <param name="abortAfterCloseFrame">
    /// Sends the close frame without waiting for the peer's, then aborts: for connections with a backlog
    /// of unread messages, which a close handshake would have to read through first.
    /// </param>
    public static async Task CloseAllAsync(IReadOnlyList<ClientWebSocket> sockets, bool abortAfterCloseFrame = false)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(abortAfterCloseFrame ? 2 : 10));
        await Task.WhenAll(sockets.Select(async socket =>
        {
            try
            {
                if (socket.State != WebSocketState.Open)
                {
                    return;
                }

                if (abortAfterCloseFrame)
                {
                    await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, timeout.Token);
                }
                else
                {
                    await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, timeout.Token);
                }
            }
            catch (Exception error) when (error is WebSocketException or OperationCanceledException)
            {
                // A connection that cannot close cleanly is dropped below.
            }
            finally
            {
                if (abortAfterCloseFrame)
                {
                    socket.Abort();
                }

                socket.Dispose();
            }
        }));
    }
}
