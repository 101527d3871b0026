using System.Buffers.Binary;
using System.Diagnostics;
using System.Net.WebSockets;
using System.Runtime.InteropServices;
using Gateway.Bench.Client;
using HdrHistogram;

namespace Gateway.Bench.Scenarios;

/// <summary>
/// Round-trip latency at a fixed message rate, measured open-loop: sends are scheduled by the clock,
/// round-robin over the connections, and each message carries its intended send time. Latency runs
/// from that intended time to the echo's arrival, so a stall in the proxy delays every message that
/// was due during it and shows in the percentiles instead of being hidden by a late send.
/// </summary>
public static class LatencyScenario
{
    public static async Task<Dictionary<string, double>> RunAsync(Uri url, int connections, int rate, int size, TimeSpan warmup, TimeSpan duration)
    {
        size = Math.Max(size, sizeof(long));
        var sockets = await WebSocketConnector.ConnectManyAsync(url, connections, parallel: 64, CancellationToken.None);
        var histograms = Enumerable.Range(0, connections)
            .Select(_ => new LongHistogram(TimeStamp.Seconds(60), 3))
            .ToArray();
        var received = new long[connections];
        long sent = 0;
        long measuredFrom = 0;

        async Task ReceiveLoop(int index)
        {
            var socket = sockets[index];
            var buffer = new byte[size];
            try
            {
                while (true)
                {
                    await WebSocketConnector.ReceiveMessageAsync(socket, buffer, CancellationToken.None);
                    var now = Stopwatch.GetTimestamp();
                    var intended = BinaryPrimitives.ReadInt64LittleEndian(buffer);
                    if (intended >= Volatile.Read(ref measuredFrom))
                    {
                        histograms[index].RecordValue(Math.Max(0, now - intended));
                    }

                    Interlocked.Increment(ref received[index]);
                }
            }
            catch (Exception error) when (error is WebSocketException or IOException or OperationCanceledException)
            {
                // The socket closed at the end of the run.
            }
        }

        var receivers = Enumerable.Range(0, connections).Select(index => Task.Run(() => ReceiveLoop(index))).ToArray();
        var sendTasks = new Task[connections];
        Array.Fill(sendTasks, Task.CompletedTask);

        // A dedicated thread keeps the schedule; nanosleep wakes it within tens of microseconds, where a
        // timer-based delay would add about a millisecond of its own jitter.
        var ticksPerSend = Stopwatch.Frequency / (double)rate;
        var start = Stopwatch.GetTimestamp();
        var measureStart = start + (long)(warmup.TotalSeconds * Stopwatch.Frequency);
        var end = measureStart + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        Volatile.Write(ref measuredFrom, measureStart);
        var sender = new Thread(() =>
        {
            for (long k = 0; ; k++)
            {
                var due = start + (long)(k * ticksPerSend);
                if (due >= end)
                {
                    break;
                }

                SleepUntil(due);
                var index = (int)(k % connections);
                var message = new byte[size];
                BinaryPrimitives.WriteInt64LittleEndian(message, due);
                var socket = sockets[index];
                var previous = sendTasks[index];
                sendTasks[index] = previous.IsCompleted
                    ? socket.SendAsync(message, WebSocketMessageType.Binary, true, CancellationToken.None)
                    : previous.ContinueWith(_ => socket.SendAsync(message, WebSocketMessageType.Binary, true, CancellationToken.None)).Unwrap();
                Interlocked.Increment(ref sent);
            }
        }) { IsBackground = true, Name = "latency schedule" };
        sender.Start();
        await Task.Run(sender.Join);
        await Task.WhenAll(sendTasks);

        // Wait for the last echoes, then close.
        var deadline = Stopwatch.GetTimestamp() + 5 * Stopwatch.Frequency;
        while (received.Sum() < Interlocked.Read(ref sent) && Stopwatch.GetTimestamp() < deadline)
        {
            await Task.Delay(10);
        }

        var lost = Interlocked.Read(ref sent) - received.Sum();
        await WebSocketConnector.CloseAllAsync(sockets);
        await Task.WhenAll(receivers);

        var merged = new LongHistogram(TimeStamp.Seconds(60), 3);
        foreach (var histogram in histograms)
        {
            merged.Add(histogram);
        }

        // HdrHistogram rejects percentile queries on an empty histogram, which a window without a single
        // completed echo leaves.
        double Microseconds(double percentile) =>
            merged.TotalCount == 0 ? double.NaN : merged.GetValueAtPercentile(percentile) * 1e6 / Stopwatch.Frequency;
        return new Dictionary<string, double>
        {
            ["p50Us"] = Microseconds(50),
            ["p99Us"] = Microseconds(99),
            ["p999Us"] = Microseconds(99.9),
            ["maxUs"] = merged.GetMaxValue() * 1e6 / Stopwatch.Frequency,
            ["samples"] = merged.TotalCount,
            ["lostMessages"] = lost,
        };
    }

    private static void SleepUntil(long due)
    {
        var remaining = due - Stopwatch.GetTimestamp();
        if (remaining <= 0)
        {
            return;
        }

        var nanoseconds = (long)(remaining * (1e9 / Stopwatch.Frequency));
        var request = new TimeSpec { Seconds = nanoseconds / 1_000_000_000, Nanoseconds = nanoseconds % 1_000_000_000 };
        _ = NanoSleep(ref request, IntPtr.Zero);
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [DllImport("libc", EntryPoint = "nanosleep", SetLastError = true)]
    private static extern int NanoSleep(ref TimeSpec request, IntPtr remaining);
}
