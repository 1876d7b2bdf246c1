using System.Text;
using Microsoft.EntityFrameworkCore;
using ResearchAssistant.Core.Data;
using ResearchAssistant.Core.Search;
using ResearchAssistant.Core.Sessions;
using ResearchAssistant.Testing;
using ResearchAssistant.Tests.Chat;
using ResearchAssistant.Tests.Support;
using Xunit.Abstractions;

namespace ResearchAssistant.Tests.Search;

/// <summary>
/// Search through the real services on a real database: what is indexed and when, BM25 ranking, isolation between
/// users, deletion, bad queries, and that the index never holds a term in plain text.
/// </summary>
public abstract class SearchTests(TestDatabase database, ITestOutputHelper output) : ChatTestBase(database, output)
{
    private SearchService Search => Core.Search;

    [Fact]
    public async Task Bm25_ranks_a_small_corpus_in_the_order_computed_by_hand()
    {
        // Answers fail, and failed answers are not indexed: the corpus is exactly these five messages.
        Model.Behavior = new FakeBehavior { FailWithStatus = 500 };
        var user = await NewUserAsync();
        var d1 = await SendAloneAsync(user, "Quasar quasar nebula");                                      // |d| = 3
        var d2 = await SendAloneAsync(user, "quasar dust cloud star light");                              // |d| = 5
        var d3 = await SendAloneAsync(user, "nebula nebula nebula dust");                                 // |d| = 4
        var d4 = await SendAloneAsync(user, "quasar nebula bright distant galaxy orbit comet light");     // |d| = 8
        await SendAloneAsync(user, "comet orbit dust");                                                   // |d| = 3

        var response = await Search.SearchAsync(user, "quasars and the nebula");

        // N = 5, avgdl = 23 / 5 = 4.6; df(quasar) = df(nebula) = 3, so idf = ln(1 + 2.5 / 3.5) = 0.538997 for both.
        // Per term: idf * tf * 2.2 / (tf + 1.2 * (0.25 + 0.75 * |d| / 4.6)), k1 = 1.2, b = 0.75:
        //   d1: quasar tf 2 -> 1.524096, nebula tf 1 -> 1.165899; (1.524096 + 1.165899) * 0.538997 = 1.449898
        //   d3: nebula tf 3 -> 1.616614 * 0.538997                                              = 0.871349
        //   d4: quasar and nebula, tf 1 each, long -> 2 * 0.767830 * 0.538997                 = 0.827715
        //   d2: quasar tf 1 -> 0.965649 * 0.538997                                              = 0.520481
        // One term three times in a short message beats both terms once in a long one.
        Assert.Equal(["quasar", "nebula"], response.Terms);
        Assert.Equal([d1, d3, d4, d2], response.Hits.Select(h => h.MessageId));
        Assert.Equal([1.449898, 0.871349, 0.827715, 0.520481], response.Hits.Select(h => Math.Round(h.Score, 6)));
        Assert.Null(response.Hint);
    }

    [Fact]
    public async Task A_hit_has_the_conversation_title_date_and_a_snippet_with_the_matched_words_marked()
    {
        var user = await NewUserAsync();
        var before = DateTimeOffset.UtcNow.AddSeconds(-1);
        var (sessionId, view) = await StartConversationAsync(user, "Which studies measured the Doppler shift of pulsars?");

        var response = await Search.SearchAsync(user, "study pulsar");

        var hit = Assert.Single(response.Hits);
        Assert.Equal((sessionId, view.Messages[0].Id, MessageRole.User), (hit.SessionId, hit.MessageId, hit.Role));
        Assert.Equal("Which studies measured the Doppler shift of pulsars?", hit.ConversationTitle);
        Assert.InRange(hit.CreatedAt, before, DateTimeOffset.UtcNow.AddSeconds(1));
        Assert.Equal(["studies", "pulsars"], hit.Snippet.Where(p => p.IsMatch).Select(p => p.Text));
        Assert.Equal("Which studies measured the Doppler shift of pulsars?", string.Concat(hit.Snippet.Select(p => p.Text)));
    }

