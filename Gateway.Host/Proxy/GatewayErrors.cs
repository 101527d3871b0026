using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using Gateway.Actors.Connections;
using Gateway.Actors.Limits;

namespace Gateway.Host.Proxy;

/// <summary>
/// Writes the errors the gateway produces itself as JSON <c>{"error": "..."}</c>, mapping each
/// <see cref="ForwardingOutcome"/> to one status code here and nowhere else.
/// </summary>
public static class GatewayErrors
{
    // Relaxed escaping keeps quotes and apostrophes readable in messages; the body is never HTML.
    private static readonly JsonSerializerOptions JsonOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static int StatusCode(ForwardingOutcome outcome) => outcome switch
    {
        ForwardingOutcome.NoRoute => StatusCodes.Status404NotFound,
        ForwardingOutcome.WebSocketsDisabled => StatusCodes.Status400BadRequest,
        ForwardingOutcome.InvalidUpgrade => StatusCodes.Status400BadRequest,
        ForwardingOutcome.UnsupportedWebSocketVersion => StatusCodes.Status426UpgradeRequired,
        ForwardingOutcome.ConnectionLimitReached => StatusCodes.Status429TooManyRequests,
        ForwardingOutcome.UpstreamUnreachable => StatusCodes.Status502BadGateway,
        ForwardingOutcome.UpstreamTlsFailed => StatusCodes.Status502BadGateway,
        ForwardingOutcome.UpstreamInvalidResponse => StatusCodes.Status502BadGateway,
        ForwardingOutcome.UpstreamTimedOut => StatusCodes.Status504GatewayTimeout,
        ForwardingOutcome.ShuttingDown => StatusCodes.Status503ServiceUnavailable,
        ForwardingOutcome.GatewayAtCapacity => StatusCodes.Status503ServiceUnavailable,
        ForwardingOutcome.CircuitOpen => StatusCodes.Status503ServiceUnavailable,
        ForwardingOutcome.AllTargetsDown => StatusCodes.Status503ServiceUnavailable,
        ForwardingOutcome.CredentialsMissing => StatusCodes.Status401Unauthorized,
        ForwardingOutcome.CredentialsExpired => StatusCodes.Status401Unauthorized,
        ForwardingOutcome.KeyInvalid => StatusCodes.Status403Forbidden,
        ForwardingOutcome.AccessDenied => StatusCodes.Status403Forbidden,
        ForwardingOutcome.QuotaExceeded => StatusCodes.Status403Forbidden,
        ForwardingOutcome.RateLimited => StatusCodes.Status429TooManyRequests,
        _ => StatusCodes.Status500InternalServerError,
    };

    /// <param name="retryAfter">Sent as Retry-After, rounded up to whole seconds, when given.</param>
    public static Task WriteAsync(HttpContext context, ForwardingOutcome outcome, string message, TimeSpan? retryAfter = null)
    {
        var response = context.Response;
        response.Clear();
        response.StatusCode = StatusCode(outcome);

        // One line per refusal, so an operator sees clients turned away: a warning when the gateway or an
        // upstream is the cause, debug for client errors and limits, which a flood of requests could
        // turn into a flood of lines. The query string stays out of the log: it may carry a credential.
        var logger = context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(GatewayErrors));
        logger.Log(response.StatusCode >= 500 ? LogLevel.Warning : LogLevel.Debug,
            "{Method} {Path} from {ClientAddress}: {StatusCode} ({Outcome}): {Error}",
            context.Request.Method, context.Request.Path.Value, ForwardedHeaders.ClientAddress(context), response.StatusCode, outcome, message);
        if (outcome is ForwardingOutcome.ConnectionLimitReached or ForwardingOutcome.GatewayAtCapacity)
        {
            retryAfter ??= TimeSpan.FromSeconds(1);
        }

        if (outcome == ForwardingOutcome.UnsupportedWebSocketVersion)
        {
            response.Headers.SecWebSocketVersion = "13";
        }

        if (retryAfter is { } delay)
        {
            response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(delay.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
        }

        if (outcome is ForwardingOutcome.CredentialsMissing or ForwardingOutcome.CredentialsExpired)
        {
            response.Headers.WWWAuthenticate = "Bearer";
        }

        return WriteJsonAsync(context, response.StatusCode, message);
    }

    /// <summary>
    /// Writes a rejection by a rate limit or quota: Retry-After, and X-RateLimit-Limit, -Remaining and
    /// -Reset (Unix time in seconds when the window renews), besides the JSON error.
    /// </summary>
    public static Task WriteAsync(HttpContext context, ForwardingOutcome outcome, string message, LimitDecision limit)
    {
        if (limit.IsAllowed)
        {
            return WriteAsync(context, outcome, message);
        }

        var response = context.Response;
        response.Clear();
        response.StatusCode = StatusCode(outcome);
        var seconds = Math.Max(1, (long)Math.Ceiling(limit.RetryAfter.TotalSeconds));
        response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        response.Headers["X-RateLimit-Limit"] = limit.Limit.ToString(CultureInfo.InvariantCulture);
        response.Headers["X-RateLimit-Remaining"] = limit.Remaining.ToString(CultureInfo.InvariantCulture);
        response.Headers["X-RateLimit-Reset"] = (DateTimeOffset.UtcNow.ToUnixTimeSeconds() + seconds).ToString(CultureInfo.InvariantCulture);
        return WriteJsonAsync(context, response.StatusCode, message);
    }

    public static async Task WriteJsonAsync(HttpContext context, int statusCode, string message)
    {
        var response = context.Response;
        response.StatusCode = statusCode;
        response.ContentType = "application/json; charset=utf-8";
        response.Headers.CacheControl = "no-store";
        await JsonSerializer.SerializeAsync(response.Body, new ErrorBody(message), JsonOptions, context.RequestAborted);
    }

    private sealed record ErrorBody(string error);
}
