namespace Gateway.Actors.Connections;

/// <summary>When bytes last passed in either direction of a tunnel; both pumps touch it on every read.</summary>
public sealed class ActivityMeter
{
    private long _lastTicks = Environment.TickCount64;

    public void Touch() => Volatile.Write(ref _lastTicks, Environment.TickCount64);

    public TimeSpan IdleFor => TimeSpan.FromMilliseconds(Environment.TickCount64 - Volatile.Read(ref _lastTicks));
}
