using System.Buffers;
using Gateway.Actors.Limits;

namespace Gateway.Actors.Connections;

/// <summary>How a pump ended.</summary>
public enum PumpEnd
{
    /// <summary>The source closed its side cleanly (a read returned 0 bytes).</summary>
    SourceClosed,

    /// <summary>Reading the source failed: reset, abort, or the stream was disposed.</summary>
    SourceFailed,

    /// <summary>Writing to the destination failed.</summary>
    DestinationFailed,

    /// <summary>A stop was requested and the pump stopped at a frame boundary.</summary>
    Stopped,

    /// <summary>A message broke the size limit; bytes up to the frame that broke it were forwarded.</summary>
    MessageTooBig,
}

/// <summary>What one pump did before it ended.</summary>
public sealed record PumpResult(PumpEnd End, long Bytes, Exception? Error, bool AtFrameBoundary);

/// <summary>
/// Copies bytes from one stream to another, unchanged, in one direction of a WebSocket tunnel.
/// </summary>
/// <remarks>
/// Each read is preceded by a zero-byte read, and the pooled buffer is rented only when data is ready and
/// returned after each write, so an idle connection holds no buffer. A write that has not finished
/// means no next read, which is the backpressure: a destination that stops reading stalls its source,
/// and the gateway holds at most one buffer per direction.
/// </remarks>
public sealed class Pump
{
    // 16 KiB matches the largest TLS record, so one read drains one record.
    public const int DefaultBufferSize = 16 * 1024;

    private readonly Stream _source;
    private readonly Stream _destination;
    private readonly FrameObserver _observer;
    private readonly int _bufferSize;
    private readonly MessageRatePacer? _pacer;
    private readonly ActivityMeter? _activity;
    private readonly CancellationTokenSource _idleRead = new();
    private volatile bool _stopRequested;
    private long _bytes;

    /// <param name="pacer">Optional message rate: after each complete data message the pump waits for it before going on.</param>
    public Pump(Stream source, Stream destination, FrameObserver observer, ActivityMeter? activity = null, int bufferSize = DefaultBufferSize, MessageRatePacer? pacer = null)
    {
        _activity = activity;
        _source = source;
        _destination = destination;
        _observer = observer;
        _bufferSize = bufferSize;
        _pacer = pacer;
    }

    public FrameObserver Observer => _observer;

    public long Bytes => Interlocked.Read(ref _bytes);

    /// <summary>
    /// Asks the pump to stop at the next frame boundary. An idle pump that is between frames stops at
    /// once; otherwise it forwards the rest of the current frame first.
    /// </summary>
    public void RequestStop()
    {
        _stopRequested = true;
        _idleRead.Cancel();
    }

    /// <summary>Copies until the source ends, a write fails, a stop request is served or a limit is broken.</summary>
    /// <remarks>
    /// The stop token source is never disposed: it has no timer and no linked tokens, so the collector
    /// reclaims it like any object, and an idle connection does not keep a second state machine for a
    /// finally block.
    /// </remarks>
    public async Task<PumpResult> RunAsync()
    {
        while (true)
        {
            if (_stopRequested && _observer.AtFrameBoundary)
            {
                return Result(PumpEnd.Stopped, null);
            }

            // 1. Wait for data without holding a buffer. Only this wait is cancelled by a stop request:
            //    a read that has data is always forwarded up to a frame boundary.
            try
            {
                await _source.ReadAsync(Memory<byte>.Empty, _stopRequested ? CancellationToken.None : _idleRead.Token)
                    .ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (_stopRequested)
            {
                if (_observer.AtFrameBoundary)
                {
                    return Result(PumpEnd.Stopped, null);
                }

                // In the middle of a frame: keep forwarding until it ends. A peer that stalls here is cut
                // by the leg's stop deadline, which disposes the streams.
                continue;
            }
            catch (Exception error)
            {
                return Result(PumpEnd.SourceFailed, error);
            }

            // 2. Read what is there into a pooled buffer.
            var buffer = ArrayPool<byte>.Shared.Rent(_bufferSize);
            try
            {
                int read;
                try
                {
                    read = await _source.ReadAsync(buffer.AsMemory(0, _bufferSize)).ConfigureAwait(false);
                }
                catch (Exception error)
                {
                    return Result(PumpEnd.SourceFailed, error);
                }

                if (read == 0)
                {
                    return Result(PumpEnd.SourceClosed, null);
                }

                _activity?.Touch();

                // 3. Let the observer see the frames and decide how much may pass. With a pacer, the
                //    observer stops after each message, so the data is forwarded a message at a time.
                var offset = 0;
                while (offset < read)
                {
                    var observed = _observer.Observe(buffer.AsSpan(offset, read - offset), _stopRequested, stopAfterMessage: _pacer is not null);

                    // 4. Forward unchanged.
                    if (observed.Forward > 0)
                    {
                        try
                        {
                            await _destination.WriteAsync(buffer.AsMemory(offset, observed.Forward)).ConfigureAwait(false);
                        }
                        catch (Exception error)
                        {
                            return Result(PumpEnd.DestinationFailed, error);
                        }

                        Interlocked.Add(ref _bytes, observed.Forward);
                        offset += observed.Forward;
                    }

                    switch (observed.Stop)
                    {
                        case ObserveStop.AtBoundary:
                            return Result(PumpEnd.Stopped, null);
                        case ObserveStop.MessageTooBig:
                            return Result(PumpEnd.MessageTooBig, null, observed.EndsAtBoundary);
                        case ObserveStop.MessageComplete when !await WaitForPacerAsync().ConfigureAwait(false):
                            return Result(PumpEnd.Stopped, null);
                        case ObserveStop.None:
                            offset = read;
                            break;
                    }
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }

    /// <summary>Waits for the pacer; returns false when a stop request ended the wait, at a message boundary.</summary>
    private async Task<bool> WaitForPacerAsync()
    {
        try
        {
            await _pacer!.WaitForMessageAsync(_stopRequested ? new CancellationToken(true) : _idleRead.Token).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException) when (_stopRequested)
        {
            return false;
        }
    }

    private PumpResult Result(PumpEnd end, Exception? error, bool? atBoundary = null) =>
        new(end, Bytes, error, atBoundary ?? _observer.AtFrameBoundary);
}
