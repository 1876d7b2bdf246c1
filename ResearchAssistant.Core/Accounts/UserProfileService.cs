using Microsoft.EntityFrameworkCore;
using ResearchAssistant.Core.Chat;
using ResearchAssistant.Core.Data;
using ResearchAssistant.Core.Privacy;

namespace ResearchAssistant.Core.Accounts;

public sealed class UserProfileService(IDbContextFactory<AppDbContext> contexts, ContentProtector protector, TimeProvider clock)
{
    public const int MaxPreferencesLength = 2_000;

    public async Task<string> GetPreferencesAsync(string userId, CancellationToken ct = default)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        var stored = await db.Set<UserProfile>().AsNoTracking().Where(p => p.UserId == userId).Select(p => p.PreferencesCipher).FirstOrDefaultAsync(ct);
        return stored is null ? "" : (await protector.ForUserAsync(userId, ct)).Decrypt(stored);
    }

    public async Task SavePreferencesAsync(string userId, string preferences, CancellationToken ct = default)
    {
        var text = (preferences ?? "").Trim();
        if (text.Length > MaxPreferencesLength)
        {
            throw new ChatInputException($"This text is {text.Length:N0} characters long; the limit is {MaxPreferencesLength:N0}. It is sent with every question, so keep it short.");
        }
        var sealedText = (await protector.ForUserAsync(userId, ct)).Encrypt(text);
        await using var db = await contexts.CreateDbContextAsync(ct);
        var profile = await db.Set<UserProfile>().FirstOrDefaultAsync(p => p.UserId == userId, ct);
        if (profile is null)
        {
            db.Add(new UserProfile { UserId = userId, PreferencesCipher = sealedText, UpdatedAt = clock.GetUtcNow() });
        }
        else
        {
            profile.PreferencesCipher = sealedText;
            profile.UpdatedAt = clock.GetUtcNow();
        }
        await db.SaveChangesAsync(ct);
    }
}
