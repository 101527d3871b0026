using System.Diagnostics;
using Gateway.Actors.Configuration;

namespace Gateway.Tests.Configuration;

public sealed class ConfigLoaderTests
{
    private const string ValidApi = """
        gateway.apis.echo {
          listen-path = "/echo/"
          target-url = "ws://127.0.0.1:9001/"
        }
        """;

    [Fact]
    public void Defaults_FillEveryApiField()
    {
        var api = GatewayConfigLoader.LoadText(ValidApi, "a.conf").Gateway.Apis.Single();

        Assert.Equal("echo", api.Id);
        Assert.Equal("echo", api.Name);
        Assert.True(api.StripListenPath);
        Assert.False(api.PreserveHostHeader);
        Assert.Equal(TimeSpan.FromSeconds(5), api.Timeouts.Connect);
        Assert.Equal(TimeSpan.FromSeconds(10), api.Timeouts.Handshake);
        Assert.Null(api.WebSocketLimits.MaxMessageSize);
        Assert.Equal(new Uri("ws://127.0.0.1:9001/"), api.TargetUrls.Single());
    }

    [Fact]
    public void UnknownApiKey_SuggestsDashedName()
    {
        var error = Assert.Throws<ConfigException>(() => GatewayConfigLoader.LoadText("""
            gateway.apis.echo {
              listen_path = "/echo/"
              target-url = "ws://127.0.0.1:9001/"
            }
            """, "typo.conf"));

        Assert.Contains(error.Problems, problem =>
            problem.StartsWith("typo.conf: gateway.apis.echo.listen_path: unknown key.") && problem.Contains("Did you mean 'listen-path'?"));
    }

    [Fact]
    public void UnknownNestedKey_IsReported()
    {
        var error = Assert.Throws<ConfigException>(() => GatewayConfigLoader.LoadText(ValidApi + """

            gateway.apis.echo.timeouts.handshak = 3s
            """, "nested.conf"));

        Assert.Contains(error.Problems, problem => problem.StartsWith("nested.conf: gateway.apis.echo.timeouts.handshak: unknown key."));
    }

    [Theory]
    [InlineData("target-url = \"ftp://host/\"", "gateway.apis.echo.target-url: found \"ftp://host/\", expected an absolute URL with scheme ws, wss, http or https")]
    [InlineData("timeouts.handshake = soon", "gateway.apis.echo.timeouts.handshake: found \"soon\", expected a positive duration with a unit")]
    [InlineData("strip-listen-path = maybe", "gateway.apis.echo.strip-listen-path: found \"maybe\", expected on or off.")]
    [InlineData("websocket-limits.max-message-size = lots", "gateway.apis.echo.websocket-limits.max-message-size: found \"lots\", expected off or a positive size")]
    [InlineData("listen-path = \"echo\"", "gateway.apis.echo.listen-path: found \"echo\", expected a path that starts with '/'")]
    public void WrongValue_NamesFileKeyValueAndExpectation(string line, string expected)
    {
        var error = Assert.Throws<ConfigException>(() => GatewayConfigLoader.LoadText(ValidApi + "\ngateway.apis.echo." + line, "bad.conf"));

        Assert.Contains(error.Problems, problem => problem.StartsWith("bad.conf: " + expected));
    }

    [Theory]
    [InlineData("many")]
    [InlineData("0")]
    [InlineData("-5")]
    public void WrongWebSocketCapacity_NamesExpectation(string value)
    {
        var error = Assert.Throws<ConfigException>(() => GatewayConfigLoader.LoadText(ValidApi + "\ngateway.max-websocket-connections = " + value, "bad.conf"));

        Assert.Contains(error.Problems, problem =>
            problem.StartsWith("bad.conf: gateway.max-websocket-connections: found") && problem.Contains("expected auto, or a whole number of connections above 0"));
    }

    [Theory]
    [InlineData("auto", null)]
    [InlineData("2500", 2500)]
    public void WebSocketCapacity_ReadsAutoOrCount(string value, int? expected)
    {
        var settings = GatewayConfigLoader.LoadText(ValidApi + "\ngateway.max-websocket-connections = " + value, "a.conf").Gateway;

        Assert.Equal(expected, settings.MaxWebSocketConnections);
    }

