namespace Gateway.Actors.Persistence;

/// <summary>Whole-file writes that survive a crash: either the old content or the new one is on disk, never a mix.</summary>
public static class DurableFile
{
    /// <summary>
    /// Writes <paramref name="content"/> to a temporary file beside <paramref name="path"/>, flushes it to
    /// the disk, then renames it over <paramref name="path"/>. A rename within one directory is atomic
    /// on POSIX file systems, so a reader or a restart after a kill reads one whole version.
    /// </summary>
    /// <remarks>
    /// NOTE: the directory entry itself is not flushed (.NET has no portable call for it), so a power
    /// loss right after the rename may bring back the previous version. A killed process loses nothing,
    /// because the rename is already in the kernel.
    /// </remarks>
    public static async Task WriteAsync(string path, byte[] content, CancellationToken cancellationToken = default)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(directory);
        var temporary = Path.Combine(directory, $".{Path.GetFileName(path)}.{Environment.ProcessId}.tmp");
        await using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None, 4096, FileOptions.Asynchronous))
        {
            await stream.WriteAsync(content, cancellationToken).ConfigureAwait(false);
            stream.Flush(flushToDisk: true);
        }

        File.Move(temporary, path, overwrite: true);
    }

    /// <summary>Reads the file, or returns null when it does not exist yet.</summary>
    public static byte[]? ReadIfExists(string path) => File.Exists(path) ? File.ReadAllBytes(path) : null;
}
