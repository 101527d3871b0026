using System.Net.Http.Headers;
using System.Security.Cryptography;
using Akka.Actor;
using Gateway.Actors.Connections;
using Gateway.Actors.Routing;
using Gateway.Host.Hosting;
using Microsoft.AspNetCore.Http.Features;
using static Gateway.Actors.Connections.ConnectionProtocol;

namespace Gateway.Host.Proxy;

/// <summary>
/// Proxies one WebSocket upgrade: has the API actor send it upstream, relays the response, and on a
/// 101 upgrades the client and hands the connection to the actor pair.
/// </summary>
/// <remarks>
/// Clients open WebSockets with an HTTP/1.1 upgrade (RFC 6455) or, over HTTP/2, with an extended
/// CONNECT whose :protocol is websocket (RFC 8441). Both become the same HTTP/1.1 upgrade upstream.
/// Steps:
/// 1. Check the handshake and build the upstream request (hop-by-hop headers out, Host and X-Forwarded-* in).
/// 2. Ask the API actor to admit the connection and send the handshake; it replies with the outcome.
/// 3. Relay a non-101 answer as it is, or an error as JSON.
/// 4. On a 101, lift the request limits that would cut a long-lived connection, relay the headers and
///    upgrade the HTTP/1.1 connection, or accept the HTTP/2 CONNECT with a 200.
/// 5. Attach the client to the upstream leg and wait until the pair closes the client side.
/// </remarks>
public sealed class WebSocketProxy
{
    private static long s_nextConnectionId;

    private readonly ILogger<WebSocketProxy> _logger;
    private readonly SessionAffinity _affinity;
    private readonly WebSocketCapacity _capacity;

    public WebSocketProxy(ILogger<WebSocketProxy> logger, SessionAffinity affinity, WebSocketCapacity capacity)
    {
        _logger = logger;
        _affinity = affinity;
        _capacity = capacity;
    }

    /// <summary>
    /// True for a WebSocket opening request: an HTTP/1.1 upgrade (Connection lists "upgrade" and Upgrade
    /// lists "websocket") or an HTTP/2 extended CONNECT with :protocol websocket.
    /// </summary>
    public static bool IsUpgrade(HttpRequest request) =>
        IsExtendedConnect(request.HttpContext)
        || (ForwardedHeaders.HasToken(request.Headers.Connection, "upgrade")
            && ForwardedHeaders.HasToken(request.Headers.Upgrade, "websocket"));

    private static bool IsExtendedConnect(HttpContext context) =>
        context.Features.Get<IHttpExtendedConnectFeature>() is { IsExtendedConnect: true } connect
        && string.Equals(connect.Protocol, "websocket", StringComparison.OrdinalIgnoreCase);

    /// <param name="path">The request path, percent-encoded as it came on the wire.</param>
    /// <param name="query">The raw query string, empty or starting with '?'.</param>
    /// <param name="access">The key the upgrade was authenticated with and its connection limits; null for none.</param>
    public async Task ProxyAsync(HttpContext context, ApiRoute route, string path, string query, ConnectionAccess? access = null)
    {
        var api = route.Definition;

        // 1. Check the handshake and build the upstream request.
        var overHttp2 = IsExtendedConnect(context);
        var upgradeFeature = context.Features.Get<IHttpUpgradeFeature>();
        var problem = overHttp2 ? ValidateExtendedConnect(context.Request) : ValidateHandshake(context.Request);
        if (!overHttp2 && problem is null && upgradeFeature is not { IsUpgradableRequest: true })
        {
            problem = "the connection cannot be upgraded (WebSocket upgrades need HTTP/1.1)";
        }

        if (problem is null && HasUnsupportedVersion(context.Request))
        {
            // RFC 6455 section 4.4: respond 426 and name the version the server speaks.
            await GatewayErrors.WriteAsync(context, ForwardingOutcome.UnsupportedWebSocketVersion,
                $"API '{api.Name}' speaks WebSocket version 13 only, and the request asked for version {context.Request.Headers.SecWebSocketVersion}. Send 'Sec-WebSocket-Version: 13'.");
            return;
        }

        if (problem is not null)
        {
            var expected = overHttp2
                ? "Send a CONNECT with ':protocol: websocket' and 'Sec-WebSocket-Version: 13'."
                : "Send a GET with 'Connection: Upgrade', 'Upgrade: websocket', Sec-WebSocket-Key and 'Sec-WebSocket-Version: 13'.";
            await GatewayErrors.WriteAsync(context, ForwardingOutcome.InvalidUpgrade,
                $"Invalid WebSocket upgrade for API '{api.Name}': {problem}. {expected}");
            return;
        }

        if (!_capacity.TryAcquire())
        {
            await GatewayErrors.WriteAsync(context, ForwardingOutcome.GatewayAtCapacity,
                $"The gateway is at its limit of {_capacity.Limit} concurrent WebSocket connections " +
                "(gateway.max-websocket-connections; each connection takes two open files). Retry later.");
            return;
        }

        try
        {
            await ProxyWithinCapacityAsync(context, route, path, query, access, overHttp2, upgradeFeature);
        }
        finally
        {
            _capacity.Release();
        }
    }

