using System.Security.Cryptography;
using System.Text;

namespace Gateway.Actors.Keys;

/// <summary>Generates keys and public ids, and hashes key text for storage and lookup.</summary>
public static class KeyText
{
    private const string KeyPrefix = "gwk_";
    private const string IdPrefix = "key_";

    /// <summary>Generates a key with 256 random bits, URL-safe so it fits a query parameter or a cookie.</summary>
    public static string NewKey() => KeyPrefix + Base64Url(RandomNumberGenerator.GetBytes(32));

    /// <summary>Generates a public id: 96 random bits, unrelated to the key, safe to log.</summary>
    public static string NewId() => IdPrefix + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12));

    /// <summary>Returns the SHA-256 hash of <paramref name="key"/> as lowercase hex.</summary>
    public static string Hash(string key) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));

    private static string Base64Url(byte[] bytes) =>
        Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
