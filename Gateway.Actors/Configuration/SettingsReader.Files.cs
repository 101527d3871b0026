using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Akka.Configuration;

namespace Gateway.Actors.Configuration;

/// <summary>Reads of optional strings and of the certificate files that TLS settings name.</summary>
internal sealed partial class SettingsReader
{
    /// <summary>The directory that relative file paths are resolved against.</summary>
    public string BaseDirectory { get; init; } = Directory.GetCurrentDirectory();

    /// <summary>Reads a string that may be missing; a missing key reads as "".</summary>
    public string ReadOptionalString(Config config, string key, string path)
    {
        var value = config.GetValue(key);
        if (value is null || value.IsEmpty)
        {
            return "";
        }

        if (!value.IsString())
        {
            Invalid(path, value, "a string");
            return "";
        }

        return value.GetString();
    }

    /// <summary>Resolves a configured file path against <see cref="BaseDirectory"/>.</summary>
    public string ResolvePath(string file) => Path.GetFullPath(file, BaseDirectory);

    /// <summary>
    /// Loads a certificate with its private key from a PEM certificate file (leaf first, then any
    /// intermediates) and a PEM key file, or from the certificate file alone when it contains the key too.
    /// An encrypted key needs <paramref name="password"/>. Returns null after reporting the problem
    /// under <paramref name="certificateKey"/> or <paramref name="keyKey"/>, the two settings' key paths.
    /// </summary>
    public CertificateWithChain? LoadPemCertificate(string certificateKey, string keyKey, string certificateFile, string keyFile, string password)
    {
        var certificatePath = ResolvePath(certificateFile);
        var keyPath = keyFile.Length == 0 ? null : ResolvePath(keyFile);
        if (!CheckReadable(certificateKey, certificatePath) || (keyPath is not null && !CheckReadable(keyKey, keyPath)))
        {
            return null;
        }

        try
        {
            var certificate = password.Length == 0
                ? X509Certificate2.CreateFromPemFile(certificatePath, keyPath)
                : X509Certificate2.CreateFromEncryptedPemFile(certificatePath, password, keyPath);
            var all = new X509Certificate2Collection();
            all.ImportFromPemFile(certificatePath);
            var intermediates = new X509Certificate2Collection();
            foreach (var other in all)
            {
                if (other.Thumbprint != certificate.Thumbprint)
                {
                    intermediates.Add(other);
                }
            }

            return new CertificateWithChain(certificate, intermediates, certificatePath);
        }
        catch (Exception error) when (error is CryptographicException or ArgumentException)
        {
            // CreateFromPemFile raises ArgumentException when the key belongs to another certificate.
            var reason = error is ArgumentException ? "the key does not belong to the certificate" : error.Message.TrimEnd('.');
            var key = keyPath is null ? "a private key in the same file, because no key file is set" : $"the key \"{keyPath}\"";
            Problem(certificateKey,
                $"cannot load the certificate \"{certificatePath}\" with {key}: {reason}. " +
                "Expected a PEM certificate (-----BEGIN CERTIFICATE-----) and the PEM private key that belongs to it" +
                (password.Length == 0 ? " (set the password if the key is encrypted)." : "."));
            return null;
        }
    }

    /// <summary>Loads a certificate with its private key from a PKCS#12 (PFX) file. Returns null after reporting the problem.</summary>
    public CertificateWithChain? LoadPfxCertificate(string path, string pfxFile, string password)
    {
        var pfxPath = ResolvePath(pfxFile);
        if (!CheckReadable($"{path}.pfx", pfxPath))
        {
            return null;
        }

        try
        {
            var all = X509CertificateLoader.LoadPkcs12CollectionFromFile(pfxPath, password.Length == 0 ? null : password);
            var certificate = all.FirstOrDefault(candidate => candidate.HasPrivateKey);
            if (certificate is null)
            {
                Problem($"{path}.pfx", $"the PFX file \"{pfxPath}\" contains no certificate with a private key.");
                return null;
            }

            var intermediates = new X509Certificate2Collection();
            foreach (var other in all)
            {
                if (!ReferenceEquals(other, certificate))
                {
                    intermediates.Add(other);
                }
            }

            return new CertificateWithChain(certificate, intermediates, pfxPath);
        }
        catch (CryptographicException error)
        {
            Problem($"{path}.pfx",
                $"cannot load the PFX file \"{pfxPath}\": {error.Message.TrimEnd('.')}. Expected a PKCS#12 file and its password in {path}.password.");
            return null;
        }
    }

    /// <summary>Loads every PEM certificate of a CA bundle file. Returns null after reporting the problem.</summary>
    public X509Certificate2Collection? LoadCaBundle(string path, string bundleFile)
    {
        var bundlePath = ResolvePath(bundleFile);
        if (!CheckReadable(path, bundlePath))
        {
            return null;
        }

        var bundle = new X509Certificate2Collection();
        try
        {
            bundle.ImportFromPemFile(bundlePath);
        }
        catch (CryptographicException error)
        {
            Problem(path, $"cannot read the CA bundle \"{bundlePath}\": {error.Message.TrimEnd('.')}. Expected PEM certificates (-----BEGIN CERTIFICATE-----).");
            return null;
        }

        if (bundle.Count == 0)
        {
            Problem(path, $"the CA bundle \"{bundlePath}\" contains no PEM certificate (-----BEGIN CERTIFICATE-----).");
            return null;
        }

        return bundle;
    }

    private bool CheckReadable(string path, string file)
    {
        try
        {
            using var stream = File.OpenRead(file);
            return true;
        }
        catch (Exception error) when (error is FileNotFoundException or DirectoryNotFoundException)
        {
            Problem(path, $"cannot read \"{file}\": the file does not exist.");
        }
        catch (UnauthorizedAccessException)
        {
            Problem(path, $"cannot read \"{file}\": permission denied.");
        }
        catch (IOException error)
        {
            Problem(path, $"cannot read \"{file}\": {error.Message}");
        }

        return false;
    }
}
