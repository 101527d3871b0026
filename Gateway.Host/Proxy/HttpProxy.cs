using System.Diagnostics;
using Gateway.Actors.Apis;
using Gateway.Actors.Connections;
using Gateway.Actors.Routing;
using Yarp.ReverseProxy.Forwarder;

namespace Gateway.Host.Proxy;

/// <summary>Forwards ordinary HTTP requests with YARP's forwarder, streaming bodies both ways.</summary>
public sealed class HttpProxy
{
    private readonly IHttpForwarder _forwarder;
    private readonly ILogger<HttpProxy> _logger;

    public HttpProxy(IHttpForwarder forwarder, ILogger<HttpProxy> logger)
    {
        _forwarder = forwarder;
        _logger = logger;
    }

    public async Task ProxyAsync(HttpContext context, ApiRoute route, Uri target)
    {
        var api = route.Definition;
        var started = Stopwatch.GetTimestamp();
        var config = new ForwarderRequestConfig { ActivityTimeout = api.Timeouts.Response };
        var transformer = new TargetTransformer(target, api.PreserveHostHeader);
        var error = await _forwarder.SendAsync(context, $"{target.Scheme}://{target.Authority}", route.Invoker, config, transformer);
        var elapsed = Stopwatch.GetElapsedTime(started);

        if (error == ForwarderError.None)
        {
            _logger.LogInformation("HTTP {Method} {Path} on {ApiId} to {Upstream}: {StatusCode} in {ElapsedMs:0.0} ms",
                context.Request.Method, context.Request.Path.Value, api.Id, target, context.Response.StatusCode, elapsed.TotalMilliseconds);
            return;
        }

        var cause = context.Features.Get<IForwarderErrorFeature>()?.Exception;
        if (error is ForwarderError.RequestCanceled or ForwarderError.RequestBodyCanceled or ForwarderError.ResponseBodyCanceled
            or ForwarderError.RequestBodyClient or ForwarderError.ResponseBodyClient)
        {
            _logger.LogDebug("HTTP {Method} {Path} on {ApiId}: the client aborted ({ForwarderError})", context.Request.Method, context.Request.Path.Value, api.Id, error);
            return;
        }

        _logger.LogWarning("HTTP {Method} {Path} on {ApiId} to {Upstream} failed after {ElapsedMs:0.0} ms ({ForwarderError}): {Cause}",
            context.Request.Method, context.Request.Path.Value, api.Id, target, elapsed.TotalMilliseconds, error, UpstreamTlsFailure.Describe(cause) ?? cause?.Message);
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
            _ => (ForwardingOutcome.UpstreamUnreachable,
                $"The upstream of API '{api.Name}' is unreachable. Retry later, or ask the operator to check the upstream."),
        };
        await GatewayErrors.WriteAsync(context, outcome, message);
    }

    /// <summary>Sends the request to the routed target URI with the gateway's Host and X-Forwarded-* rules.</summary>
    private sealed class TargetTransformer : HttpTransformer
    {
        private readonly Uri _target;
        private readonly bool _preserveHost;

        public TargetTransformer(Uri target, bool preserveHost)
        {
            _target = target;
            _preserveHost = preserveHost;
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
