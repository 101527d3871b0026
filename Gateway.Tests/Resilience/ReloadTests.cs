using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Gateway.Tests.Proxy;
using Gateway.Tests.Support;
using Microsoft.AspNetCore.Http;

namespace Gateway.Tests.Resilience;

public sealed class ReloadTests
{
    [Fact]
    public async Task Reload_KeepsUnchangedClosesRemovedAndLetsChangedFinish()
    {
        await using var oldUpstream = await TestUpstream.StartAsync(context => Tagged(context, "old"));
        await using var newUpstream = await TestUpstream.StartAsync(context => Tagged(context, "new"));
        var dataDirectory = TestGateway.NewDataDirectory();
        var file = Path.Combine(Path.GetTempPath(), $"gateway-reload-{Guid.NewGuid():n}.conf");
        await File.WriteAllTextAsync(file, TestGateway.ConfigText($$"""
            apis {
              kept { listen-path = "/kept/", target-url = "{{oldUpstream.WsUri()}}" }
              gone { listen-path = "/gone/", target-url = "{{oldUpstream.WsUri()}}" }
              moved { listen-path = "/moved/", target-url = "{{oldUpstream.WsUri()}}" }
            }
            """, dataDirectory));
        await using var gateway = await TestGateway.StartFromFileAsync(file);
        using var cancellation = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        using var kept = await ConnectAsync(gateway, "/kept/", cancellation.Token);
        using var gone = await ConnectAsync(gateway, "/gone/", cancellation.Token);
        using var moved = await ConnectAsync(gateway, "/moved/", cancellation.Token);

        await File.WriteAllTextAsync(file, TestGateway.ConfigText($$"""
            enable-websockets = on
            drain-timeout = 4s
            apis {
              kept { listen-path = "/kept/", target-url = "{{oldUpstream.WsUri()}}" }
              moved { listen-path = "/moved/", target-url = "{{newUpstream.WsUri()}}" }
              added { listen-path = "/added/", target-url = "{{newUpstream.WsUri()}}" }
            }
            """, dataDirectory));
        using var http = new HttpClient();
        using var response = await http.PostAsync(gateway.AdminUri("/admin/reload"), null, cancellation.Token);
        var result = await response.Content.ReadFromJsonAsync<JsonElement>(cancellation.Token);
        var goneClose = await gone.ReceiveAsync(new byte[64], cancellation.Token);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("added", result.GetProperty("added")[0].GetString());
        Assert.Equal("moved", result.GetProperty("changed")[0].GetString());
        Assert.Equal("gone", result.GetProperty("removed")[0].GetString());
        Assert.Equal("kept", result.GetProperty("unchanged")[0].GetString());
        Assert.Equal("gateway.drain-timeout", result.GetProperty("restartRequired")[0].GetString());
        Assert.Equal(1, result.GetProperty("restartRequired").GetArrayLength());
        Assert.Equal(WebSocketMessageType.Close, goneClose.MessageType);
        Assert.Equal((WebSocketCloseStatus)1012, gone.CloseStatus);
        Assert.Equal("old", await EchoAsync(kept, cancellation.Token));
        Assert.Equal("old", await EchoAsync(moved, cancellation.Token));
        using var movedAfter = await ConnectAsync(gateway, "/moved/", cancellation.Token);
        Assert.Equal("new", await EchoAsync(movedAfter, cancellation.Token));
        using var added = await ConnectAsync(gateway, "/added/", cancellation.Token);
        Assert.Equal("new", await EchoAsync(added, cancellation.Token));
    }

    [Fact]
    public async Task Reload_InvalidFileChangesNothing()
    {
        await using var upstream = await TestUpstream.StartEchoAsync();
        var dataDirectory = TestGateway.NewDataDirectory();
        var file = Path.Combine(Path.GetTempPath(), $"gateway-reload-{Guid.NewGuid():n}.conf");
        await File.WriteAllTextAsync(file, TestGateway.ConfigText($$"""
            apis.echo { listen-path = "/echo/", target-url = "{{upstream.WsUri()}}" }
            """, dataDirectory));
        await using var gateway = await TestGateway.StartFromFileAsync(file);
        using var cancellation = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        using var client = await ConnectAsync(gateway, "/echo/", cancellation.Token);

        await File.WriteAllTextAsync(file, TestGateway.ConfigText("""
            apis.echo { listen_path = "/echo/" }
            """, dataDirectory));
        using var http = new HttpClient();
        using var response = await http.PostAsync(gateway.AdminUri("/admin/reload"), null, cancellation.Token);
        var body = await response.Content.ReadAsStringAsync(cancellation.Token);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("nothing was reloaded", body);
        Assert.Contains("listen_path: unknown key", body);
        Assert.Equal(WebSocketState.Open, client.State);
        await WebSocketEchoTests.SendAndReceiveAsync(client, "still here"u8.ToArray(), WebSocketMessageType.Text, cancellation.Token);
    }

    private static async Task<ClientWebSocket> ConnectAsync(TestGateway gateway, string path, CancellationToken cancellationToken)
    {
        var client = new ClientWebSocket();
        await client.ConnectAsync(gateway.WsUri(path), cancellationToken);
        return client;
    }

    /// <summary>Sends "who" and returns the upstream's answer: its tag.</summary>
    private static async Task<string> EchoAsync(ClientWebSocket client, CancellationToken cancellationToken)
    {
        var answer = await WebSocketEchoTests.SendAndReceiveAsync(client, "who"u8.ToArray(), WebSocketMessageType.Text, cancellationToken);
        return Encoding.UTF8.GetString(answer.Payload);
    }

    /// <summary>An upstream that answers every WebSocket message with its tag.</summary>
    private static async Task Tagged(HttpContext context, string tag)
    {
        using var socket = await context.WebSockets.AcceptWebSocketAsync();
        var buffer = new byte[1024];
        try
        {
            while (true)
            {
                var received = await socket.ReceiveAsync(buffer, CancellationToken.None);
                if (received.MessageType == WebSocketMessageType.Close)
                {
                    await socket.CloseOutputAsync(socket.CloseStatus!.Value, socket.CloseStatusDescription, CancellationToken.None);
                    return;
                }

                await socket.SendAsync(Encoding.UTF8.GetBytes(tag), WebSocketMessageType.Text, true, CancellationToken.None);
            }
        }
        catch (WebSocketException)
        {
        }
    }
}
