using System.IO.Pipelines;
using Gateway.Actors.Connections;

namespace Gateway.Tests.Support;

/// <summary>
/// An upgraded client connection held in memory: the test writes what the client sends into
/// <see cref="ToGateway"/> and reads what the gateway sends from <see cref="FromGateway"/>.
/// </summary>
public sealed class InMemoryClient : IClientConnection
{
    private readonly Pipe _toGateway = new();
    private readonly Pipe _fromGateway = new();
    private readonly TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public InMemoryClient()
    {
        Stream = new DuplexStream(_toGateway.Reader.AsStream(), _fromGateway.Writer.AsStream());
        ToGateway = _toGateway.Writer.AsStream();
        FromGateway = _fromGateway.Reader.AsStream();
    }

    public Stream Stream { get; }

    public Stream ToGateway { get; }

    public Stream FromGateway { get; }

    public Task Closed => _closed.Task;

    public void Close()
    {
        _fromGateway.Writer.Complete();
        _toGateway.Reader.Complete();
        _closed.TrySetResult();
    }

    /// <summary>Ends the client's side as a vanished client would: end of stream, no close frame.</summary>
    public void Vanish() => _toGateway.Writer.Complete();

    private sealed class DuplexStream : Stream
    {
        private readonly Stream _read;
        private readonly Stream _write;

        public DuplexStream(Stream read, Stream write)
        {
            _read = read;
            _write = write;
        }

        public override bool CanRead => true;
        public override bool CanWrite => true;
        public override bool CanSeek => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            _read.ReadAsync(buffer, cancellationToken);

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) =>
            _write.WriteAsync(buffer, cancellationToken);

        public override Task FlushAsync(CancellationToken cancellationToken) => _write.FlushAsync(cancellationToken);
        public override void Flush() => _write.Flush();
        public override int Read(byte[] buffer, int offset, int count) => _read.Read(buffer, offset, count);
        public override void Write(byte[] buffer, int offset, int count) => _write.Write(buffer, offset, count);
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