    private async Task ProxyWithinCapacityAsync(
        HttpContext context, ApiRoute route, string path, string query, ConnectionAccess? access, bool overHttp2, IHttpUpgradeFeature? upgradeFeature)
    {
        var api = route.Definition;
        var connectionId = Interlocked.Increment(ref s_nextConnectionId).ToString("x8");
        var headers = BuildHeaders(context);
        if (overHttp2)
        {
            // RFC 8441 section 5: an HTTP/2 client sends no Sec-WebSocket-Key, because the stream itself
            // proves the server speaks WebSocket. The HTTP/1.1 upstream needs one, so the gateway generates it.
            headers.Add(new("Sec-WebSocket-Key", new[] { Convert.ToBase64String(RandomNumberGenerator.GetBytes(16)) }));
        }

        var preservedHost = api.PreserveHostHeader && context.Request.Host.HasValue ? context.Request.Host.Value : null;
        var request = new UpgradeRequest(path, query, headers, preservedHost, ForwardedHeaders.ClientAddress(context),
            _affinity.Resolve(context, route));

        // 2. Admit and send upstream. The actor enforces the handshake timeout; the margin here only
        //    guards against a lost reply.
        var completion = new TaskCompletionSource<ConnectionSummary>(TaskCreationOptions.RunContinuationsAsynchronously);
        object answer;
        try
        {
            answer = await route.Actor.Ask(
                new OpenConnection(connectionId, request, completion, access),
                api.Timeouts.Handshake + api.Timeouts.Connect + TimeSpan.FromSeconds(5),
                context.RequestAborted);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            return;
        }

        // 3. Relay anything but a 101.
        switch (answer)
        {
            case UpstreamRejected rejected when overHttp2 && (int)rejected.Response.StatusCode is >= 200 and < 300:
                // A 2xx response to an extended CONNECT tells the client that the WebSocket is open, so an
                // upstream's 200 to the upgrade cannot be relayed unchanged over HTTP/2.
                using (rejected.Response)
                {
                    _logger.LogWarning("Connection {ConnectionId}: upstream {Upstream} answered the upgrade with {StatusCode} instead of 101",
                        connectionId, rejected.Response.RequestMessage?.RequestUri, (int)rejected.Response.StatusCode);
                    await GatewayErrors.WriteAsync(context, ForwardingOutcome.UpstreamInvalidResponse,
                        $"The upstream of API '{api.Name}' answered the WebSocket upgrade with {(int)rejected.Response.StatusCode} instead of 101.");
                }

                return;
            case UpstreamRejected rejected:
                using (rejected.Response)
                {
                    await RelayResponseAsync(context, rejected.Response);
                }

                return;
            case UpstreamFailed failed:
                await GatewayErrors.WriteAsync(context, failed.Outcome, UpstreamFailureMessage(api.Name, failed));
                return;
            case ConnectionRefused refused:
                await GatewayErrors.WriteAsync(context, refused.Outcome, $"WebSocket connection to API '{api.Name}' refused: {refused.Detail}.");
                return;
            case not UpstreamAccepted:
                throw new InvalidOperationException($"Unexpected answer {answer.GetType().Name} to OpenConnection.");
        }

        // 4. Relay the 101 and upgrade the client.
        var accepted = (UpstreamAccepted)answer;
        Stream clientStream;
        try
        {
            LiftRequestLimits(context);
            foreach (var header in accepted.Headers)
            {
                // Sec-WebSocket-Accept is computed from the key the gateway generated for an HTTP/2
                // client, which expects no such header (RFC 8441 section 5).
                if (!(overHttp2 && string.Equals(header.Key, "Sec-WebSocket-Accept", StringComparison.OrdinalIgnoreCase)))
                {
                    context.Response.Headers[header.Key] = header.Value;
                }
            }

            SessionAffinity.SetCookie(context, route, accepted.Target);
            if (overHttp2)
            {
                clientStream = await context.Features.Get<IHttpExtendedConnectFeature>()!.AcceptAsync();
            }
            else
            {
                // Kestrel's upgrade sends 'Connection: Upgrade' but not the Upgrade header that clients require.
                context.Response.Headers.Upgrade = "websocket";
                clientStream = await upgradeFeature!.UpgradeAsync();
            }
        }
        catch (Exception error)
        {
            _logger.LogDebug(error, "Connection {ConnectionId}: upgrading the client failed; closing the upstream", connectionId);
            accepted.UpstreamLeg.Tell(new AbandonConnection(connectionId));
            throw;
        }

        // 5. Hand over the client and hold the request open until the pair closes the client side. The
        //    request's headers (cookies, user agent) would stay in memory as long, and nothing reads them now.
        context.Request.Headers.Clear();
        var client = new UpgradedClient(clientStream);
        accepted.UpstreamLeg.Tell(new AttachClient(connectionId, client));
        await client.Closed;
    }

