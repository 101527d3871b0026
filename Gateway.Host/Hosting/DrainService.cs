using Akka.Actor;
using Akka.Hosting;
using Gateway.Actors.Apis;
using Gateway.Actors.Configuration;
using Gateway.Actors.Connections;

namespace Gateway.Host.Hosting;

/// <summary>
/// Drains WebSockets on shutdown: before the web server and the actor system stop, every live
/// connection is sent close 1001 at a frame boundary, and the shutdown waits for them to end, at most
/// the configured drain timeout.
/// </summary>
public sealed class DrainService : IHostedLifecycleService
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(100);

    private readonly ActorRegistry _registry;
    private readonly GatewaySettings _settings;
    private readonly ILogger<DrainService> _logger;

    public DrainService(ActorRegistry registry, GatewaySettings settings, ILogger<DrainService> logger)
    {
        _registry = registry;
        _settings = settings;
        _logger = logger;
    }

    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        if (!_registry.TryGet<ApiSupervisor>(out var supervisor))
        {
            return;
        }

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(_settings.DrainTimeout);
        try
        {
            var live = await CountAsync(supervisor, deadline.Token);
            _logger.LogInformation("Shutting down: closing {LiveConnections} WebSocket connections with 1001, waiting at most {DrainSeconds} s",
                live, _settings.DrainTimeout.TotalSeconds);
            await supervisor.Ask<ApiSupervisorProtocol.ConnectionsClosing>(
                new ApiSupervisorProtocol.CloseAllConnections(CloseCodes.GoingAway, "gateway shutting down"), deadline.Token);
            while (live > 0)
            {
                await Task.Delay(PollInterval, deadline.Token);
                live = await CountAsync(supervisor, deadline.Token);
            }

            _logger.LogInformation("Shutting down: every WebSocket connection has ended");
        }
        catch (OperationCanceledException)
        {
            _logger.LogWarning("Shutting down: the drain timeout of {DrainSeconds} s ran out with WebSocket connections still open; they are cut",
                _settings.DrainTimeout.TotalSeconds);
        }
    }

    private static async Task<int> CountAsync(IActorRef supervisor, CancellationToken cancellationToken)
    {
        var listed = await supervisor.Ask<ApiSupervisorProtocol.AllConnectionsListed>(
            new ApiSupervisorProtocol.GetAllConnections(), cancellationToken);
        return listed.Apis.Sum(api => api.Connections.Count);
    }

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
