namespace Gateway.Actors.Connections;

/// <summary>
/// Expected ways a request or upgrade can fail before it reaches the upstream or while it does. The
/// host maps each to one status code in one place.
/// </summary>
public enum ForwardingOutcome
{
    NoRoute,
    WebSocketsDisabled,
    InvalidUpgrade,
    UnsupportedWebSocketVersion,
    ConnectionLimitReached,
    UpstreamUnreachable,
    UpstreamTlsFailed,
    UpstreamTimedOut,
    UpstreamInvalidResponse,
    CircuitOpen,
    AllTargetsDown,
    ShuttingDown,
    GatewayAtCapacity,
    CredentialsMissing,
    CredentialsExpired,
    KeyInvalid,
    AccessDenied,
    QuotaExceeded,
    RateLimited,
}
