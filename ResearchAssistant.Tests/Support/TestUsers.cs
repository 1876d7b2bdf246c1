using Microsoft.EntityFrameworkCore;
using ResearchAssistant.Core.Accounts;
using ResearchAssistant.Core.Data;

namespace ResearchAssistant.Tests.Support;

/// <summary>Sessions reference AspNetUsers, so every test user needs a real account row first.</summary>
public static class TestUsers
{
    public static async Task<string> CreateAsync(IDbContextFactory<AppDbContext> contexts, string name = "user")
    {
        var id = Guid.NewGuid().ToString();
        var userName = $"{name}-{id[..8]}";
        var email = userName + "@example.test";
        await using var db = await contexts.CreateDbContextAsync();
        db.Users.Add(new AppUser
        {
            Id = id,
            UserName = userName,
            NormalizedUserName = userName.ToUpperInvariant(),
            Email = email,
            NormalizedEmail = email.ToUpperInvariant(),
            EmailConfirmed = true,
            SecurityStamp = Guid.NewGuid().ToString("N"),
            ConcurrencyStamp = Guid.NewGuid().ToString(),
            CreatedAt = DateTimeOffset.UtcNow,
        });
        await db.SaveChangesAsync();
        return id;
    }
}
