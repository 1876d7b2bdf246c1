using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace ResearchAssistant.Tests.Support;

/// <summary>
/// Keeps the errors Core logs. Background work (the turn runner) reports unexpected failures only in the log, where
/// a test that merely waits for an outcome would never notice them; the chat tests fail when any was logged.
/// Only Core's own categories count: EF Core logs a failed command at Error level even when Core expects and handles
/// it (a unique violation from a duplicate send).
/// </summary>
public sealed class ErrorLogRecorder : ILoggerProvider
{
    private readonly ConcurrentQueue<string> _errors = new();

    public IReadOnlyList<string> Errors => _errors.ToArray();

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class Logger(ErrorLogRecorder recorder, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Error && category.StartsWith("ResearchAssistant.", StringComparison.Ordinal);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                recorder._errors.Enqueue($"{category}: {formatter(state, exception)}{(exception is null ? "" : " " + exception.GetType().Name + ": " + exception.Message)}");
            }
        }
    }
}
