using Alba;
using Microsoft.Extensions.DependencyInjection;
using Webhooks.Dispatch;
using Webhooks.Tests.Infrastructure;
using Wolverine;

namespace Webhooks.Tests.Dispatch;

/// <summary>Wolverine's handler and durability settings as <c>Webhooks:Dispatch</c> sets them in a running host.</summary>
[Collection(SharedHost.Name)]
public sealed class when_wolverine_runs_the_handlers
{
    [Fact]
    public async Task a_handler_may_run_as_long_as_its_calls_may_take_and_due_retries_are_claimed_a_thousand_at_a_time()
    {
        var connection = await TestDatabase.Fresh("handlers");
        await using var host = await AppFixture.StartHost(new Dictionary<string, string>
        {
            ["ConnectionStrings:Webhooks"] = connection,
            [$"Webhooks:KeySafe:MasterKeys:{AppFixture.MasterKeyId}"] = AppFixture.MasterKey,
            // Longer than Wolverine's own 60 s for a handler: a batch waiting for its calls must not be cut short.
            ["Webhooks:Dispatch:AsyncTimeout"] = "00:01:30",
        });
        var wolverine = host.Services.GetRequiredService<WolverineOptions>();

        wolverine.DefaultExecutionTimeout.ShouldBe(TimeSpan.FromMinutes(2));
        wolverine.Durability.RecoveryBatchSize.ShouldBe(1000);
        wolverine.Durability.ScheduledJobPollingTime.ShouldBe(host.Services.GetRequiredService<DispatchOptions>().SchedulePollingInterval);
    }
}