    [Fact]
    public void MissingTarget_SaysWhatToSet()
    {
        var error = Assert.Throws<ConfigException>(() => GatewayConfigLoader.LoadText("gateway.apis.echo.listen-path = \"/e/\"", "missing.conf"));

        Assert.Contains("missing.conf: gateway.apis.echo.target-url: missing: set target-url (or target-urls)", error.Message);
    }

    [Fact]
    public void SeveralProblems_AllReported()
    {
        var error = Assert.Throws<ConfigException>(() => GatewayConfigLoader.LoadText("""
            gateway {
              enable-websockets = perhaps
              listen = [ { host = "somewhere", port = 99999 } ]
            }
            """, "many.conf"));

        Assert.Equal(3, error.Problems.Count);
    }

    [Fact]
    public void NonLoopbackAdmin_NeedsLongSecret()
    {
        var error = Assert.Throws<ConfigException>(() => GatewayConfigLoader.LoadText("gateway.admin.host = \"0.0.0.0\"", "admin.conf"));

        Assert.Contains("admin.conf: gateway.admin.secret:", error.Message);
        Assert.Contains("at least 16 characters", error.Message);
    }

    [Fact]
    public void EnvironmentSubstitution_OverridesWhenSet()
    {
        var name = "GATEWAY_TEST_SECRET_" + Guid.NewGuid().ToString("N");
        Environment.SetEnvironmentVariable(name, "a-secret-of-sufficient-length");
        try
        {
            var config = GatewayConfigLoader.LoadText($$"""
                gateway.admin {
                  host = "0.0.0.0"
                  secret = ${?{{name}}}
                }
                """, "env.conf");

            Assert.Equal("a-secret-of-sufficient-length", config.Gateway.Admin.Secret);
        }
        finally
        {
            Environment.SetEnvironmentVariable(name, null);
        }
    }

    [Fact]
    public void EnvironmentSubstitution_UnsetKeepsDefault()
    {
        var config = GatewayConfigLoader.LoadText("gateway.admin.secret = ${?GATEWAY_TEST_UNSET_VARIABLE}", "env.conf");

        Assert.Null(config.Gateway.Admin.Secret);
    }

    [Fact]
    public void MissingFile_NamesFile()
    {
        var error = Assert.Throws<ConfigException>(() => GatewayConfigLoader.LoadFile("/nonexistent/gateway.conf"));

        Assert.StartsWith("/nonexistent/gateway.conf: cannot read the file:", error.Message);
    }

    [Fact]
    public void ShippedConfigurations_AreValid()
    {
        var hocon = Path.Combine(RepositoryRoot(), "hocon");

        // The cluster node configuration binds the admin API to every address, so it needs the secret that
        // docker-compose.yml passes in.
        using var secret = new EnvironmentVariable("GATEWAY_ADMIN_SECRET", "a-secret-of-at-least-sixteen-characters");
        foreach (var file in Directory.GetFiles(hocon, "*.conf"))
        {
            var exception = Record.Exception(() => GatewayConfigLoader.LoadFile(file));
            Assert.True(exception is null, $"{file}: {exception?.Message}");
        }
    }

    [Fact]
    public async Task CheckConfigCommand_PrintsProblemsAndFails()
    {
        var file = Path.GetTempFileName();
        await File.WriteAllTextAsync(file, "gateway.apis.echo { listen_path = \"/e/\" }");
        try
        {
            var hostDll = Path.Combine(AppContext.BaseDirectory, "Gateway.Host.dll");
            var start = new ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true };
            start.ArgumentList.Add(hostDll);
            start.ArgumentList.Add("--check-config");
            start.ArgumentList.Add(file);
            using var process = Process.Start(start)!;
            var stderr = await process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync();

            Assert.Equal(1, process.ExitCode);
            Assert.Contains($"{file}: gateway.apis.echo.listen_path: unknown key. Did you mean 'listen-path'?", stderr);
            Assert.Contains($"{file}: gateway.apis.echo.target-url: missing", stderr);
        }
        finally
        {
            File.Delete(file);
        }
    }

    internal static string RepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Gateway.sln")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException("Gateway.sln not found above the test output directory.");
    }

    private sealed class EnvironmentVariable : IDisposable
    {
        private readonly string _name;
        private readonly string? _previous;

        public EnvironmentVariable(string name, string value)
        {
            _name = name;
            _previous = Environment.GetEnvironmentVariable(name);
            Environment.SetEnvironmentVariable(name, value);
        }

        public void Dispose() => Environment.SetEnvironmentVariable(_name, _previous);
    }
}
