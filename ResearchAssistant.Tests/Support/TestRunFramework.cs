using System.Reflection;
using Xunit.Abstractions;
using Xunit.Sdk;

[assembly: TestFramework("ResearchAssistant.Tests.Support.TestRunFramework", "ResearchAssistant.Tests")]

namespace ResearchAssistant.Tests.Support;

/// <summary>
/// xunit 2 has no per-run teardown, and the test host is killed about 100 ms after it starts exiting, too soon for a
/// process-exit handler to stop PostgreSQL reliably. This hooks the end of the run instead: the throwaway cluster is
/// stopped just before the run reports that it finished, while the host is still alive.
/// </summary>
public sealed class TestRunFramework(IMessageSink diagnosticMessageSink) : XunitTestFramework(diagnosticMessageSink)
{
    protected override ITestFrameworkExecutor CreateExecutor(AssemblyName assemblyName) =>
        new Executor(assemblyName, SourceInformationProvider, DiagnosticMessageSink);

    private sealed class Executor(AssemblyName assemblyName, ISourceInformationProvider sourceInformationProvider, IMessageSink diagnosticMessageSink)
        : XunitTestFrameworkExecutor(assemblyName, sourceInformationProvider, diagnosticMessageSink)
    {
        protected override async void RunTestCases(IEnumerable<IXunitTestCase> testCases, IMessageSink executionMessageSink, ITestFrameworkExecutionOptions executionOptions)
        {
            using var runner = new AssemblyRunner(TestAssembly, testCases, DiagnosticMessageSink, executionMessageSink, executionOptions);
            await runner.RunAsync();
        }
    }

    private sealed class AssemblyRunner(
        ITestAssembly testAssembly,
        IEnumerable<IXunitTestCase> testCases,
        IMessageSink diagnosticMessageSink,
        IMessageSink executionMessageSink,
        ITestFrameworkExecutionOptions executionOptions)
        : XunitTestAssemblyRunner(testAssembly, testCases, diagnosticMessageSink, executionMessageSink, executionOptions)
    {
        protected override async Task BeforeTestAssemblyFinishedAsync()
        {
            try
            {
                await PostgresServer.StopThrowawayClusterAsync();
            }
            catch (Exception ex)
            {
                // Every test has run; a cluster that would not stop is cleaned up by the next run.
                DiagnosticMessageSink.OnMessage(new DiagnosticMessage($"Stopping the throwaway PostgreSQL cluster failed: {ex}"));
            }
            await base.BeforeTestAssemblyFinishedAsync();
        }
    }
}
