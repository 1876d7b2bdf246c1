namespace ResearchAssistant.Core.Devices;

/// <summary>A signed-in device as the Devices page shows it.</summary>
public sealed record DeviceView(Guid Id, string Name, string? IpAddress, DateTimeOffset FirstSeenAt, DateTimeOffset LastActiveAt, bool IsCurrent);

/// <summary>An account as the administrator's user list shows it.</summary>
public sealed record UserSignInsView(string UserId, string UserName, DateTimeOffset CreatedAt, int SignedInDevices);

/// <summary>The device does not exist, is signed out already, or belongs to someone else; the three look the same.</summary>
public sealed class DeviceNotFoundException() : Exception("Not found");

/// <summary>The acting user is not an administrator (checked against the database, not the cookie).</summary>
public sealed class AdminRoleRequiredException() : Exception("This needs the Admin role.");
