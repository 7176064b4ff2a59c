using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Webhooks.Dispatch;

namespace Webhooks.Tests.Dispatch;

public sealed class DispatchOptionsTests
{
    /// <summary>The options as the host binds and validates them (on start: <c>ValidateOnStart</c>).</summary>
    private static DispatchOptions From(params (string Key, string Value)[] settings)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(settings.ToDictionary(s => $"Webhooks:Dispatch:{s.Key}", s => (string?)s.Value))
            .Build();
        using var provider = new ServiceCollection().AddSingleton<IConfiguration>(configuration).AddDispatchOptions().BuildServiceProvider();
        provider.GetRequiredService<IStartupValidator>().Validate();
        return provider.GetRequiredService<DispatchOptions>();
    }

    [Fact]
    public void defaults_are_kept_when_nothing_is_configured()
    {
        var options = From();
        options.Schedule.ShouldBe(DispatchOptions.DefaultRetrySchedule);
        options.DeadNodeTimeout.ShouldBe(TimeSpan.FromMinutes(1));
        options.HeartbeatInterval.ShouldBe(TimeSpan.FromSeconds(10));
        options.SyncRecording.ShouldBe(SyncRecording.Durable);
        options.GroupCommitters.ShouldBe(1);
        options.SchedulePollingInterval.ShouldBe(TimeSpan.FromMilliseconds(250));
    }

    [Theory]
    [InlineData("Deferred", SyncRecording.Deferred)]
    [InlineData("durable", SyncRecording.Durable)]
    public void sync_recording_is_read_by_name(string value, SyncRecording expected) =>
        From(("SyncRecording", value)).SyncRecording.ShouldBe(expected);

    [Theory]
    [InlineData("00:00:03", 1000)]
    [InlineData("00:00:30", 5000)]
    [InlineData("01:00:00", 10000)]
    public void the_heartbeat_is_a_sixth_of_the_dead_node_timeout_within_1_to_10_seconds(string timeout, int heartbeatMs) =>
        From(("DeadNodeTimeout", timeout)).HeartbeatInterval.ShouldBe(TimeSpan.FromMilliseconds(heartbeatMs));

    [Theory]
    [InlineData("00:00:30", 60)]
    [InlineData("00:02:00", 150)]
    public void handlers_may_run_as_long_as_a_call_may_take_and_some(string asyncTimeout, int seconds) =>
        From(("AsyncTimeout", asyncTimeout)).HandlerTimeout.ShouldBe(TimeSpan.FromSeconds(seconds));

    [Theory]
    [InlineData("DeadNodeTimeout", "00:00:01", "DeadNodeTimeout must be at least 2 seconds")]
    [InlineData("AllowedNetworks:0", "10.0.0.0/33", "'10.0.0.0/33' is not a CIDR range")]
    [InlineData("RetrySchedule:0", "-00:00:01", "delays must not be negative")]
    [InlineData("SyncTimeout", "00:00:00", "SyncTimeout and AsyncTimeout must be positive")]
    [InlineData("MaxConcurrencyPerTarget", "0", "MaxConcurrencyPerTarget at least 1")]
    [InlineData("SyncRecording", "sometimes", "SyncRecording")]
    [InlineData("GroupCommitters", "0", "GroupCommitters must be between 1 and 16")]
    [InlineData("SyncTimeout", "ten seconds", "SyncTimeout")]
    [InlineData("Breaker:FailureThreshold", "0", "Breaker: FailureThreshold must be at least 1")]
    [InlineData("Breaker:MaxCoolDown", "00:00:01", "MaxCoolDown at least CoolDown")]
    [InlineData("Breaker:AutoDisableAfter", "-00:00:01", "AutoDisableAfter must not be negative")]
    [InlineData("TrustedCertificateAuthorities", "/nowhere/authorities.pem", "there is no file '/nowhere/authorities.pem'")]
    public void bad_settings_stop_the_start_with_a_message(string key, string value, string message) =>
        Should.Throw<Exception>(() => From((key, value))).ShouldSatisfyAllConditions(
            e => (e is OptionsValidationException or InvalidOperationException).ShouldBeTrue(e.GetType().Name), // the validator's, or the binder's
            e => e.Message.ShouldContain(message));

    [Theory]
    [InlineData("ftp://ops.example.com/hooks", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "Targets:oncall:Url must be an absolute http(s) URL")]
    [InlineData("https://ops.example.com/hooks", "plain-secret", "Targets:oncall:Secret must be whsec_")]
    [InlineData("https://ops.example.com/hooks", "whsec_c2hvcnQ=", "at least 24 bytes")]
    public void bad_operator_targets_stop_the_start_with_a_message(string url, string secret, string message)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Webhooks:Operations:Targets:oncall:Url"] = url,
            ["Webhooks:Operations:Targets:oncall:Secret"] = secret,
        }).Build();
        var services = new ServiceCollection().AddSingleton<IConfiguration>(configuration);
        services.AddOptions<Webhooks.Dispatch.Operations.OperationsOptions>().BindConfiguration(Webhooks.Dispatch.Operations.OperationsOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<Webhooks.Dispatch.Operations.OperationsOptions>, Webhooks.Dispatch.Operations.OperationsOptionsValidator>();
        using var provider = services.BuildServiceProvider();

        Should.Throw<OptionsValidationException>(() => provider.GetRequiredService<IStartupValidator>().Validate()).Message.ShouldContain(message);
    }
}