    [Fact]
    public async Task An_answers_snippet_is_plain_text_and_a_questions_is_as_typed()
    {
        Model.Behavior = QuickAnswer with { Tokens = ["## Where\n\n", "The **archive** keeps [the charters](https://example.org/charters) in `vault 7`."] };
        var user = await NewUserAsync();
        await StartConversationAsync(user, "Are the *charters* in C# notation?");

        var hits = (await Search.SearchAsync(user, "charters")).Hits;

        var answer = Assert.Single(hits, h => h.Role == MessageRole.Assistant);
        Assert.Equal("Where The archive keeps the charters in vault 7.", string.Concat(answer.Snippet.Select(p => p.Text)));
        Assert.Equal(["charters"], answer.Snippet.Where(p => p.IsMatch).Select(p => p.Text));
        var question = Assert.Single(hits, h => h.Role == MessageRole.User);
        Assert.Equal("Are the *charters* in C# notation?", string.Concat(question.Snippet.Select(p => p.Text)));
    }

    [Fact]
    public async Task Questions_are_indexed_when_stored_answers_when_sealed_and_edits_as_new_versions()
    {
        Model.Behavior = QuickAnswer with { Tokens = ["The ", "archive ", "holds ", "manuscripts."] };
        var user = await NewUserAsync();
        var (sessionId, view) = await StartConversationAsync(user, "Where are the medieval charters kept?");

        var answers = await Search.SearchAsync(user, "manuscript");
        Assert.Equal([view.Messages[1].Id], answers.Hits.Select(h => h.MessageId));
        Assert.Equal(MessageRole.Assistant, answers.Hits[0].Role);

        var edit = await Chat.EditAsync(user, sessionId, view.Messages[0].Id, "Where are the medieval deeds kept?", NewClientId());
        await Core.WaitUntilIdleAsync(user, sessionId);
        Assert.Equal([edit.MessageId], (await Search.SearchAsync(user, "deeds")).Hits.Select(h => h.MessageId));
        // The original stays in the log, so it stays findable.
        Assert.Equal([view.Messages[0].Id], (await Search.SearchAsync(user, "charters")).Hits.Select(h => h.MessageId));
        Assert.Equal(2, (await Search.SearchAsync(user, "medieval")).Hits.Count);
    }

    [Fact]
    public async Task A_failed_answer_is_not_indexed_and_a_stopped_one_is()
    {
        var user = await NewUserAsync();
        Model.Behavior = new FakeBehavior { Tokens = ["Spectroscopy ", "explained"], CutAfterTokens = 1 };
        var (failedSession, failed) = await StartConversationAsync(user, "first question");
        Assert.Equal(EventStatus.Failed, failed.Messages[^1].Status);
        Assert.Contains("Spectroscopy", failed.Messages[^1].Text);

        Model.Behavior = new FakeBehavior { Tokens = [.. Enumerable.Repeat("telescope ", 500)], TokenDelay = TimeSpan.FromMilliseconds(10) };
        var sessionId = Guid.NewGuid();
        await Chat.SendAsync(user, sessionId, "second question", NewClientId(), createIfMissing: true);
        await Core.WaitForAsync(user, sessionId, v => v.Messages is [_, { Status: EventStatus.Streaming, Text.Length: > 0 }], "the answer to start");
        await Chat.StopAsync(user, sessionId);
        var stopped = await Core.WaitUntilIdleAsync(user, sessionId);
        Assert.Equal(EventStatus.Stopped, stopped.Messages[^1].Status);

        Assert.Empty((await Search.SearchAsync(user, "spectroscopy")).Hits);
        Assert.Equal([stopped.Messages[^1].Id], (await Search.SearchAsync(user, "telescope")).Hits.Select(h => h.MessageId));
        _ = failedSession;
    }

