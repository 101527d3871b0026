using System.Globalization;
using System.Net;

namespace Gateway.Actors.Connections;

/// <summary>The status line and header fields of an upstream's response, as they came.</summary>
internal sealed record ResponseHead(int StatusCode, string ReasonPhrase, IReadOnlyList<KeyValuePair<string, string>> Headers)
{
    /// <summary>Parses the head's text, without the blank line that ends it.</summary>
    public static ResponseHead Parse(string text)
    {
        var lines = text.Split("\r\n");
        var status = lines[0];

        // RFC 9112 section 4: HTTP-version SP 3DIGIT SP [reason-phrase].
        if (!status.StartsWith("HTTP/1.", StringComparison.Ordinal) || status.Length < 12 || status[8] != ' '
            || !int.TryParse(status.AsSpan(9, 3), NumberStyles.None, CultureInfo.InvariantCulture, out var code)
            || code < 100 || (status.Length > 12 && status[12] != ' '))
        {
            throw new InvalidUpstreamResponseException($"the upstream's status line \"{Shorten(status)}\" is not HTTP/1.1");
        }

        var headers = new List<KeyValuePair<string, string>>(lines.Length - 1);
        foreach (var line in lines.AsSpan(1))
        {
            var colon = line.IndexOf(':');
            if (colon <= 0 || line.AsSpan(0, colon).IndexOfAny(" \t") >= 0)
            {
                throw new InvalidUpstreamResponseException($"the upstream's header line \"{Shorten(line)}\" is not 'name: value'");
            }

            headers.Add(new(line[..colon], line[(colon + 1)..].Trim(' ', '\t')));
        }

        return new ResponseHead(code, status.Length > 13 ? status[13..] : "", headers);
    }

    public IEnumerable<string> Values(string name) =>
        Headers.Where(header => UpstreamHandshake.IsNamed(header, name)).Select(header => header.Value);

    /// <summary>Builds the response to relay to the client, with the body already read.</summary>
    public HttpResponseMessage ToResponseMessage(byte[] body, Uri target)
    {
        var response = new HttpResponseMessage((HttpStatusCode)StatusCode)
        {
            ReasonPhrase = ReasonPhrase,
            Content = new ByteArrayContent(body),
            RequestMessage = new HttpRequestMessage(HttpMethod.Get, target),
        };
        // The body is no longer framed as the upstream framed it: it was read whole, so its length is known.
        response.Content.Headers.ContentLength = body.Length;
        foreach (var header in Headers)
        {
            if (UpstreamHandshake.IsNamed(header, "Transfer-Encoding") || UpstreamHandshake.IsNamed(header, "Content-Length"))
            {
                continue;
            }

            if (!response.Headers.TryAddWithoutValidation(header.Key, header.Value))
            {
                response.Content.Headers.TryAddWithoutValidation(header.Key, header.Value);
            }
        }

        return response;
    }

    private static string Shorten(string text) => text.Length <= 80 ? text : text[..80] + "...";
}
