using System.Buffers;
using System.Globalization;
using System.Net;
using System.Text;

namespace Gateway.Actors.Connections;

/// <summary>
/// Reads an upstream's HTTP/1.1 response to an upgrade from a stream: the head, then either the upgraded
/// stream or the body of a non-101 response. The buffer comes from the shared pool and goes back on Dispose.
/// </summary>
internal sealed class ResponseReader : IDisposable
{
    private const int InitialBuffer = 4096;

    private readonly Stream _stream;
    private byte[] _buffer = ArrayPool<byte>.Shared.Rent(InitialBuffer);

    // The unread bytes are _buffer[_start.._end].
    private int _start;
    private int _end;

    public ResponseReader(Stream stream)
    {
        _stream = stream;
    }

    /// <summary>Reads up to and including the blank line that ends the head, and parses it.</summary>
    public async Task<ResponseHead> ReadHeadAsync(CancellationToken cancellationToken)
    {
        var scanned = 0;
        while (true)
        {
            var end = _buffer.AsSpan(_start + scanned, _end - _start - scanned).IndexOf("\r\n\r\n"u8);
            if (end >= 0)
            {
                var length = scanned + end + 4;
                var head = ResponseHead.Parse(Encoding.Latin1.GetString(_buffer, _start, length - 4));
                _start += length;
                return head;
            }

            // The terminator may straddle the next read.
            scanned = Math.Max(0, _end - _start - 3);
            if (_end - _start >= UpstreamHandshake.MaxHeadBytes)
            {
                throw new InvalidUpstreamResponseException($"the upstream's response head is larger than {UpstreamHandshake.MaxHeadBytes / 1024} KiB");
            }

            if (await FillAsync(cancellationToken).ConfigureAwait(false) == 0)
            {
                throw new InvalidUpstreamResponseException(_end == _start
                    ? "the upstream closed the connection without answering the upgrade"
                    : "the upstream closed the connection in the middle of its response head");
            }
        }
    }

    /// <summary>
    /// Returns the upgraded stream. Bytes already read past the head (the upstream's first frames) are
    /// copied out and served first, so the pooled buffer can go back.
    /// </summary>
    public Stream TakeUpgradedStream()
    {
        if (_end == _start)
        {
            return _stream;
        }

        var early = _buffer.AsSpan(_start, _end - _start).ToArray();
        _start = _end;
        return new PrefixedStream(early, _stream);
    }

    /// <summary>Reads the body that follows a non-101 head, framed as in RFC 9112 section 6.3.</summary>
    public async Task<byte[]> ReadBodyAsync(ResponseHead head, CancellationToken cancellationToken)
    {
        if (head.StatusCode is < 200 or 204 or 304)
        {
            return Array.Empty<byte>();
        }

        if (head.Values("Transfer-Encoding").LastOrDefault() is { } coding)
        {
            return UpstreamHandshake.ListsToken(coding.Split(',')[^1], "chunked")
                ? await ReadChunkedAsync(cancellationToken).ConfigureAwait(false)
                : await ReadToEndAsync(cancellationToken).ConfigureAwait(false);
        }

        var lengths = head.Values("Content-Length").SelectMany(value => value.Split(',')).Select(value => value.Trim()).Distinct().ToList();
        if (lengths.Count == 0)
        {
            return await ReadToEndAsync(cancellationToken).ConfigureAwait(false);
        }

        if (lengths.Count > 1 || !long.TryParse(lengths[0], NumberStyles.None, CultureInfo.InvariantCulture, out var length))
        {
            throw new InvalidUpstreamResponseException($"the upstream's Content-Length '{string.Join(", ", lengths)}' is not one number");
        }

        CheckBodySize(length);
        var body = new byte[length];
        await ReadExactlyAsync(body, cancellationToken).ConfigureAwait(false);
        return body;
    }