    [Fact]
    public async Task Search_only_sees_the_callers_own_conversations()
    {
        var alice = await NewUserAsync("alice");
        var bob = await NewUserAsync("bob");
        var (aliceSession, aliceView) = await StartConversationAsync(alice, "marmalade recipes from Seville oranges");
        var (bobSession, bobView) = await StartConversationAsync(bob, "marmalade on toast, and nothing about citrus");

        Assert.Equal([aliceView.Messages[0].Id], (await Search.SearchAsync(alice, "marmalade")).Hits.Select(h => h.MessageId));
        Assert.Equal([bobView.Messages[0].Id], (await Search.SearchAsync(bob, "marmalade")).Hits.Select(h => h.MessageId));
        Assert.Empty((await Search.SearchAsync(bob, "Seville oranges")).Hits);
        Assert.Empty((await Search.SearchAsync(await NewUserAsync("carol"), "marmalade")).Hits);

        // The same word hashes differently under each user's key: the postings do not even share a term.
        var cipherA = await Core.Protector.ForUserAsync(alice);
        var cipherB = await Core.Protector.ForUserAsync(bob);
        Assert.NotEqual(cipherA.HashTerm("marmalad"), cipherB.HashTerm("marmalad"));

        // Recall is per conversation and checks the owner like every other call.
        await Assert.ThrowsAsync<SessionNotFoundException>(() => Search.RecallAsync(bob, aliceSession, "marmalade", new HashSet<Guid>(), 5, default));
        Assert.Equal([bobView.Messages[0].Id], (await Search.RecallAsync(bob, bobSession, "marmalade", new HashSet<Guid>(), 5, default)).Select(r => r.EventId));
    }

    [Fact]
    public async Task Recall_ranks_one_conversations_messages_and_leaves_out_the_excluded()
    {
        Model.Behavior = new FakeBehavior { FailWithStatus = 500 };
        var user = await NewUserAsync();
        var sessionId = Guid.NewGuid();
        var ids = new List<Guid>();
        foreach (var text in new[] { "glacier retreat data notes", "glacier glacier retreat", "unrelated note", "glacier mass balance" })
        {
            var sent = await Chat.SendAsync(user, sessionId, text, NewClientId(), createIfMissing: ids.Count == 0);
            await Core.WaitUntilIdleAsync(user, sessionId);
            ids.Add(sent.MessageId);
        }
        await SendAloneAsync(user, "glacier glacier glacier in another conversation");

        var all = await Search.RecallAsync(user, sessionId, "glacier retreat", new HashSet<Guid>(), 10, default);
        Assert.Equal([ids[1], ids[0], ids[3]], all.Select(r => r.EventId));
        Assert.True(all[0].Score > all[1].Score && all[1].Score > all[2].Score);

        var rest = await Search.RecallAsync(user, sessionId, "glacier retreat", new HashSet<Guid> { ids[1] }, 1, default);
        Assert.Equal([ids[0]], rest.Select(r => r.EventId));
        Assert.Empty(await Search.RecallAsync(user, sessionId, "the of and", new HashSet<Guid>(), 10, default));
    }

