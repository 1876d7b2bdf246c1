using Microsoft.AspNetCore.Identity;
using ResearchAssistant.Core.Accounts;

namespace ResearchAssistant.Web.Components.Account;

/// <summary>
/// Where outgoing account mail goes. A self-hosted instance has no mail server by default, so each message is written
/// as a file in the data directory's mail folder for the operator to forward (see README, "Email confirmation").
/// </summary>
public sealed record MailDrop(string Folder);

internal sealed class MailDropEmailSender(MailDrop drop, TimeProvider clock, ILogger<MailDropEmailSender> logger) : IEmailSender<AppUser>
{
    public Task SendConfirmationLinkAsync(AppUser user, string email, string confirmationLink) =>
        WriteAsync(user, email, "Confirm your email", $"Open this link to confirm your account:\n{confirmationLink}\n");

    public Task SendPasswordResetLinkAsync(AppUser user, string email, string resetLink) =>
        WriteAsync(user, email, "Reset your password", $"Open this link to reset your password:\n{resetLink}\n");

    public Task SendPasswordResetCodeAsync(AppUser user, string email, string resetCode) =>
        WriteAsync(user, email, "Reset your password", $"Your reset code: {resetCode}\n");

    private async Task WriteAsync(AppUser user, string email, string subject, string body)
    {
        var file = Path.Combine(drop.Folder, $"{clock.GetUtcNow():yyyyMMddHHmmssfff}-{user.Id}.eml");
        await File.WriteAllTextAsync(file, $"To: {email}\nSubject: {subject}\n\n{body}");
        // The link is a credential: log where the mail is, never what it says.
        logger.LogInformation("Account mail for {UserId} written to {File}", user.Id, file);
    }
}
