using Microsoft.AspNetCore.Identity;

namespace ResearchAssistant.Core.Accounts;

/// <summary>An account. Identity supplies the columns; the type exists so the model can grow without touching Identity's.</summary>
public sealed class AppUser : IdentityUser
{
    public DateTimeOffset CreatedAt { get; set; }
}

public static class AppRoles
{
    public const string Admin = "Admin";
}
