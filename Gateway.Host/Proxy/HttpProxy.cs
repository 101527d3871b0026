using System.Diagnostics;
using System.Net.Sockets;
using Gateway.Actors.Apis;
using Gateway.Actors.Connections;
using Gateway.Actors.Resilience;
using Gateway.Actors.Routing;
using Yarp.ReverseProxy.Forwarder;

namespace Gateway.Host.Proxy;

/// <summary>
/// Forwards ordinary HTTP requests with YARP's forwarder, streaming bodies both ways, behind the API's
/// circuit breaker and with failover to the next target when a connection is refused.
/// </summary>
public sealed class HttpProxy
{
    private readonly IHttpForwarder _forwarder;
    private readonly SessionAffinity _affinity;
    private readonly ILogger<HttpProxy> _logger;

    public HttpProxy(IHttpForwarder forwarder, SessionAffinity affinity, ILogger<HttpProxy> logger)
    {
        _forwarder = forwarder;
        _affinity = affinity;
        _logger = logger;
    }

    /// <param name="path">The request path, percent-encoded as it came on the wire.</param>
    /// <param name="query">The raw query string, empty or starting with '?'.</param>
    public async Task ProxyAsync(HttpContext context, ApiRoute route, string path, string query)
    {
        var api = route.Definition;
        var permit = route.Breaker?.TryAcquire() ?? BreakerPermit.Granted;
        if (!permit.Allowed)
        {
            await GatewayErrors.WriteAsync(context, ForwardingOutcome.CircuitOpen,
                $"API '{api.Name}' is not calling its upstream for now because of repeated upstream failures (circuit breaker open). Retry after the time in Retry-After.",
                permit.RetryAfter);
            return;
        }

        var started = Stopwatch.GetTimestamp();
        var config = new ForwarderRequestConfig { ActivityTimeout = api.Timeouts.Response };
        var tried = new List<Uri>();
        var preference = _affinity.Resolve(context, route);
        while (true)
        {
            var target = route.Targets.Pick(tried, preference);
            if (target is null)
            {
                route.Breaker?.Record(success: false, permit);
                await GatewayErrors.WriteAsync(context, ForwardingOutcome.AllTargetsDown,
                    $"Every upstream target of API '{api.Name}' is down. Retry later, or ask the operator to check the upstreams.",
                    api.ResilienceOrDefault.SkipFailedTargetFor);
                return;
            }

            tried.Add(target);
            var uri = TargetAddress.Build(api, target, path, query);
            var transformer = new TargetTransformer(uri, api.PreserveHostHeader, route, target);
            var error = await _forwarder.SendAsync(context, $"{uri.Scheme}://{uri.Authority}", route.Invoker, config, transformer);
            var cause = context.Features.Get<IForwarderErrorFeature>()?.Exception;

            // A refused connection sent nothing, so the request can move on to the next target.
            if (error == ForwarderError.Request && IsConnectFailure(cause) && !context.Response.HasStarted && route.Targets.Targets.Count > 1)
            {
                route.Targets.MarkFailed(target);
                _logger.LogWarning("HTTP {Method} {Path} on {ApiId}: target {Upstream} refused the connection; skipping it for {SkipSeconds} s",
                    context.Request.Method, context.Request.Path.Value, api.Id, target, api.ResilienceOrDefault.SkipFailedTargetFor.TotalSeconds);
                context.Features.Set<IForwarderErrorFeature>(null);
                continue;
            }

            await CompleteAsync(context, route, permit, uri, error, cause, Stopwatch.GetElapsedTime(started));
            return;
        }
    }

