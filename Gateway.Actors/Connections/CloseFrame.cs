using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace Gateway.Actors.Connections;

/// <summary>
/// Close codes the gateway sends itself (RFC 6455 section 7.4.1). 1005, 1006 and 1015 are reserved for
/// reporting and never sent.
/// </summary>
public static class CloseCodes
{
    public const int NormalClosure = 1000;
    public const int GoingAway = 1001;
    public const int PolicyViolation = 1008;
    public const int MessageTooBig = 1009;
    public const int InternalError = 1011;
    public const int ServiceRestart = 1012;
}

/// <summary>Builds the close frames the gateway writes when it ends a connection itself.</summary>
public static class CloseFrame
{
    /// <summary>
    /// Builds a final close frame with <paramref name="code"/> and a reason cut to fit the 125-byte
    /// control payload. Frames towards an upstream are masked with a random key, as RFC 6455
    /// section 5.3 requires of a client.
    /// </summary>
    public static byte[] Build(int code, string reason, bool masked)
    {
        var reasonBytes = Encoding.UTF8.GetBytes(reason);
        var payloadLength = Math.Min(2 + reasonBytes.Length, 125);
        var payload = new byte[payloadLength];
        BinaryPrimitives.WriteUInt16BigEndian(payload, (ushort)code);
        reasonBytes.AsSpan(0, payloadLength - 2).CopyTo(payload.AsSpan(2));

        var headerLength = masked ? 6 : 2;
        var frame = new byte[headerLength + payloadLength];
        frame[0] = 0x88;
        frame[1] = (byte)((masked ? 0x80 : 0) | payloadLength);
        if (!masked)
        {
            payload.CopyTo(frame, 2);
            return frame;
        }

        Span<byte> mask = stackalloc byte[4];
        RandomNumberGenerator.Fill(mask);
        mask.CopyTo(frame.AsSpan(2));
        for (var i = 0; i < payloadLength; i++)
        {
            frame[6 + i] = (byte)(payload[i] ^ mask[i % 4]);
        }

        return frame;
    }
}
