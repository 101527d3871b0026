using Microsoft.AspNetCore.Connections;
using Gateway.Actors.Configuration;
using Gateway.Host.Hosting;
using Serilog;
using Serilog.Events;

namespace Gateway.Host;

public static class Program
{
    private const string Usage = """
        Usage:
          Gateway.Host [--config FILE]       start the gateway; FILE is read over the embedded defaults
          Gateway.Host --check-config FILE   validate FILE and exit (0 valid, 1 invalid)
          Gateway.Host --print-defaults      print the reference configuration with every key and exit
          Gateway.Host echo [--host H] [--port N]
                                             run only the echo upstream (default 127.0.0.1:9001)

        Environment:
          GATEWAY_ADMIN_SECRET   the admin API's bearer secret, read by ${?GATEWAY_ADMIN_SECRET}
          GATEWAY_LOG_LEVEL      verbose, debug, information (default), warning or error
        """;

    public static async Task<int> Main(string[] args)
    {
        Log.Logger = CreateLogger();
        try
        {
            return await RunAsync(args);
        }
        finally
        {
            await Log.CloseAndFlushAsync();
        }
    }

    private static async Task<int> RunAsync(string[] args)
    {
        if (args is ["--help" or "-h"])
        {
            Console.WriteLine(Usage);
            return 0;
        }

        if (args is ["--print-defaults"])
        {
            using var stream = typeof(GatewayConfigLoader).Assembly.GetManifestResourceStream("Gateway.reference.conf")!;
            Console.WriteLine(new StreamReader(stream).ReadToEnd());
            return 0;
        }

        if (args.Length > 0 && args[0] == "echo")
        {
            return await RunEchoAsync(args[1..]);
        }

        if (args is ["--check-config", var checkedFile])
        {
            return CheckConfig(checkedFile);
        }

        string? file = null;
        if (args is ["--config", var configFile])
        {
            file = configFile;
        }
        else if (args.Length > 0)
        {
            Console.Error.WriteLine($"Unknown arguments: {string.Join(' ', args)}");
            Console.Error.WriteLine(Usage);
            return 2;
        }

        LoadedConfig config;
        WebApplication app;
        try
        {
            config = file is null ? GatewayConfigLoader.LoadText("", "(defaults)") : GatewayConfigLoader.LoadFile(file);
            app = GatewayHost.Build(config);
        }
        catch (ConfigException error)
        {
            Console.Error.WriteLine("The gateway did not start because its configuration is invalid:");
            Console.Error.WriteLine(error.Message);
            return 1;
        }

        try
        {
            await app.StartAsync();
        }
        catch (IOException error) when (error.InnerException is AddressInUseException || error.Message.Contains("address already in use"))
        {
            Console.Error.WriteLine($"The gateway did not start: {error.Message} Stop the other process or choose another port in the configuration.");
            await app.DisposeAsync();
            return 1;
        }

        var endpoints = app.Services.GetRequiredService<GatewayEndpoints>();
        Log.Information("Gateway {Version} started with {ApiCount} APIs; client listeners {ClientEndpoints}, admin {AdminEndpoints}, echo upstream {EchoEndpoints}",
            Admin.AdminEndpoints.Version, config.Gateway.Apis.Count,
            endpoints.Of(ListenerKind.Client), endpoints.Of(ListenerKind.Admin), endpoints.Of(ListenerKind.Echo));
        if (config.Gateway.Admin.Enabled && config.Gateway.Admin.Secret is null)
        {
            Log.Warning("The admin API on {AdminHost} has no secret, so any local process can use it; set GATEWAY_ADMIN_SECRET to require one",
                config.Gateway.Admin.Host);
        }

        await app.WaitForShutdownAsync();
        Log.Information("Gateway stopped");
        return 0;
    }

    private static int CheckConfig(string file)
    {
        try
        {
            var config = GatewayConfigLoader.LoadFile(file);
            Console.WriteLine($"{file}: the configuration is valid; APIs: {config.Gateway.Apis.Count}.");
            return 0;
        }
        catch (ConfigException error)
        {
            Console.Error.WriteLine(error.Message);
            return 1;
        }
    }

    private static async Task<int> RunEchoAsync(string[] args)
    {
        var host = "127.0.0.1";
        var port = 9001;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--host" when i + 1 < args.Length:
                    host = args[++i];
                    break;
                case "--port" when i + 1 < args.Length && int.TryParse(args[i + 1], out var parsed) && parsed is >= 0 and <= 65535:
                    port = parsed;
                    i++;
                    break;
                default:
                    Console.Error.WriteLine($"Invalid echo argument '{args[i]}'. Use --host ADDRESS and --port 0-65535.");
                    return 2;
            }
        }

        var app = GatewayHost.BuildEcho(host, port);
        try
        {
            await app.StartAsync();
        }
        catch (IOException error) when (error.InnerException is AddressInUseException || error.Message.Contains("address already in use"))
        {
            Console.Error.WriteLine($"The echo upstream did not start: {error.Message} Choose another port with --port.");
            return 1;
        }

        Log.Information("Echo upstream listening on {Host}:{Port}", host, port);
        await app.WaitForShutdownAsync();
        return 0;
    }

    /// <summary>A level above Fatal: a logger overridden to it writes nothing and reports itself disabled.</summary>
    private const LogEventLevel LoggingOff = LogEventLevel.Fatal + 1;

    private static Serilog.ILogger CreateLogger()
    {
        var level = Environment.GetEnvironmentVariable("GATEWAY_LOG_LEVEL") is { } text
            && Enum.TryParse<LogEventLevel>(text, ignoreCase: true, out var parsed)
                ? parsed
                : LogEventLevel.Information;
        return new LoggerConfiguration()
            .MinimumLevel.Is(level)
            .MinimumLevel.Override("Microsoft", LogEventLevel.Warning)
            .MinimumLevel.Override("Microsoft.Hosting.Lifetime", LogEventLevel.Information)
            .MinimumLevel.Override("Yarp", LogEventLevel.Warning)
            // ASP.NET Core starts an Activity for every request while this logger is enabled at any level,
            // and a WebSocket keeps its request, and so the Activity, for its whole life: about 400 bytes
            // per idle connection. It only logs request start and end, so it is off.
            .MinimumLevel.Override("Microsoft.AspNetCore.Hosting.Diagnostics", LoggingOff)
            .Enrich.FromLogContext()
            .WriteTo.Console(outputTemplate: "[{Timestamp:HH:mm:ss.fff} {Level:u3}] {SourceContext}: {Message:lj}{NewLine}{Exception}")
            .CreateLogger();
    }
}