    [Fact]
    public async Task Deleting_a_conversation_removes_its_postings_and_its_share_of_the_statistics()
    {
        var user = await NewUserAsync();
        var (kept, keptView) = await StartConversationAsync(user, "sediment cores from the lake");
        var statsBefore = await StatsAsync(user);
        var (deleted, _) = await StartConversationAsync(user, "sediment layers and pollen counts in lake cores");
        await Core.Merger.MergeAllAsync(CancellationToken.None);
        Assert.True(await PostingsOfSessionAsync(deleted) > 0);
        Assert.Contains((await Search.SearchAsync(user, "pollen sediment")).Hits, h => h.SessionId == deleted);
        var deletedDocuments = await DocumentNumbersAsync(deleted);
        Assert.NotEmpty(deletedDocuments);

        await Core.Organizer.DeleteAsync(user, deleted);

        await using (var db = await Core.Contexts.CreateDbContextAsync())
        {
            Assert.False(await db.SearchDocuments.AnyAsync(d => d.SessionId == deleted));
            // Found by number, as the documents are gone: postings have no foreign key that would have taken them along.
            Assert.False(await db.SearchPostings.AnyAsync(p => p.IndexId == statsBefore.Id && deletedDocuments.Contains(p.DocumentNumber)));
            Assert.Equal(0, await OrphanPostingsAsync(db));
        }
        var statsAfter = await StatsAsync(user);
        Assert.Equal((statsBefore.DocumentCount, statsBefore.TotalLength), (statsAfter.DocumentCount, statsAfter.TotalLength));
        Assert.True(await PostingsOfSessionAsync(kept) > 0);
        var hits = (await Search.SearchAsync(user, "pollen sediment")).Hits;
        Assert.Equal([keptView.Messages[0].Id], hits.Select(h => h.MessageId));
    }

    [Fact]
    public async Task A_sent_message_and_its_answer_are_merged_into_the_postings_in_the_background()
    {
        var user = await NewUserAsync();
        var (sessionId, _) = await StartConversationAsync(user, "foraminifera in deep sea cores");
        var index = (await StatsAsync(user)).Id;

        // Nothing here runs the merger: the service does, nudged by the commits that indexed the two messages.
        await Wait.UntilAsync(async () =>
        {
            await using var db = await Core.Contexts.CreateDbContextAsync();
            return !await db.SearchUnmergedTerms.AnyAsync(u => u.IndexId == index);
        }, "both messages to be merged");
        Assert.True(await PostingsOfSessionAsync(sessionId) > 0);
        Assert.Single((await Search.SearchAsync(user, "foraminifera")).Hits);
    }

    [Fact]
    public async Task Removing_a_users_index_removes_all_their_postings_and_no_one_elses()
    {
        var erased = await NewUserAsync("erased");
        var other = await NewUserAsync("other");
        await StartConversationAsync(erased, "isotope ratios in ice cores");
        await StartConversationAsync(erased, "isotope fractionation");
        await StartConversationAsync(other, "isotope ratios again");
        await Core.Merger.MergeAllAsync(CancellationToken.None);
        var erasedIndex = (await StatsAsync(erased)).Id;
        var otherPostings = await PostingsOfIndexAsync((await StatsAsync(other)).Id);
        Assert.True(await PostingsOfIndexAsync(erasedIndex) > 0);

        await using (var db = await Core.Contexts.CreateDbContextAsync())
        {
            await SearchIndexer.RemoveUserAsync(db, erased, CancellationToken.None);
        }

        await using (var db = await Core.Contexts.CreateDbContextAsync())
        {
            Assert.Equal(0, await PostingsOfIndexAsync(erasedIndex));
            Assert.False(await db.SearchDocuments.AnyAsync(d => d.IndexId == erasedIndex));
            Assert.False(await db.SearchIndexes.AnyAsync(i => i.UserId == erased));
        }
        Assert.Equal(otherPostings, await PostingsOfIndexAsync((await StatsAsync(other)).Id));
        Assert.Single((await Search.SearchAsync(other, "isotope")).Hits);
        Assert.Empty((await Search.SearchAsync(erased, "isotope")).Hits);
    }

    [Theory]
    [InlineData("the and of")]
    [InlineData("!!! ??? ...")]
    [InlineData("   ")]
    [InlineData("")]
    public async Task A_query_of_only_stop_words_or_symbols_returns_nothing_and_a_hint(string query)
    {
        var user = await NewUserAsync();
        await StartConversationAsync(user, "the and of !!! ??? words worth finding");

        var response = await Search.SearchAsync(user, query);

        Assert.Empty(response.Hits);
        Assert.Empty(response.Terms);
        Assert.Equal(SearchService.NothingToSearchHint, response.Hint);
    }

