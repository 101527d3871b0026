using System.Security.Authentication;
using Akka.Configuration;
using Akka.Configuration.Hocon;

namespace Gateway.Actors.Configuration;

/// <summary>Reads the TLS settings of client listeners and of each API's upstreams.</summary>
public static partial class GatewayConfigLoader
{
    private static readonly string[] ListenerTlsKeys = { "certificate", "key", "pfx", "password", "min-version", "http2", "sni" };

    private static readonly string[] SniKeys = { "server-name", "certificate", "key", "pfx", "password" };

    /// <summary>Reads <c>tls</c> of one listener; returns null when the listener has none or after reporting a problem.</summary>
    private static ListenerTls? ReadListenerTls(Config listener, string listenerPath, SettingsReader reader)
    {
        var value = listener.GetValue("tls");
        if (value is null || value.IsEmpty)
        {
            return null;
        }

        var path = $"{listenerPath}.tls";
        if (!value.IsObject())
        {
            reader.Invalid(path, value, "an object with certificate and key, or pfx and password");
            return null;
        }

        var tls = listener.GetConfig("tls");
        reader.RejectUnknownKeys(path, tls, ListenerTlsKeys);
        var certificate = ReadServerCertificate(tls, path, reader);
        var protocols = ReadMinVersion(tls, path, reader);
        var http2 = tls.GetValue("http2") is null || reader.ReadBoolean(tls, "http2", $"{path}.http2");
        var sni = ReadSni(tls, path, reader);
        return certificate is null ? null : new ListenerTls(certificate, sni, protocols, http2);
    }

    private static List<SniCertificate> ReadSni(Config tls, string tlsPath, SettingsReader reader)
    {
        var entries = new List<SniCertificate>();
        var value = tls.GetValue("sni");
        if (value is null || value.IsEmpty)
        {
            return entries;
        }

        if (value.IsObject() || value.IsString())
        {
            reader.Invalid($"{tlsPath}.sni", value, "a list such as [ { server-name = \"api.example.com\", certificate = \"api.pem\", key = \"api.key\" } ]");
            return entries;
        }

        var index = 0;
        foreach (var item in value.GetArray())
        {
            var path = $"{tlsPath}.sni[{index++}]";
            if (!item.IsObject())
            {
                reader.Invalid(path, item, "an object with server-name, certificate and key (or pfx and password)");
                continue;
            }

            var entry = new Config(new HoconRoot(item));
            reader.RejectUnknownKeys(path, entry, SniKeys);
            var serverName = reader.ReadString(entry, "server-name", $"{path}.server-name");
            if (Uri.CheckHostName(serverName.StartsWith("*.") ? serverName[2..] : serverName) != UriHostNameType.Dns)
            {
                reader.Problem($"{path}.server-name", $"found \"{serverName}\", expected a host name such as \"api.example.com\" or \"*.example.com\".");
                continue;
            }

            var certificate = ReadServerCertificate(entry, path, reader);
            if (certificate is not null)
            {
                entries.Add(new SniCertificate(serverName, certificate));
            }
        }

        return entries;
    }

    /// <summary>Reads a server certificate given as certificate and key (PEM) or as pfx and password.</summary>
    private static CertificateWithChain? ReadServerCertificate(Config config, string path, SettingsReader reader)
    {
        var certificate = reader.ReadOptionalString(config, "certificate", $"{path}.certificate");
        var key = reader.ReadOptionalString(config, "key", $"{path}.key");
        var pfx = reader.ReadOptionalString(config, "pfx", $"{path}.pfx");
        var password = reader.ReadOptionalString(config, "password", $"{path}.password");

        if (pfx.Length > 0 && (certificate.Length > 0 || key.Length > 0))
        {
            reader.Problem(path, "set either certificate and key (PEM files) or pfx and password, not both.");
            return null;
        }

        if (pfx.Length > 0)
        {
            return reader.LoadPfxCertificate(path, pfx, password);
        }

        if (certificate.Length == 0)
        {
            reader.Problem($"{path}.certificate", "missing: set certificate and key to PEM files, or pfx (and password) to a PKCS#12 file.");
            return null;
        }

        var loaded = reader.LoadPemCertificate($"{path}.certificate", $"{path}.key", certificate, key, password);
        if (loaded is { Certificate.HasPrivateKey: false })
        {
            reader.Problem($"{path}.key", $"missing: the certificate \"{loaded.File}\" has no private key in the same file, so set key to its PEM private key file.");
            return null;
        }

        return loaded;
    }

