using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Text;

namespace Gateway.Actors.Connections;

/// <summary>
/// Reads WebSocket frame headers (RFC 6455 section 5.2) from one direction of a tunnel as the bytes
/// pass, without changing them: counts frames and messages, captures the close code and reason, tracks
/// frame boundaries and checks the message size limit.
/// </summary>
/// <remarks>
/// One pump calls <see cref="Observe"/>; other threads may read the counters and
/// <see cref="CloseSeen"/>, which are written with volatile semantics. Payloads are never unmasked
/// except the at most 125 bytes of a close frame.
/// </remarks>
public sealed class FrameObserver
{
    private const int MaxHeaderLength = 14;
    private const int MaxControlPayload = 125;

    private readonly long? _maxMessageSize;
    // Each connection has two observers, so their state is small. The header bytes are inline, the mask
    // is read from the header, and the close payload buffer is allocated when a close frame arrives.
    private HeaderBytes _header;
    private int _headerLength;
    private int _headerNeeded = 2;
    private long _payloadRemaining;
    private long _payloadOffset;
    private bool _inPayload;
    private byte _opcode;
    private bool _fin;
    private bool _masked;
    private int _maskOffset;
    private byte[]? _closePayload;
    private int _closePayloadLength;
    private long _messageSize;
    private long _frames;
    private long _messages;
    private volatile bool _closeSeen;

    private readonly Action? _onClose;

    /// <param name="maxMessageSize">Largest message allowed, summed over its frames; null for no limit.</param>
    /// <param name="onClose">Called on the pump's thread when a complete close frame has passed.</param>
    public FrameObserver(long? maxMessageSize = null, Action? onClose = null)
    {
        _maxMessageSize = maxMessageSize;
        _onClose = onClose;
    }

    public long Frames => Volatile.Read(ref _frames);

    /// <summary>Number of complete data messages: final frames of text, binary or continuation opcode.</summary>
    public long Messages => Volatile.Read(ref _messages);

    /// <summary>True once a complete close frame has passed.</summary>
    public bool CloseSeen => _closeSeen;

    /// <summary>Close code of the close frame that passed; null before one passed or when it had no code.</summary>
    public int? CloseCode { get; private set; }

    public string? CloseReason { get; private set; }

    /// <summary>True when the bytes seen so far end exactly at the end of a frame.</summary>
    public bool AtFrameBoundary => !ProtocolViolation && !_inPayload && _headerLength == 0;

    /// <summary>True when the stream broke the framing rules; the observer then stops reading headers.</summary>
    public bool ProtocolViolation { get; private set; }

    /// <summary>
    /// Reads <paramref name="data"/> and returns how many of its bytes to forward. All of them unless
    /// <paramref name="stopAtBoundary"/> is set and a frame ends inside the data, or a frame header
    /// breaks the message size limit; <see cref="ObserveResult.Stop"/> then says why.
    /// </summary>
    /// <remarks>
    /// With <paramref name="stopAfterMessage"/> set, it also returns right after the last frame of each
    /// data message, with <see cref="ObserveStop.MessageComplete"/>, so a rate limit can pace messages.
    /// </remarks>
    public ObserveResult Observe(ReadOnlySpan<byte> data, bool stopAtBoundary = false, bool stopAfterMessage = false)
    {
        if (stopAtBoundary && AtFrameBoundary)
        {
            return new ObserveResult(0, ObserveStop.AtBoundary);
        }

        var position = 0;
        while (position < data.Length && !ProtocolViolation)
        {
            if (_inPayload)
            {
                var take = (int)Math.Min(_payloadRemaining, data.Length - position);
                if (_opcode == 0x8)
                {
                    CaptureClosePayload(data.Slice(position, take));
                }

                position += take;
                _payloadRemaining -= take;
                _payloadOffset += take;
                if (_payloadRemaining == 0)
                {
                    var messageEnded = CompleteFrame();
                    if (stopAtBoundary)
                    {
                        return new ObserveResult(position, ObserveStop.AtBoundary);
                    }

                    if (messageEnded && stopAfterMessage)
                    {
                        return new ObserveResult(position, ObserveStop.MessageComplete);
                    }
                }

                continue;
            }

            var headerStartInChunk = position - _headerLength;
            _header[_headerLength++] = data[position++];
            if (_headerLength == 2)
            {
                _headerNeeded = HeaderLength(_header[1]);
            }

            if (_headerLength < _headerNeeded)
            {
                continue;
            }

            StartFrame();
            if (ExceedsMessageLimit())
            {
                var boundary = headerStartInChunk >= 0 ? headerStartInChunk : -1;
                return new ObserveResult(Math.Max(boundary, 0), ObserveStop.MessageTooBig, boundary >= 0);
            }

            if (_payloadRemaining == 0)
            {
                var messageEnded = CompleteFrame();
                if (stopAtBoundary)
                {
                    return new ObserveResult(position, ObserveStop.AtBoundary);
                }

                if (messageEnded && stopAfterMessage)
                {
                    return new ObserveResult(position, ObserveStop.MessageComplete);
                }
            }
        }

        return new ObserveResult(data.Length, ObserveStop.None);
    }