    [Fact]
    public async Task A_10000_character_query_is_cut_and_still_answers()
    {
        var user = await NewUserAsync();
        var (_, view) = await StartConversationAsync(user, "word3 is the one to find");
        var query = string.Join(' ', Enumerable.Range(0, 3_000).Select(i => $"word{i}"))[..10_000];

        var response = await Search.SearchAsync(user, query);

        Assert.True(response.WasShortened);
        Assert.Equal(SearchService.ShortenedHint, response.Hint);
        Assert.Equal(SearchTerms.MaxQueryTerms, response.Terms.Count);
        Assert.Equal([view.Messages[0].Id], response.Hits.Select(h => h.MessageId));
    }

    [Fact]
    public async Task The_index_stores_terms_only_as_keyed_hashes()
    {
        var user = await NewUserAsync();
        // Made up, so it can only be in the database if the index (or anything else) wrote it there.
        var canary = "Zorblaxity" + Guid.NewGuid().ToString("N")[..8];
        var (sessionId, _) = await StartConversationAsync(user, $"Notes on {canary} and {canary}: a canary term.");
        await Core.Merger.MergeAllAsync(CancellationToken.None);

        var cipher = await Core.Protector.ForUserAsync(user);
        var expectedHash = cipher.HashTerm(canary.ToLowerInvariant());
        await using var db = await Core.Contexts.CreateDbContextAsync();
        var stats = await StatsAsync(user);
        var postings = await db.SearchPostings.AsNoTracking().Where(p => p.IndexId == stats.Id).ToListAsync();
        var canaryPosting = Assert.Single(postings, p => p.TermHash == expectedHash);
        Assert.Equal(2, canaryPosting.TermFrequency);
        Assert.Single((await Search.SearchAsync(user, canary)).Hits);

        // Every column of every search row, as text and as the bytes the provider returns: no trace of the term.
        foreach (var table in new[] { "SearchPostings", "SearchDocuments", "SearchIndexes" })
        {
            foreach (var value in await RawRowsAsync(db, table))
            {
                Assert.DoesNotContain(canary, value, StringComparison.OrdinalIgnoreCase);
            }
        }
        await AssertNotStoredAnywhereAsync(canary);
        _ = sessionId;
    }

    [Fact]
    public async Task A_key_row_from_before_search_gets_a_search_key_on_first_use()
    {
        var user = await NewUserAsync();
        await StartConversationAsync(user, "first words before search");
        await using (var db = await Core.Contexts.CreateDbContextAsync())
        {
            await db.UserKeys.Where(k => k.UserId == user).ExecuteUpdateAsync(u => u.SetProperty(k => k.WrappedSearchKey, (byte[]?)null));
        }

        // A new process, as after an upgrade: the data key is read back, a search key is created and kept.
        await using var upgraded = await CoreHarness.StartAsync(Database, Model.Endpoint, Output);
        var cipher = await upgraded.Protector.ForUserAsync(user);
        Assert.Equal("first words before search", (await upgraded.Chat.GetConversationAsync(user, (await upgraded.Organizer.ListAsync(user))[0].Id))!.Messages[0].Text);
        await using (var db = await Core.Contexts.CreateDbContextAsync())
        {
            Assert.NotNull((await db.UserKeys.AsNoTracking().SingleAsync(k => k.UserId == user)).WrappedSearchKey);
        }
        await using var again = await CoreHarness.StartAsync(Database, Model.Endpoint, Output);
        Assert.Equal(cipher.HashTerm("word"), (await again.Protector.ForUserAsync(user)).HashTerm("word"));
    }

