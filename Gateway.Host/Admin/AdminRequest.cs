using System.Globalization;
using System.Text;

namespace Gateway.Host.Admin;

/// <summary>Helpers shared by the admin API's resource endpoints.</summary>
internal static class AdminRequest
{
    /// <summary>Largest request body the admin API reads: definitions are small.</summary>
    private const int MaxBodyBytes = 1024 * 1024;

    /// <summary>Returns the id after <paramref name="prefix"/>, or null for the collection itself.</summary>
    public static string? IdAfter(PathString path, string prefix)
    {
        var rest = (path.Value ?? "")[prefix.Length..].Trim('/');
        return rest.Length == 0 ? null : Uri.UnescapeDataString(rest);
    }

    /// <exception cref="Actors.Configuration.ConfigException">The body is larger than 1 MiB or not UTF-8.</exception>
    public static async Task<string> ReadBodyAsync(HttpContext context)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await context.Request.Body.ReadAsync(chunk, context.RequestAborted)) > 0)
        {
            buffer.Write(chunk, 0, read);
            if (buffer.Length > MaxBodyBytes)
            {
                throw new Actors.Configuration.ConfigException(new[] { "the request body is larger than 1 MiB." });
            }
        }

        try
        {
            return new UTF8Encoding(false, true).GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
        }
        catch (DecoderFallbackException)
        {
            throw new Actors.Configuration.ConfigException(new[] { "the request body is not valid UTF-8." });
        }
    }

    /// <summary>Formats a duration the way the configuration reads it back, such as "1s" or "3600s".</summary>
    public static string Duration(TimeSpan duration) =>
        duration.TotalMilliseconds % 1000 == 0
            ? ((long)duration.TotalSeconds).ToString(CultureInfo.InvariantCulture) + "s"
            : ((long)duration.TotalMilliseconds).ToString(CultureInfo.InvariantCulture) + "ms";
}
