using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using Gateway.Tests.Proxy;
using Gateway.Tests.Support;
using Microsoft.AspNetCore.Http;

namespace Gateway.Tests.Resilience;

/// <summary>The gateway in front of upstreams that fail in the ways real ones do.</summary>
public sealed class UpstreamFaultTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Breaker_OpensAnswers503ThenTrialCloses()
    {
        var healthy = false;
        await using var upstream = await TestUpstream.StartAsync(context =>
        {
            if (Volatile.Read(ref healthy))
            {
                return TestUpstream.EchoAsync(context);
            }

            context.Response.StatusCode = 500;
            return Task.CompletedTask;
        });
        await using var gateway = await TestGateway.StartWithApiAsync(upstream.WsUri(), apiExtra: """
            circuit-breaker {
              threshold = 0.5
              samples = 4
              return-to-service-after = 1s
            }
            """);
        using var cancellation = new CancellationTokenSource(Timeout);

        var statuses = new List<int>();
        for (var i = 0; i < 4; i++)
        {
            statuses.Add((await UpgradeStatusAsync(gateway, cancellation.Token)).Status);
        }

        var whileOpen = await HandshakeTests.ErrorOfUpgradeAsync(gateway, "/echo/", cancellation.Token);
        Volatile.Write(ref healthy, true);
        await Task.Delay(TimeSpan.FromMilliseconds(1100), cancellation.Token);
        using var trial = new ClientWebSocket();
        await trial.ConnectAsync(gateway.WsUri("/echo/"), cancellation.Token);
        using var afterTrial = new ClientWebSocket();
        await afterTrial.ConnectAsync(gateway.WsUri("/echo/"), cancellation.Token);

        Assert.Equal(new[] { 500, 500, 500, 500 }, statuses);
        Assert.Equal(503, whileOpen.Status);
        Assert.Contains("circuit breaker is open", whileOpen.Message);
        Assert.Equal(WebSocketState.Open, trial.State);
        Assert.Equal(WebSocketState.Open, afterTrial.State);
    }

    [Fact]
    public async Task Breaker_OpenAnswersHttpWith503()
    {
        var calls = 0;
        await using var upstream = await TestUpstream.StartAsync(context =>
        {
            Interlocked.Increment(ref calls);
            context.Response.StatusCode = 503;
            return Task.CompletedTask;
        });
        await using var gateway = await TestGateway.StartWithApiAsync(upstream.HttpUri(), apiExtra: """
            circuit-breaker {
              threshold = 1
              samples = 2
              return-to-service-after = 30s
            }
            """);
        using var http = new HttpClient();

        await http.GetAsync(gateway.HttpUri("/echo/"));
        await http.GetAsync(gateway.HttpUri("/echo/"));
        using var response = await http.GetAsync(gateway.HttpUri("/echo/"));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.NotNull(response.Headers.RetryAfter);
        Assert.Contains("circuit breaker open", await response.Content.ReadAsStringAsync());
        Assert.Equal(2, Volatile.Read(ref calls));
    }

    [Fact]
    public async Task SilentUpstream_HitsHandshakeTimeoutWith504()
    {
        using var silent = new TcpListener(IPAddress.Loopback, 0);
        silent.Start();
        var port = ((IPEndPoint)silent.LocalEndpoint).Port;
        await using var gateway = await TestGateway.StartWithApiAsync(new Uri($"ws://127.0.0.1:{port}/"), apiExtra: "timeouts.handshake = 1s");
        using var cancellation = new CancellationTokenSource(Timeout);
        var started = DateTime.UtcNow;

        var error = await HandshakeTests.ErrorOfUpgradeAsync(gateway, "/echo/", cancellation.Token);

        Assert.Equal(504, error.Status);
        Assert.Contains("timed out", error.Message);
        Assert.InRange(DateTime.UtcNow - started, TimeSpan.FromSeconds(0.9), TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task SilentUpstream_HitsResponseTimeoutWith504ForHttp()
    {
        using var silent = new TcpListener(IPAddress.Loopback, 0);
        silent.Start();
        var port = ((IPEndPoint)silent.LocalEndpoint).Port;
        await using var gateway = await TestGateway.StartWithApiAsync(new Uri($"http://127.0.0.1:{port}/"), apiExtra: "timeouts.response = 1s");
        using var http = new HttpClient();

        using var response = await http.GetAsync(gateway.HttpUri("/echo/"));

        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
        Assert.Contains("did not answer within 1 s", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task GarbageInsteadOf101_Gets502()
    {
        await using var upstream = RawUpstream.Start();
        await using var gateway = await TestGateway.StartWithApiAsync(upstream.WsUri());
        using var cancellation = new CancellationTokenSource(Timeout);
        var answering = upstream.AcceptAndAnswerAsync("this is not HTTP at all\r\n\r\n", cancellation.Token);

        var error = await HandshakeTests.ErrorOfUpgradeAsync(gateway, "/echo/", cancellation.Token);
        using var _ = await answering;

        Assert.Equal(502, error.Status);
        Assert.Contains("invalid answer", error.Message);
    }

    [Fact]
    public async Task IdleTimeout_ClosesIdleWith1001ButKeepsPinger()
    {
        await using var upstream = await TestUpstream.StartEchoAsync();
        await using var gateway = await TestGateway.StartWithApiAsync(upstream.WsUri(), apiExtra: "timeouts.websocket-idle = 1s");
        using var cancellation = new CancellationTokenSource(Timeout);
        using var idle = new ClientWebSocket();
        using var pinger = new ClientWebSocket();
        pinger.Options.KeepAliveInterval = TimeSpan.FromMilliseconds(200);
        await idle.ConnectAsync(gateway.WsUri("/echo/"), cancellation.Token);
        await pinger.ConnectAsync(gateway.WsUri("/echo/"), cancellation.Token);

        var receiving = pinger.ReceiveAsync(new byte[16], cancellation.Token);
        var result = await idle.ReceiveAsync(new byte[16], cancellation.Token);
        await Task.Delay(TimeSpan.FromSeconds(1.5), cancellation.Token);

        Assert.Equal(WebSocketMessageType.Close, result.MessageType);
        Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, idle.CloseStatus);
        Assert.Equal(WebSocketState.Open, pinger.State);
        Assert.False(receiving.IsCompleted, "the pinging connection received something other than pongs");
    }

    [Fact]
    public async Task RoundRobin_SpreadsEvenlyAndSkipsDeadTarget()
    {
        var counts = new int[3];
        await using var first = await TestUpstream.StartAsync(context => Count(context, counts, 0));
        await using var second = await TestUpstream.StartAsync(context => Count(context, counts, 1));
        await using var third = await TestUpstream.StartAsync(context => Count(context, counts, 2));
        var dead = new Uri($"ws://127.0.0.1:{HandshakeTests.FreePort()}/");
        await using var gateway = await TestGateway.StartAsync($$"""
            apis.echo {
              listen-path = "/echo/"
              target-urls = [ "{{first.WsUri()}}", "{{dead}}", "{{second.WsUri()}}", "{{third.WsUri()}}" ]
            }
            """);
        using var cancellation = new CancellationTokenSource(Timeout);

        var clients = new List<ClientWebSocket>();
        for (var i = 0; i < 99; i++)
        {
            var client = new ClientWebSocket();
            await client.ConnectAsync(gateway.WsUri("/echo/"), cancellation.Token);
            clients.Add(client);
        }

        Assert.Equal(new[] { 33, 33, 33 }, counts);
        foreach (var client in clients)
        {
            client.Abort();
            client.Dispose();
        }
    }

    [Fact]
    public async Task AllTargetsDown_Gets503()
    {
        var deadOne = new Uri($"ws://127.0.0.1:{HandshakeTests.FreePort()}/");
        var deadTwo = new Uri($"ws://127.0.0.1:{HandshakeTests.FreePort()}/");
        await using var gateway = await TestGateway.StartAsync($$"""
            apis.echo {
              listen-path = "/echo/"
              target-urls = [ "{{deadOne}}", "{{deadTwo}}" ]
            }
            """);
        using var cancellation = new CancellationTokenSource(Timeout);
        using var http = new HttpClient();

        var upgrade = await HandshakeTests.ErrorOfUpgradeAsync(gateway, "/echo/", cancellation.Token);
        using var request = await http.GetAsync(gateway.HttpUri("/echo/"), cancellation.Token);

        Assert.Equal(503, upgrade.Status);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, request.StatusCode);
    }

    private static Task Count(HttpContext context, int[] counts, int index)
    {
        Interlocked.Increment(ref counts[index]);
        return TestUpstream.EchoAsync(context);
    }

    private static async Task<(int Status, string Head)> UpgradeStatusAsync(TestGateway gateway, CancellationToken cancellationToken)
    {
        var (client, _, head) = await RawWebSocket.ConnectAsync(gateway.ClientEndpoint, "/echo/", cancellationToken: cancellationToken);
        client.Dispose();
        return (int.Parse(head.Split(' ')[1]), head);
    }
}