    [Fact]
    public async Task Messages_nothing_indexed_are_indexed_by_the_backfill()
    {
        var user = await NewUserAsync();
        var (sessionId, view) = await StartConversationAsync(user, "palaeomagnetism in basalt");
        // As if stored before search existed (or sealed by start-up after a crash): no search rows at all.
        await using (var db = await Core.Contexts.CreateDbContextAsync())
        {
            var stats = await StatsAsync(user);
            await db.SearchPostings.Where(p => p.IndexId == stats.Id).ExecuteDeleteAsync();
            await db.SearchDocuments.Where(d => d.IndexId == stats.Id).ExecuteDeleteAsync();
            await db.SearchIndexes.Where(i => i.Id == stats.Id).ExecuteDeleteAsync();
        }
        Assert.Empty((await Search.SearchAsync(user, "basalt")).Hits);

        await Core.Backfill.RunAsync(CancellationToken.None);

        Assert.Equal([view.Messages[0].Id], (await Search.SearchAsync(user, "basalt")).Hits.Select(h => h.MessageId));
        Assert.Equal(2, (await StatsAsync(user)).DocumentCount);
        // Idempotent: a second run finds nothing of this user's left to do.
        await Core.Backfill.RunAsync(CancellationToken.None);
        Assert.Equal(2, (await StatsAsync(user)).DocumentCount);
        _ = sessionId;
    }

    /// <summary>A new conversation of one message; returns the message id once the turn is over.</summary>
    private async Task<Guid> SendAloneAsync(string user, string text)
    {
        var sessionId = Guid.NewGuid();
        var sent = await Chat.SendAsync(user, sessionId, text, NewClientId(), createIfMissing: true);
        await Core.WaitUntilIdleAsync(user, sessionId);
        return sent.MessageId;
    }

    private async Task<SearchIndex> StatsAsync(string user)
    {
        await using var db = await Core.Contexts.CreateDbContextAsync();
        return await db.SearchIndexes.AsNoTracking().SingleAsync(i => i.UserId == user);
    }

    private async Task<int> PostingsOfSessionAsync(Guid sessionId)
    {
        await using var db = await Core.Contexts.CreateDbContextAsync();
        return await db.SearchPostings.CountAsync(p => db.SearchDocuments.Any(d => d.IndexId == p.IndexId && d.Number == p.DocumentNumber && d.SessionId == sessionId));
    }

    private async Task<List<long>> DocumentNumbersAsync(Guid sessionId)
    {
        await using var db = await Core.Contexts.CreateDbContextAsync();
        return await db.SearchDocuments.Where(d => d.SessionId == sessionId).Select(d => d.Number).ToListAsync();
    }

    private async Task<int> PostingsOfIndexAsync(int indexId)
    {
        await using var db = await Core.Contexts.CreateDbContextAsync();
        return await db.SearchPostings.CountAsync(p => p.IndexId == indexId);
    }

    /// <summary>Postings whose document is gone, in the whole database.</summary>
    private static Task<int> OrphanPostingsAsync(AppDbContext db) =>
        db.SearchPostings.CountAsync(p => !db.SearchDocuments.Any(d => d.IndexId == p.IndexId && d.Number == p.DocumentNumber));

    /// <summary>Each row of a table as one string: text columns as they are, binary ones as UTF-8 and Latin-1.</summary>
    private static async Task<List<string>> RawRowsAsync(AppDbContext db, string table)
    {
        var rows = new List<string>();
        var connection = db.Database.GetDbConnection();
        await db.Database.OpenConnectionAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT * FROM \"{table}\"";
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            var row = new StringBuilder();
            for (var i = 0; i < reader.FieldCount; i++)
            {
                var value = reader.GetValue(i);
                row.Append(value is byte[] bytes ? Encoding.UTF8.GetString(bytes) + Encoding.Latin1.GetString(bytes) : Convert.ToString(value)).Append('|');
            }
            rows.Add(row.ToString());
        }
        return rows;
    }

    /// <summary>Provider-specific: the whole database, as far as the test can read it.</summary>
    protected abstract Task AssertNotStoredAnywhereAsync(string canary);
}