    /// <summary>Reads <c>upstream-tls</c> of one API, over the defaults.</summary>
    private static UpstreamTls ReadUpstreamTls(Config api, Config raw, Config defaults, string apiPath, SettingsReader reader)
    {
        var path = $"{apiPath}.upstream-tls";
        var value = api.GetValue("upstream-tls");
        if (value is null || !value.IsObject())
        {
            reader.Invalid(path, value, "an object with ca-bundle, insecure-skip-verify, client-certificate, client-key and min-version");
            return UpstreamTls.Default;
        }

        var tls = api.GetConfig("upstream-tls");
        reader.RejectUnknownKeys(path, raw.GetConfig("upstream-tls") ?? ConfigurationFactory.Empty, SettingsReader.Keys(defaults.GetConfig("upstream-tls")));

        var caFile = reader.ReadString(tls, "ca-bundle", $"{path}.ca-bundle");
        var caBundle = caFile.Length == 0 ? null : reader.LoadCaBundle($"{path}.ca-bundle", caFile);
        var insecure = reader.ReadBoolean(tls, "insecure-skip-verify", $"{path}.insecure-skip-verify");

        var clientCertificateFile = reader.ReadString(tls, "client-certificate", $"{path}.client-certificate");
        var clientKeyFile = reader.ReadString(tls, "client-key", $"{path}.client-key");
        var clientKeyPassword = reader.ReadString(tls, "client-key-password", $"{path}.client-key-password");
        CertificateWithChain? clientCertificate = null;
        if (clientCertificateFile.Length > 0)
        {
            clientCertificate = LoadClientCertificate(path, clientCertificateFile, clientKeyFile, clientKeyPassword, reader);
        }
        else if (clientKeyFile.Length > 0)
        {
            reader.Problem($"{path}.client-certificate", "missing: client-key is set, so set client-certificate to the PEM certificate that belongs to it.");
        }

        var protocols = ReadMinVersion(tls, path, reader);
        return new UpstreamTls(caBundle, insecure, clientCertificate, protocols);
    }

    private static CertificateWithChain? LoadClientCertificate(string path, string certificateFile, string keyFile, string password, SettingsReader reader)
    {
        var loaded = reader.LoadPemCertificate($"{path}.client-certificate", $"{path}.client-key", certificateFile, keyFile, password);
        if (loaded is { Certificate.HasPrivateKey: false })
        {
            reader.Problem($"{path}.client-key", $"missing: the client certificate \"{loaded.File}\" has no private key in the same file, so set client-key to its PEM private key file.");
            return null;
        }

        return loaded;
    }

    private static SslProtocols ReadMinVersion(Config tls, string path, SettingsReader reader)
    {
        var value = tls.GetValue("min-version");
        if (value is null || value.IsEmpty)
        {
            return SslProtocols.Tls12 | SslProtocols.Tls13;
        }

        var text = value.IsString() ? value.GetString() : null;
        switch (text)
        {
            case "1.2":
                return SslProtocols.Tls12 | SslProtocols.Tls13;
            case "1.3":
                return SslProtocols.Tls13;
            default:
                reader.Invalid($"{path}.min-version", value, "\"1.2\" or \"1.3\"");
                return SslProtocols.Tls12 | SslProtocols.Tls13;
        }
    }
}
