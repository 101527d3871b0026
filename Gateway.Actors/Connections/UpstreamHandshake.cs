using System.Net;
using System.Text;
using Gateway.Actors.Apis;

namespace Gateway.Actors.Connections;

/// <summary>
/// Sends a WebSocket upgrade request to one upstream target on a connection of its own and reads the
/// response: the 101 with the upgraded stream, any other response with its body, or why it failed.
/// </summary>
/// <remarks>
/// The request and the response head are plain HTTP/1.1 text (RFC 9112), written and parsed here
/// rather than by SocketsHttpHandler, whose upgraded connections keep their buffers for the
/// WebSocket's life (see <see cref="UpstreamConnector"/>). Bytes the upstream sent after the 101's
/// head, such as a first frame in the same write, stay in front of the returned stream.
/// </remarks>
internal static class UpstreamHandshake
{
    /// <summary>The maximum size of a response head; a larger head is an invalid response.</summary>
    internal const int MaxHeadBytes = 32 * 1024;

    /// <summary>The maximum body size of a non-101 response relayed to the client; a larger body is an invalid response.</summary>
    internal const int MaxRejectionBodyBytes = 1024 * 1024;

    public static async Task<HandshakeAnswer> SendAsync(UpstreamConnector connector, Uri target, UpgradeRequest request, TimeSpan timeout)
    {
        using var cancellation = new CancellationTokenSource(timeout);
        Stream stream;
        try
        {
            stream = await connector.OpenAsync(target, cancellation.Token).ConfigureAwait(false);
        }
        catch (UpstreamConnectException error)
        {
            var outcome = error.TimedOut ? ForwardingOutcome.UpstreamTimedOut : ForwardingOutcome.UpstreamUnreachable;
            return new HandshakeFailed(outcome, error.Message, BeforeSending: true);
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
            return TimedOut(timeout);
        }
        catch (Exception error) when (UpstreamTlsFailure.Describe(error) is { } tlsFailure)
        {
            return new HandshakeFailed(ForwardingOutcome.UpstreamTlsFailed, tlsFailure, BeforeSending: false);
        }
        catch (IOException error)
        {
            // The upstream closed the connection during the TLS handshake.
            return new HandshakeFailed(ForwardingOutcome.UpstreamTlsFailed, "the TLS handshake with the upstream failed: " + error.Message.TrimEnd('.'), BeforeSending: false);
        }

        var reader = new ResponseReader(stream);
        var keepStream = false;
        try
        {
            await stream.WriteAsync(FormatRequest(target, request), cancellation.Token).ConfigureAwait(false);
            await stream.FlushAsync(cancellation.Token).ConfigureAwait(false);
            var head = await reader.ReadHeadAsync(cancellation.Token).ConfigureAwait(false);
            if (head.StatusCode == (int)HttpStatusCode.SwitchingProtocols)
            {
                if (!head.Headers.Any(header => IsNamed(header, "Upgrade") && ListsToken(header.Value, "websocket")))
                {
                    return Invalid("the upstream answered 101 without 'Upgrade: websocket'");
                }

                keepStream = true;
                return new HandshakeSwitched(reader.TakeUpgradedStream(), head.Headers);
            }

            var body = await reader.ReadBodyAsync(head, cancellation.Token).ConfigureAwait(false);
            return new HandshakeRejected(head.ToResponseMessage(body, target));
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
            return TimedOut(timeout);
        }
        catch (InvalidUpstreamResponseException error)
        {
            return Invalid(error.Message);
        }
        catch (IOException error)
        {
            // Under TLS 1.3 an upstream that requires a client certificate closes the connection after
            // the handshake, so a missing certificate also lands here.
            return Invalid("the upstream closed the connection before answering the upgrade: " + error.Message);
        }
        finally
        {
            reader.Dispose();
            if (!keepStream)
            {
                await stream.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    private static HandshakeFailed TimedOut(TimeSpan timeout) =>
        new(ForwardingOutcome.UpstreamTimedOut, $"no answer to the upgrade within {timeout.TotalSeconds:0.###} s", BeforeSending: false);

    private static HandshakeFailed Invalid(string detail) =>
        new(ForwardingOutcome.UpstreamInvalidResponse, detail, BeforeSending: false);

    /// <summary>Formats the request line and headers; <c>Host</c> is the preserved client Host or the target's authority.</summary>
    internal static byte[] FormatRequest(Uri target, UpgradeRequest request)
    {
        var text = new StringBuilder(512);
        text.Append("GET ").Append(target.PathAndQuery).Append(" HTTP/1.1\r\n");
        AppendHeader(text, "Host", request.PreservedHost ?? target.Authority);
        foreach (var header in request.Headers)
        {
            if (IsNamed(header.Key, "Host") || header.Value.Length == 0)
            {
                continue;
            }

            // HTTP/2 clients send one Cookie field per cookie, and these join with "; " (RFC 9113
            // section 8.2.3). Any other list joins with commas (RFC 9110 section 5.3).
            var separator = IsNamed(header.Key, "Cookie") ? "; " : ", ";
            AppendHeader(text, header.Key, string.Join(separator, header.Value));
        }

        text.Append("\r\n");
        return Encoding.Latin1.GetBytes(text.ToString());
    }

    private static void AppendHeader(StringBuilder text, string name, string value)
    {
        // Kestrel rejects such requests, so this only guards against a header the gateway built itself.
        if (name.AsSpan().IndexOfAny("\r\n:") >= 0 || value.AsSpan().IndexOfAny('\r', '\n') >= 0)
        {
            throw new ArgumentException($"The header '{name}' contains a line break and cannot be sent upstream.");
        }

        text.Append(name).Append(": ").Append(value).Append("\r\n");
    }

    internal static bool IsNamed(KeyValuePair<string, string> header, string name) => IsNamed(header.Key, name);

    private static bool IsNamed(string header, string name) => string.Equals(header, name, StringComparison.OrdinalIgnoreCase);

    internal static bool ListsToken(string value, string token)
    {
        foreach (var item in value.Split(','))
        {
            if (string.Equals(item.Trim(), token, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }
}

/// <summary>The outcome of one upgrade request to one upstream target.</summary>
internal abstract record HandshakeAnswer;

/// <summary>A 101: the upgraded stream and the response's headers as they came, in order.</summary>
internal sealed record HandshakeSwitched(Stream Stream, IReadOnlyList<KeyValuePair<string, string>> Headers) : HandshakeAnswer;

/// <summary>Any other status, with its body, to be relayed to the client as it is.</summary>
internal sealed record HandshakeRejected(HttpResponseMessage Response) : HandshakeAnswer;

/// <param name="BeforeSending">True when nothing reached the target, so another target may be tried.</param>
internal sealed record HandshakeFailed(ForwardingOutcome Outcome, string Detail, bool BeforeSending) : HandshakeAnswer;

/// <summary>The upstream's response is not valid HTTP/1.1, and the message names the invalid part.</summary>
internal sealed class InvalidUpstreamResponseException : Exception
{
    public InvalidUpstreamResponseException(string message)
        : base(message)
    {
    }
}