public sealed class SqliteSearchTests(SqliteTestDatabase database, ITestOutputHelper output)
    : SearchTests(database, output), IClassFixture<SqliteTestDatabase>
{
    /// <summary>
    /// The postings table is created WITHOUT ROWID by a hand edit of the generated SQLite migration (EF cannot declare
    /// it): regenerating the migration and forgetting the edit must not go unnoticed.
    /// </summary>
    [Fact]
    public async Task The_postings_table_is_clustered_by_its_key()
    {
        await using var db = await Core.Contexts.CreateDbContextAsync();
        var sql = await db.Database.SqlQuery<string>($"""
            SELECT sql AS "Value" FROM sqlite_master WHERE type = 'table' AND name = 'SearchPostings'
            """).SingleAsync();
        Assert.EndsWith("WITHOUT ROWID", sql.TrimEnd(), StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>Every byte of the database file and its write-ahead log, in UTF-8 and UTF-16, any case.</summary>
    protected override Task AssertNotStoredAnywhereAsync(string canary)
    {
        var path = new Microsoft.Data.Sqlite.SqliteConnectionStringBuilder(Database.Settings.ConnectionString).DataSource;
        var files = new[] { path, path + "-wal" }.Where(File.Exists).ToList();
        Assert.NotEmpty(files);
        foreach (var file in files)
        {
            byte[] bytes;
            using (var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete))
            using (var copy = new MemoryStream())
            {
                stream.CopyTo(copy);
                bytes = copy.ToArray();
            }
            foreach (var form in new[] { canary, canary.ToLowerInvariant(), canary.ToUpperInvariant() })
            {
                Assert.True(bytes.AsSpan().IndexOf(Encoding.UTF8.GetBytes(form)) < 0, $"'{form}' found in {Path.GetFileName(file)} (UTF-8)");
                Assert.True(bytes.AsSpan().IndexOf(Encoding.Unicode.GetBytes(form)) < 0, $"'{form}' found in {Path.GetFileName(file)} (UTF-16)");
            }
        }
        return Task.CompletedTask;
    }
}

public sealed class PostgresSearchTests(PostgresTestDatabase database, ITestOutputHelper output)
    : SearchTests(database, output), IClassFixture<PostgresTestDatabase>
{
    /// <summary>Every row of every table of the application's schema, as PostgreSQL renders it as text.</summary>
    protected override async Task AssertNotStoredAnywhereAsync(string canary)
    {
        await using var db = await Core.Contexts.CreateDbContextAsync();
        var tables = await db.Database.SqlQuery<string>($"""
            SELECT table_name AS "Value" FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'
            """).ToListAsync();
        Assert.Contains("SearchPostings", tables);
        foreach (var table in tables)
        {
            // The table name comes from the catalog, not from input; the canary is a parameter.
            var sql = "SELECT COUNT(*)::int AS \"Value\" FROM \"" + table + "\" t WHERE position(lower(@p0) in lower(t::text)) > 0";
            var found = await db.Database.SqlQueryRaw<int>(sql, new Npgsql.NpgsqlParameter("p0", canary)).SingleAsync();
            Assert.True(found == 0, $"'{canary}' found in table {table}");
        }
        // Row text shows binary columns in hex: look for the term's bytes in them directly.
        var binaryColumns = await db.Database.SqlQuery<string>($"""
            SELECT '"' || table_name || '"."' || column_name || '"' AS "Value" FROM information_schema.columns
            WHERE table_schema = 'public' AND data_type = 'bytea'
            """).ToListAsync();
        Assert.NotEmpty(binaryColumns);
        foreach (var column in binaryColumns)
        {
            var table = column[..column.IndexOf("\".\"", StringComparison.Ordinal)] + "\"";
            var sql = "SELECT COUNT(*)::int AS \"Value\" FROM " + table + " WHERE position(convert_to(@p0, 'UTF8') in " + column + ") > 0 OR position(convert_to(lower(@p0), 'UTF8') in " + column + ") > 0";
            var found = await db.Database.SqlQueryRaw<int>(sql, new Npgsql.NpgsqlParameter("p0", canary)).SingleAsync();
            Assert.True(found == 0, $"'{canary}' found in {column}");
        }
    }
}
