using Webhooks.Dispatch.Outbound;

namespace Webhooks.Tests.Dispatch;

/// <summary>The per-target limit: a place per call up to the limit, a target by scheme, host and port (any case).</summary>
public sealed class TargetLimiterTests
{
    [Fact]
    public async Task a_full_target_gives_no_place_after_its_patience_while_other_targets_do()
    {
        using var limiter = new TargetLimiter(perTarget: 1);
        var first = await limiter.TryEnter(new Uri("https://crm.example.com/hooks/a"), CancellationToken.None);
        first.ShouldNotBeNull();

        (await limiter.TryEnter(new Uri("https://CRM.example.com/hooks/b"), CancellationToken.None)).ShouldBeNull("the same target, whatever the path or case");
        using (var other = await limiter.TryEnter(new Uri("https://crm.example.com:8443/hooks"), CancellationToken.None))
        {
            other.ShouldNotBeNull("another port is another target");
        }

        var waiting = limiter.TryEnter(new Uri("https://crm.example.com/hooks/c"), CancellationToken.None);
        first.Dispose();
        (await waiting).ShouldNotBeNull("a place freed within the patience is taken");
    }

    [Fact]
    public async Task a_cancelled_call_is_cancelled_not_refused()
    {
        using var limiter = new TargetLimiter(perTarget: 1);
        using var held = await limiter.TryEnter(new Uri("https://crm.example.com/"), CancellationToken.None);
        using var stop = new CancellationTokenSource();
        await stop.CancelAsync();

        await Should.ThrowAsync<OperationCanceledException>(() => limiter.TryEnter(new Uri("https://crm.example.com/"), stop.Token));
    }
}