    private static string? ValidateHandshake(HttpRequest request)
    {
        if (!HttpMethods.IsGet(request.Method))
        {
            return $"the method is {request.Method}, not GET";
        }

        if (!HttpProtocol.IsHttp11(request.Protocol))
        {
            return $"the request is {request.Protocol}, and WebSocket upgrades need HTTP/1.1";
        }

        var key = request.Headers.SecWebSocketKey.ToString();
        if (string.IsNullOrWhiteSpace(key))
        {
            return "the Sec-WebSocket-Key header is missing";
        }

        // RFC 6455 section 4.1: the key is 16 random bytes, base64-encoded.
        Span<byte> decoded = stackalloc byte[24];
        if (!Convert.TryFromBase64String(key.Trim(), decoded, out var length) || length != 16)
        {
            return $"the Sec-WebSocket-Key \"{key}\" is not 16 bytes in base64";
        }

        if (string.IsNullOrWhiteSpace(request.Headers.SecWebSocketVersion))
        {
            return "the Sec-WebSocket-Version header is missing";
        }

        return null;
    }

    /// <summary>True when the client asks for a WebSocket version other than 13, the only one RFC 6455 defines.</summary>
    private static bool HasUnsupportedVersion(HttpRequest request) =>
        !string.IsNullOrWhiteSpace(request.Headers.SecWebSocketVersion) && request.Headers.SecWebSocketVersion.ToString().Trim() != "13";

    private static string? ValidateExtendedConnect(HttpRequest request)
    {
        if (string.IsNullOrWhiteSpace(request.Headers.SecWebSocketVersion))
        {
            return "the Sec-WebSocket-Version header is missing";
        }

        return null;
    }

    private static List<KeyValuePair<string, string[]>> BuildHeaders(HttpContext context)
    {
        var headers = new List<KeyValuePair<string, string[]>>();
        foreach (var header in context.Request.Headers)
        {
            if (!ForwardedHeaders.NotForwarded.Contains(header.Key) && !header.Key.StartsWith(':'))
            {
                headers.Add(new(header.Key, header.Value.ToArray()!));
            }
        }

        // RFC 6455 section 4.1: exactly these two tokens, whatever the client's Connection list held.
        headers.Add(new("Connection", new[] { "Upgrade" }));
        headers.Add(new("Upgrade", new[] { "websocket" }));

        var scratch = new HttpRequestMessage().Headers;
        ForwardedHeaders.Apply(scratch, context);
        headers.AddRange(scratch.Select(header => new KeyValuePair<string, string[]>(header.Key, header.Value.ToArray())));
        return headers;
    }

    private static void LiftRequestLimits(HttpContext context)
    {
        // Kestrel's request limits are meant for ordinary requests; a WebSocket lives for hours and may
        // be idle for long stretches, so neither the body size nor the minimum data rates apply.
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } bodySize)
        {
            bodySize.MaxRequestBodySize = null;
        }

        // Over HTTP/2 the WebSocket is the CONNECT request's body and response body, so the same limits apply.
        if (context.Features.Get<Microsoft.AspNetCore.Server.Kestrel.Core.Features.IHttpMinRequestBodyDataRateFeature>() is { } requestRate)
        {
            requestRate.MinDataRate = null;
        }

        if (context.Features.Get<Microsoft.AspNetCore.Server.Kestrel.Core.Features.IHttpMinResponseDataRateFeature>() is { } responseRate)
        {
            responseRate.MinDataRate = null;
        }
    }

    private static async Task RelayResponseAsync(HttpContext context, HttpResponseMessage response)
    {
        context.Response.StatusCode = (int)response.StatusCode;
        CopyHeaders(response.Headers, context.Response.Headers);
        CopyHeaders(response.Content.Headers, context.Response.Headers);
        await response.Content.CopyToAsync(context.Response.Body, context.RequestAborted);
    }

    private static void CopyHeaders(HttpHeaders from, IHeaderDictionary to)
    {
        foreach (var header in from)
        {
            if (!ForwardedHeaders.NotForwarded.Contains(header.Key))
            {
                to[header.Key] = header.Value.ToArray();
            }
        }
    }

    private static string UpstreamFailureMessage(string apiName, UpstreamFailed failed) => failed.Outcome switch
    {
        ForwardingOutcome.UpstreamTimedOut =>
            $"The upstream of API '{apiName}' timed out: {failed.Detail}. Retry later, or ask the operator to check the upstream.",
        ForwardingOutcome.UpstreamTlsFailed =>
            $"TLS to the upstream of API '{apiName}' failed: {failed.Detail}. Ask the operator to check the upstream's certificate or the API's upstream-tls settings.",
        ForwardingOutcome.UpstreamInvalidResponse =>
            $"The upstream of API '{apiName}' sent an invalid answer to the WebSocket upgrade: {failed.Detail}.",
        _ => $"The upstream of API '{apiName}' is unreachable: {failed.Detail}. Retry later, or ask the operator to check the upstream.",
    };

    /// <summary>The upgraded client connection; closing it lets the request end, which closes the TCP connection.</summary>
    private sealed class UpgradedClient : IClientConnection
    {
        private readonly TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public UpgradedClient(Stream stream)
        {
            Stream = stream;
        }

        public Stream Stream { get; }

        public Task Closed => _closed.Task;

        public void Close() => _closed.TrySetResult();
    }
}