    private async Task CompleteAsync(HttpContext context, ApiRoute route, BreakerPermit permit, Uri uri, ForwarderError error, Exception? cause, TimeSpan elapsed)
    {
        var api = route.Definition;
        if (error == ForwarderError.None)
        {
            route.Breaker?.Record(success: context.Response.StatusCode < 500, permit);
            _logger.LogInformation("HTTP {Method} {Path} on {ApiId} to {Upstream}: {StatusCode} in {ElapsedMs:0.0} ms",
                context.Request.Method, context.Request.Path.Value, api.Id, uri, context.Response.StatusCode, elapsed.TotalMilliseconds);
            return;
        }

        if (error is ForwarderError.RequestCanceled or ForwarderError.RequestBodyCanceled or ForwarderError.ResponseBodyCanceled
            or ForwarderError.RequestBodyClient or ForwarderError.ResponseBodyClient)
        {
            // The client went away; that says nothing about the upstream, so the breaker is not told.
            _logger.LogDebug("HTTP {Method} {Path} on {ApiId}: the client aborted ({ForwarderError})", context.Request.Method, context.Request.Path.Value, api.Id, error);
            return;
        }

        route.Breaker?.Record(success: false, permit);
        _logger.LogWarning("HTTP {Method} {Path} on {ApiId} to {Upstream} failed after {ElapsedMs:0.0} ms ({ForwarderError}): {Cause}",
            context.Request.Method, context.Request.Path.Value, api.Id, uri, elapsed.TotalMilliseconds, error, UpstreamTlsFailure.Describe(cause) ?? cause?.Message);
        if (context.Response.HasStarted)
        {
            return;
        }

        var (outcome, message) = error switch
        {
            ForwarderError.RequestTimedOut => (ForwardingOutcome.UpstreamTimedOut,
                $"The upstream of API '{api.Name}' did not answer within {api.Timeouts.Response.TotalSeconds:0.###} s. Retry later, or ask the operator to check the upstream."),
            ForwarderError.ResponseHeaders or ForwarderError.ResponseBodyDestination => (ForwardingOutcome.UpstreamInvalidResponse,
                $"The upstream of API '{api.Name}' sent an invalid answer."),
            _ when UpstreamTlsFailure.Describe(cause) is { } tlsFailure => (ForwardingOutcome.UpstreamTlsFailed,
                $"TLS to the upstream of API '{api.Name}' failed: {tlsFailure}. Ask the operator to check the upstream's certificate or the API's upstream-tls settings."),
            _ when cause is TaskCanceledException { InnerException: TimeoutException } => (ForwardingOutcome.UpstreamTimedOut,
                $"Connecting to the upstream of API '{api.Name}' timed out. Retry later, or ask the operator to check the upstream."),
            _ when cause is HttpRequestException { HttpRequestError: HttpRequestError.InvalidResponse or HttpRequestError.ResponseEnded } =>
                (ForwardingOutcome.UpstreamInvalidResponse, $"The upstream of API '{api.Name}' sent an invalid answer."),
            _ => (ForwardingOutcome.UpstreamUnreachable,
                $"The upstream of API '{api.Name}' is unreachable. Retry later, or ask the operator to check the upstream."),
        };
        await GatewayErrors.WriteAsync(context, outcome, message);
    }

    private static bool IsConnectFailure(Exception? cause)
    {
        if (cause is HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError })
        {
            return true;
        }

        for (var inner = cause; inner is not null; inner = inner.InnerException)
        {
            if (inner is SocketException { SocketErrorCode: SocketError.ConnectionRefused })
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Sends the request to the routed target URI with the gateway's Host and X-Forwarded-* rules.</summary>
    private sealed class TargetTransformer : HttpTransformer
    {
        private readonly Uri _target;
        private readonly bool _preserveHost;
        private readonly ApiRoute _route;
        private readonly Uri _configuredTarget;

        public TargetTransformer(Uri target, bool preserveHost, ApiRoute route, Uri configuredTarget)
        {
            _target = target;
            _preserveHost = preserveHost;
            _route = route;
            _configuredTarget = configuredTarget;
        }

        public override async ValueTask<bool> TransformResponseAsync(
            HttpContext httpContext, HttpResponseMessage? proxyResponse, CancellationToken cancellationToken)
        {
            var copyBody = await base.TransformResponseAsync(httpContext, proxyResponse, cancellationToken);
            if (proxyResponse is not null)
            {
                SessionAffinity.SetCookie(httpContext, _route, _configuredTarget);
            }

            return copyBody;
        }

        public override async ValueTask TransformRequestAsync(
            HttpContext httpContext, HttpRequestMessage proxyRequest, string destinationPrefix, CancellationToken cancellationToken)
        {
            await base.TransformRequestAsync(httpContext, proxyRequest, destinationPrefix, cancellationToken);
            proxyRequest.RequestUri = _target;
            proxyRequest.Headers.Host = _preserveHost && httpContext.Request.Host.HasValue ? httpContext.Request.Host.Value : null;
            ForwardedHeaders.Apply(proxyRequest.Headers, httpContext);
        }
    }
}
