using System.Diagnostics;
using System.Text;
using Gateway.Host.Hosting;

namespace Gateway.Tests.Support;

/// <summary>
/// A cluster node run as a child Gateway.Host process, so a test can kill it with SIGKILL: no
/// shutdown code runs and the other nodes see only its sockets close.
/// </summary>
public sealed class GatewayProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output;

    private GatewayProcess(Process process, StringBuilder output, int clientPort)
    {
        _process = process;
        _output = output;
        ClientPort = clientPort;
    }

    public int ClientPort { get; }

    /// <summary>Starts node <paramref name="index"/> of <paramref name="cluster"/> (one of its spare seeds) and waits for GET /hello.</summary>
    public static async Task<GatewayProcess> StartAsync(TestCluster cluster, int index, string apis)
    {
        var directory = cluster.DataDirectories[index];
        Directory.CreateDirectory(directory);
        var clientPort = TestCluster.FreePort();
        var configFile = Path.Combine(directory, "gateway.conf");
        await File.WriteAllTextAsync(configFile, $$"""
            gateway {
              listen = [ { host = "127.0.0.1", port = {{clientPort}} } ]
              admin.enabled = off
              data-directory = "{{Path.Combine(directory, "data")}}"
              {{cluster.ClusterSection(index)}}
              apis {
                {{apis}}
              }
            }
            {{TestCluster.FastMembership}}
            """);

        var start = new ProcessStartInfo("dotnet")
        {
            ArgumentList = { typeof(GatewayHost).Assembly.Location, "--config", configFile },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        var process = Process.Start(start)!;
        var output = new StringBuilder();
        process.OutputDataReceived += (_, line) => { lock (output) { output.AppendLine(line.Data); } };
        process.ErrorDataReceived += (_, line) => { lock (output) { output.AppendLine(line.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var node = new GatewayProcess(process, output, clientPort);

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(20) && !process.HasExited)
        {
            try
            {
                using var hello = await http.GetAsync($"http://127.0.0.1:{clientPort}/hello");
                if (hello.IsSuccessStatusCode)
                {
                    return node;
                }
            }
            catch (Exception error) when (error is HttpRequestException or TaskCanceledException)
            {
            }

            await Task.Delay(100);
        }

        node.Dispose();
        lock (output)
        {
            throw new Xunit.Sdk.XunitException($"Gateway.Host did not start within 20 s. Its output:\n{output}");
        }
    }

    /// <summary>Kills the process with SIGKILL and waits for it to exit.</summary>
    public void Kill()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            _process.WaitForExit();
        }
    }

    public void Dispose()
    {
        Kill();
        _process.Dispose();
    }
}
