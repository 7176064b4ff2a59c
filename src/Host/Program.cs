using JasperFx;
using Webhooks.BuildingBlocks;
using Webhooks.Host;

var builder = WebApplication.CreateBuilder(args);
try
{
    builder.AddWebhooks();
}
catch (StartupException problem)
{
    await Console.Error.WriteLineAsync($"Webhooks cannot start: {problem.Message}");
    return 1;
}

WebApplication app;
try
{
    app = builder.Build();
    // Every ValidateOnStart option now, before anything starts, so a bad one is one clear line (not a host's stack).
    app.Services.GetService<Microsoft.Extensions.Options.IStartupValidator>()?.Validate();
    app.UseWebhooks();
}
catch (Microsoft.Extensions.Options.OptionsValidationException invalid)
{
    // Options bound with ValidateOnStart: their validators' messages, as the settings read before the build say theirs.
    await Console.Error.WriteLineAsync($"Webhooks cannot start: {string.Join(" ", invalid.Failures)}");
    return 1;
}
catch (InvalidOperationException unreadable) when (unreadable.Message.StartsWith("Failed to convert configuration value", StringComparison.Ordinal))
{
    // The configuration binder's own words name the key and the value it could not read.
    await Console.Error.WriteLineAsync($"Webhooks cannot start: {unreadable.Message}");
    return 1;
}

return await app.RunJasperFxCommands(args);

public partial class Program;
