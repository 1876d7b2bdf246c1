using System.Security.Cryptography;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging.Abstractions;
using ResearchAssistant.Core.Data;
using ResearchAssistant.Core.Privacy;
using ResearchAssistant.Tests.Chat;
using ResearchAssistant.Tests.Support;
using Xunit.Abstractions;

namespace ResearchAssistant.Tests.Privacy;

/// <summary>
/// Message text, titles and checkpoint names are stored encrypted with the owner's data key, which is stored wrapped
/// by the master key. What is stored must not be the text, must not open for anyone else, and a wrong master key
/// must stop the app rather than show unreadable data.
/// </summary>
public abstract class EncryptionAtRestTests(TestDatabase database, ITestOutputHelper output) : ChatTestBase(database, output)
{
    [Fact]
    public async Task Messages_answers_titles_and_checkpoint_names_are_stored_as_ciphertext_not_as_their_text()
    {
        var canary = "canary " + Guid.NewGuid().ToString("N");
        Model.Behavior = QuickAnswer with { Respond = r => ["The answer repeats ", r.Messages[^1].Content] };
        var user = await NewUserAsync();
        var (sessionId, view) = await StartConversationAsync(user, canary);
        await Core.Branches.SaveCheckpointAsync(user, sessionId, view.Messages[^1].Id, "checkpoint " + canary);

        var stored = await StoredEventsAsync(sessionId);
        var session = await StoredSessionAsync(sessionId);
        await using var db = await Core.Contexts.CreateDbContextAsync();
        var checkpoint = await db.Checkpoints.AsNoTracking().SingleAsync(c => c.SessionId == sessionId);
        var cipher = await Core.Protector.ForUserAsync(user);

        // What the user sees is what was written...
        Assert.Equal([canary, "The answer repeats " + canary], view.Messages.Select(m => m.Text));
        Assert.Equal(canary, view.Title);
        // ...but no stored field holds it: each is ciphertext that opens to it with the owner's key.
        (byte[] Stored, string Text)[] fields =
        [
            (stored[0].ContentCipher, canary),
            (stored[1].ContentCipher, "The answer repeats " + canary),
            (session!.TitleCipher, canary),
            (checkpoint.NameCipher, "checkpoint " + canary),
        ];
        Assert.All(fields, field =>
        {
            Assert.NotEqual(Encoding.UTF8.GetBytes(field.Text), field.Stored);
            Assert.False(Contains(field.Stored, Encoding.UTF8.GetBytes(canary)), "the stored bytes contain the text");
            Assert.Equal(field.Text, cipher.Decrypt(field.Stored));
        });
        // Two encryptions of the same text differ (a fresh nonce each time), so equal texts cannot be spotted either.
        Assert.NotEqual(cipher.Encrypt(canary), cipher.Encrypt(canary));
    }

    [Fact]
    public async Task Starting_with_another_master_key_fails_naming_where_that_key_came_from_and_changes_nothing()
    {
        var user = await NewUserAsync();
        var (sessionId, before) = await StartConversationAsync(user, "written under the right key");
        var otherKey = MasterKey.FromBytes(RandomNumberGenerator.GetBytes(MasterKey.KeySize), "/srv/ra/other/master.key");
        var contexts = new AppDbContextFactory(Database.Settings);
        var initializer = new DatabaseInitializer(contexts, new ContentProtector(contexts, otherKey, TimeProvider.System), NullLogger<DatabaseInitializer>.Instance);

        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => initializer.InitializeAsync(CancellationToken.None));

        Assert.Contains("/srv/ra/other/master.key", ex.Message);
        Assert.Contains("is not the key this database was encrypted with", ex.Message);
        Assert.DoesNotContain(Convert.ToBase64String(otherKey.Key), ex.Message);
        // The right key still opens everything: the failed start-up wrote nothing.
        await TestDatabase.MigrateAsync(Database.Settings);
        Assert.Equal(before.Messages, (await Chat.GetConversationAsync(user, sessionId))!.Messages);
    }

    [Fact]
    public async Task A_ciphertext_moved_into_another_users_row_does_not_decrypt_instead_of_showing_their_text()
    {
        var alice = await NewUserAsync("alice");
        var mallory = await NewUserAsync("mallory");
        var (alicesSession, _) = await StartConversationAsync(alice, "alice's secret plans");
        var (mallorysSession, mallorysView) = await StartConversationAsync(mallory, "an innocent question");
        var alicesCipher = (await StoredEventsAsync(alicesSession))[0].ContentCipher;

        // Someone with write access to the database copies Alice's ciphertext into Mallory's message.
        await using (var db = await Core.Contexts.CreateDbContextAsync())
        {
            await db.SessionEvents.Where(e => e.Id == mallorysView.Messages[0].Id)
                .ExecuteUpdateAsync(u => u.SetProperty(e => e.ContentCipher, alicesCipher));
        }

        await Assert.ThrowsAnyAsync<CryptographicException>(() => Chat.GetConversationAsync(mallory, mallorysSession));
        var mallorysKey = await Core.Protector.ForUserAsync(mallory);
        Assert.ThrowsAny<CryptographicException>(() => mallorysKey.Decrypt(alicesCipher));
        // Alice still reads her own.
        Assert.Equal("alice's secret plans", (await Chat.GetConversationAsync(alice, alicesSession))!.Messages[0].Text);
    }

    [Fact]
    public async Task A_users_wrapped_data_key_copied_to_another_user_does_not_unwrap()
    {
        var alice = await NewUserAsync("alice");
        var mallory = await NewUserAsync("mallory");
        var (alicesSession, _) = await StartConversationAsync(alice, "alice's secret plans");
        await using (var db = await Core.Contexts.CreateDbContextAsync())
        {
            var alicesKey = await db.UserKeys.AsNoTracking().SingleAsync(k => k.UserId == alice);
            db.UserKeys.Add(new UserKey { UserId = mallory, WrappedKey = alicesKey.WrappedKey, CreatedAt = DateTimeOffset.UtcNow });
            await db.SaveChangesAsync();
        }
        var alicesCipher = (await StoredEventsAsync(alicesSession))[0].ContentCipher;

        // A fresh process (nothing cached) unwraps keys from the database: Alice's key on Mallory's row is refused.
        await using var restarted = await CoreHarness.StartAsync(Database, Model.Endpoint, Output);
        await Assert.ThrowsAnyAsync<CryptographicException>(() => restarted.Protector.ForUserAsync(mallory));
        Assert.Equal("alice's secret plans", (await restarted.Protector.ForUserAsync(alice)).Decrypt(alicesCipher));
    }

    private static bool Contains(byte[] haystack, byte[] needle) => haystack.AsSpan().IndexOf(needle) >= 0;
}

public sealed class SqliteEncryptionAtRestTests(SqliteTestDatabase database, ITestOutputHelper output)
    : EncryptionAtRestTests(database, output), IClassFixture<SqliteTestDatabase>;

public sealed class PostgresEncryptionAtRestTests(PostgresTestDatabase database, ITestOutputHelper output)
    : EncryptionAtRestTests(database, output), IClassFixture<PostgresTestDatabase>;