    private static int HeaderLength(byte second)
    {
        var length = 2;
        var lengthCode = second & 0x7F;
        if (lengthCode == 126)
        {
            length += 2;
        }
        else if (lengthCode == 127)
        {
            length += 8;
        }

        if ((second & 0x80) != 0)
        {
            length += 4;
        }

        return length;
    }

    private void StartFrame()
    {
        _fin = (_header[0] & 0x80) != 0;
        _opcode = (byte)(_header[0] & 0x0F);
        _masked = (_header[1] & 0x80) != 0;
        var lengthCode = _header[1] & 0x7F;
        var offset = 2;
        long length = lengthCode;
        if (lengthCode == 126)
        {
            length = BinaryPrimitives.ReadUInt16BigEndian(((ReadOnlySpan<byte>)_header)[2..]);
            offset = 4;
        }
        else if (lengthCode == 127)
        {
            var wide = BinaryPrimitives.ReadUInt64BigEndian(((ReadOnlySpan<byte>)_header)[2..]);
            if (wide > long.MaxValue)
            {
                ProtocolViolation = true;
                return;
            }

            length = (long)wide;
            offset = 10;
        }

        if (_masked)
        {
            _maskOffset = offset;
        }

        var isControl = _opcode >= 0x8;
        if (isControl && (length > MaxControlPayload || !_fin))
        {
            // RFC 6455 section 5.5: control frames carry at most 125 bytes and are never fragmented.
            ProtocolViolation = true;
        }

        _payloadRemaining = length;
        _payloadOffset = 0;
        _closePayloadLength = 0;
        _headerLength = 0;
        _headerNeeded = 2;
        _inPayload = length > 0;
        Interlocked.Increment(ref _frames);
        if (!isControl)
        {
            _messageSize += length;
        }
    }

    private bool ExceedsMessageLimit() => _maxMessageSize is { } max && _opcode < 0x8 && _messageSize > max;

    private void CaptureClosePayload(ReadOnlySpan<byte> chunk)
    {
        for (var i = 0; i < chunk.Length && _closePayloadLength < MaxControlPayload; i++)
        {
            var value = chunk[i];
            if (_masked)
            {
                value ^= _header[_maskOffset + (int)((_payloadOffset + i) % 4)];
            }

            _closePayload ??= new byte[MaxControlPayload];
            _closePayload[_closePayloadLength++] = value;
        }
    }

    /// <summary>Ends the current frame and returns true when it was the last frame of a data message.</summary>
    private bool CompleteFrame()
    {
        _inPayload = false;
        if (_opcode == 0x8)
        {
            if (_closePayloadLength >= 2 && _closePayload is not null)
            {
                CloseCode = BinaryPrimitives.ReadUInt16BigEndian(_closePayload);
                CloseReason = Encoding.UTF8.GetString(_closePayload, 2, _closePayloadLength - 2);
            }

            _closeSeen = true;
            _onClose?.Invoke();
        }
        else if (_opcode < 0x8 && _fin)
        {
            Interlocked.Increment(ref _messages);
            _messageSize = 0;
            return true;
        }

        return false;
    }

    [InlineArray(MaxHeaderLength)]
    private struct HeaderBytes
    {
        private byte _first;
    }
}

/// <summary>Why <see cref="FrameObserver.Observe"/> returned before the end of its data.</summary>
public enum ObserveStop
{
    None,
    AtBoundary,
    MessageTooBig,

    /// <summary>A data message ended and the caller asked to stop after each message.</summary>
    MessageComplete,
}

/// <summary>
/// Outcome of one <see cref="FrameObserver.Observe"/> call: the bytes to forward, why it stopped, and
/// for <see cref="ObserveStop.MessageTooBig"/> whether the bytes to forward end at a frame boundary.
/// </summary>
public readonly record struct ObserveResult(int Forward, ObserveStop Stop, bool EndsAtBoundary = true);
