using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace Gateway.Actors.Resilience;

/// <summary>How an API keeps a client on one target.</summary>
public enum AffinityMode
{
    Off,

    /// <summary>A cookie set by the gateway names the target.</summary>
    Cookie,

    /// <summary>A hash of the client's IP address picks the target.</summary>
    ClientAddress,

    /// <summary>A hash of a query parameter's value picks the target.</summary>
    QueryParam,
}

/// <summary>Session affinity settings: the mode, and the cookie or query parameter it reads.</summary>
public sealed record AffinitySettings(AffinityMode Mode, string Name);

/// <summary>
/// The target a request prefers: a target named by an affinity cookie, or a key to hash over the
/// targets. Either falls back to normal balancing when its target is down.
/// </summary>
public sealed record TargetPreference(Uri? Target, string? HashKey);

/// <summary>
/// Affinity cookie values. A value is a digest of the API id and the target URL, so every gateway node
/// with the same configuration reads and writes the same values without sharing state.
/// </summary>
/// <remarks>
/// The value only selects among the API's own targets: a forged one either names a target the client
/// could have reached anyway or names none, which falls back to normal balancing.
/// </remarks>
public static class AffinityTokens
{
    public static string For(string apiId, Uri target) =>
        Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(apiId + "\n" + target.AbsoluteUri)), 0, 8).ToLowerInvariant();

    /// <summary>Finds the target whose value is <paramref name="token"/>; null when none is.</summary>
    public static Uri? Resolve(string apiId, IReadOnlyList<Uri> targets, string token)
    {
        foreach (var target in targets)
        {
            if (string.Equals(For(apiId, target), token, StringComparison.Ordinal))
            {
                return target;
            }
        }

        return null;
    }

    /// <summary>
    /// Weight of <paramref name="target"/> for <paramref name="key"/> in rendezvous hashing: the usable
    /// target with the highest weight wins, so a key keeps its target while that target is up, and only
    /// the keys of a target that goes down move.
    /// </summary>
    public static ulong Weight(string key, Uri target) =>
        BinaryPrimitives.ReadUInt64BigEndian(SHA256.HashData(Encoding.UTF8.GetBytes(key + "\n" + target.AbsoluteUri)));
}
