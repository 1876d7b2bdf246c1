using System.Text;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using ResearchAssistant.Tests.Chat;
using ResearchAssistant.Tests.Support;
using Xunit.Abstractions;

namespace ResearchAssistant.Tests.Privacy;

/// <summary>
/// The SQLite files themselves (database, write-ahead log, shared memory, rollback journal) are what a backup or a
/// stolen disk holds: a conversation's text, its title and its checkpoint names must appear in none of them.
/// </summary>
public sealed class SqliteFilesTests(SqliteTestDatabase database, ITestOutputHelper output)
    : ChatTestBase(database, output), IClassFixture<SqliteTestDatabase>
{
    [Fact]
    public async Task A_canary_conversation_appears_in_no_SQLite_file_before_or_after_a_checkpoint()
    {
        var canary = "canary" + Guid.NewGuid().ToString("N");
        Model.Behavior = QuickAnswer with { Respond = r => ["Echo: ", r.Messages[^1].Content, " (", canary, " again)"] };
        var user = await NewUserAsync();
        var sessionId = Guid.NewGuid();
        var clientId = "client-" + Guid.NewGuid().ToString("N");
        await Chat.SendAsync(user, sessionId, $"{canary} title line\nand {canary} in the body", clientId, createIfMissing: true);
        var view = await Core.WaitUntilIdleAsync(user, sessionId);
        await Core.Branches.SaveCheckpointAsync(user, sessionId, view.Messages[^1].Id, $"checkpoint {canary}");
        await Core.Organizer.RenameAsync(user, sessionId, $"renamed {canary}");
        Assert.Contains(canary, view.Messages[^1].Text);

        AssertAbsent(canary, clientId, "with the write-ahead log in use");

        // Move everything from the log into the database file, as SQLite does from time to time.
        await using (var db = await Core.Contexts.CreateDbContextAsync())
        {
            await db.Database.ExecuteSqlRawAsync("PRAGMA wal_checkpoint(TRUNCATE);");
        }
        AssertAbsent(canary, clientId, "after a checkpoint into the database file");
    }

    /// <summary>
    /// The canary (UTF-8 and UTF-16) is in no file of the database, while the client id, stored in clear on purpose,
    /// is found: proof that the scan reads the pages the conversation was written to.
    /// </summary>
    private void AssertAbsent(string canary, string clientId, string when)
    {
        var file = new SqliteConnectionStringBuilder(Database.Settings.ConnectionString).DataSource;
        var files = new[] { file, file + "-wal", file + "-shm", file + "-journal" }.Where(File.Exists).ToList();
        Assert.Contains(file, files);
        var contents = files.ToDictionary(f => f, ReadShared);
        Output.WriteLine($"{when}: " + string.Join(", ", contents.Select(c => $"{Path.GetFileName(c.Key)} {c.Value.Length:N0} bytes")));

        Assert.True(contents.Values.Any(bytes => Contains(bytes, Encoding.UTF8.GetBytes(clientId))),
            $"The scan did not find the client id {when}: it is not reading what was written.");
        foreach (var (path, bytes) in contents)
        {
            Assert.False(Contains(bytes, Encoding.UTF8.GetBytes(canary)), $"{Path.GetFileName(path)} contains the canary in UTF-8 {when}.");
            Assert.False(Contains(bytes, Encoding.Unicode.GetBytes(canary)), $"{Path.GetFileName(path)} contains the canary in UTF-16 {when}.");
        }
    }

    private static byte[] ReadShared(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }

    private static bool Contains(byte[] haystack, byte[] needle) => haystack.AsSpan().IndexOf(needle) >= 0;
}