    public void Dispose()
    {
        var buffer = Interlocked.Exchange(ref _buffer, Array.Empty<byte>());
        if (buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private async Task<byte[]> ReadChunkedAsync(CancellationToken cancellationToken)
    {
        var body = new MemoryStream();
        while (true)
        {
            var sizeLine = await ReadLineAsync(cancellationToken).ConfigureAwait(false);
            var sizeText = sizeLine.Split(';')[0].Trim();
            if (!long.TryParse(sizeText, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var size) || size < 0)
            {
                throw new InvalidUpstreamResponseException($"the upstream's chunk size '{sizeText}' is not a hexadecimal number");
            }

            if (size == 0)
            {
                // Trailer fields, if any, end with a blank line; they are not relayed.
                while ((await ReadLineAsync(cancellationToken).ConfigureAwait(false)).Length > 0)
                {
                }

                return body.ToArray();
            }

            CheckBodySize(body.Length + size);
            var chunk = new byte[size];
            await ReadExactlyAsync(chunk, cancellationToken).ConfigureAwait(false);
            body.Write(chunk);
            if ((await ReadLineAsync(cancellationToken).ConfigureAwait(false)).Length > 0)
            {
                throw new InvalidUpstreamResponseException("a chunk of the upstream's body is longer than its declared size");
            }
        }
    }

    private async Task<byte[]> ReadToEndAsync(CancellationToken cancellationToken)
    {
        var body = new MemoryStream();
        while (true)
        {
            if (_end > _start)
            {
                CheckBodySize(body.Length + _end - _start);
                body.Write(_buffer, _start, _end - _start);
                _start = _end;
            }

            if (await FillAsync(cancellationToken).ConfigureAwait(false) == 0)
            {
                return body.ToArray();
            }
        }
    }

    private async Task ReadExactlyAsync(byte[] target, CancellationToken cancellationToken)
    {
        var filled = 0;
        while (filled < target.Length)
        {
            if (_end == _start && await FillAsync(cancellationToken).ConfigureAwait(false) == 0)
            {
                throw new InvalidUpstreamResponseException($"the upstream closed the connection after {filled} of {target.Length} body bytes");
            }

            var count = Math.Min(target.Length - filled, _end - _start);
            _buffer.AsSpan(_start, count).CopyTo(target.AsSpan(filled));
            _start += count;
            filled += count;
        }
    }

    private async Task<string> ReadLineAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var end = _buffer.AsSpan(_start, _end - _start).IndexOf("\r\n"u8);
            if (end >= 0)
            {
                var line = Encoding.Latin1.GetString(_buffer, _start, end);
                _start += end + 2;
                return line;
            }

            if (_end - _start >= InitialBuffer)
            {
                throw new InvalidUpstreamResponseException($"a line of the upstream's chunked body is longer than {InitialBuffer} bytes");
            }

            if (await FillAsync(cancellationToken).ConfigureAwait(false) == 0)
            {
                throw new InvalidUpstreamResponseException("the upstream closed the connection in the middle of its chunked body");
            }
        }
    }

    /// <summary>Reads more bytes after the unread ones, moving or growing the buffer as needed; returns 0 at the end of the stream.</summary>
    private async Task<int> FillAsync(CancellationToken cancellationToken)
    {
        if (_start > 0)
        {
            _buffer.AsSpan(_start, _end - _start).CopyTo(_buffer);
            _end -= _start;
            _start = 0;
        }

        if (_end == _buffer.Length)
        {
            var larger = ArrayPool<byte>.Shared.Rent(_buffer.Length * 2);
            _buffer.AsSpan(0, _end).CopyTo(larger);
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = larger;
        }

        var read = await _stream.ReadAsync(_buffer.AsMemory(_end), cancellationToken).ConfigureAwait(false);
        _end += read;
        return read;
    }

    private static void CheckBodySize(long size)
    {
        if (size > UpstreamHandshake.MaxRejectionBodyBytes)
        {
            throw new InvalidUpstreamResponseException(
                $"the upstream refused the upgrade with a body larger than {UpstreamHandshake.MaxRejectionBodyBytes / (1024 * 1024)} MiB, more than the gateway relays");
        }
    }
}
