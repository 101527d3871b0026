using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;

namespace Gateway.Tests.Support;

/// <summary>
/// WebSocket frames and handshakes written and read byte by byte over a plain TCP socket, so tests can
/// check exactly what passes through the gateway.
/// </summary>
public static class RawWebSocket
{
    public const string Guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

    public static string AcceptFor(string key) =>
        Convert.ToBase64String(SHA1.HashData(Encoding.ASCII.GetBytes(key + Guid)));

    /// <summary>Builds one frame; a non-null <paramref name="mask"/> masks the payload as a client must.</summary>
    public static byte[] Frame(int opcode, ReadOnlySpan<byte> payload, bool fin = true, byte[]? mask = null, bool rsv1 = false)
    {
        var header = new List<byte> { (byte)((fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | opcode) };
        var maskBit = mask is null ? 0 : 0x80;
        if (payload.Length < 126)
        {
            header.Add((byte)(maskBit | payload.Length));
        }
        else if (payload.Length <= ushort.MaxValue)
        {
            header.Add((byte)(maskBit | 126));
            header.Add((byte)(payload.Length >> 8));
            header.Add((byte)payload.Length);
        }
        else
        {
            header.Add((byte)(maskBit | 127));
            var length = new byte[8];
            BinaryPrimitives.WriteUInt64BigEndian(length, (ulong)payload.Length);
            header.AddRange(length);
        }

        if (mask is not null)
        {
            header.AddRange(mask);
        }

        var frame = new byte[header.Count + payload.Length];
        header.CopyTo(frame);
        for (var i = 0; i < payload.Length; i++)
        {
            frame[header.Count + i] = mask is null ? payload[i] : (byte)(payload[i] ^ mask[i % 4]);
        }

        return frame;
    }

    public static byte[] ClosePayload(int code, string reason)
    {
        var reasonBytes = Encoding.UTF8.GetBytes(reason);
        var payload = new byte[2 + reasonBytes.Length];
        BinaryPrimitives.WriteUInt16BigEndian(payload, (ushort)code);
        reasonBytes.CopyTo(payload, 2);
        return payload;
    }

    /// <summary>Reads one HTTP head (status or request line and headers) up to the blank line.</summary>
    public static async Task<string> ReadHeadAsync(Stream stream, CancellationToken cancellationToken)
    {
        var head = new List<byte>();
        var one = new byte[1];
        while (!(head.Count >= 4 && head[^4] == '\r' && head[^3] == '\n' && head[^2] == '\r' && head[^1] == '\n'))
        {
            if (await stream.ReadAsync(one, cancellationToken) == 0)
            {
                throw new EndOfStreamException($"Connection closed inside an HTTP head: {Encoding.ASCII.GetString(head.ToArray())}");
            }

            head.Add(one[0]);
        }

        return Encoding.ASCII.GetString(head.ToArray());
    }

    public static string? Header(string head, string name)
    {
        foreach (var line in head.Split("\r\n"))
        {
            var colon = line.IndexOf(':');
            if (colon > 0 && line[..colon].Trim().Equals(name, StringComparison.OrdinalIgnoreCase))
            {
                return line[(colon + 1)..].Trim();
            }
        }

        return null;
    }

    /// <summary>Opens a TCP connection and sends an upgrade request; returns the stream and the response head.</summary>
    public static async Task<(TcpClient Client, NetworkStream Stream, string ResponseHead)> ConnectAsync(
        IPEndPoint endpoint, string path, string extraHeaders = "", CancellationToken cancellationToken = default)
    {
        var client = new TcpClient();
        await client.ConnectAsync(endpoint, cancellationToken);
        var stream = client.GetStream();
        var key = Convert.ToBase64String(RandomNumberGenerator.GetBytes(16));
        var request =
            $"GET {path} HTTP/1.1\r\nHost: {endpoint}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n" +
            $"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: {key}\r\n{extraHeaders}\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request), cancellationToken);
        var head = await ReadHeadAsync(stream, cancellationToken);
        return (client, stream, head);
    }

    /// <summary>Reads exactly <paramref name="count"/> bytes, or fewer if the peer closes first.</summary>
    public static async Task<byte[]> ReadExactlyOrEndAsync(Stream stream, int count, CancellationToken cancellationToken)
    {
        var buffer = new byte[count];
        var filled = 0;
        while (filled < count)
        {
            var read = await stream.ReadAsync(buffer.AsMemory(filled), cancellationToken);
            if (read == 0)
            {
                return buffer[..filled];
            }

            filled += read;
        }

        return buffer;
    }

    /// <summary>Reads one frame: its first header byte, and its payload unmasked.</summary>
    public static async Task<(byte First, byte[] Payload)> ReadFrameAsync(Stream stream, CancellationToken cancellationToken)
    {
        var head = await ReadExactlyOrEndAsync(stream, 2, cancellationToken);
        if (head.Length < 2)
        {
            throw new EndOfStreamException("Connection closed before a frame.");
        }

        long length = head[1] & 0x7F;
        if (length == 126)
        {
            length = BinaryPrimitives.ReadUInt16BigEndian(await ReadExactlyOrEndAsync(stream, 2, cancellationToken));
        }
        else if (length == 127)
        {
            length = (long)BinaryPrimitives.ReadUInt64BigEndian(await ReadExactlyOrEndAsync(stream, 8, cancellationToken));
        }

        byte[]? mask = (head[1] & 0x80) != 0 ? await ReadExactlyOrEndAsync(stream, 4, cancellationToken) : null;
        var payload = await ReadExactlyOrEndAsync(stream, (int)length, cancellationToken);
        if (mask is not null)
        {
            for (var i = 0; i < payload.Length; i++)
            {
                payload[i] ^= mask[i % 4];
            }
        }

        return (head[0], payload);
    }
}
