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

var app = builder.Build();
try
{
    // Every ValidateOnStart option now, before anything starts, so a bad one is one clear line (not a host's stack).
    app.Services.GetService<Microsoft.Extensions.Options.IStartupValidator>()?.Validate();
    app.UseWebhooks();
    return await app.RunJasperFxCommands(args);
}
catch (Microsoft.Extensions.Options.OptionsValidationException invalid)
{
    // Options bound with ValidateOnStart: their validators' messages, as the settings read before the build say theirs.
    await Console.Error.WriteLineAsync($"Webhooks cannot start: {string.Join(" ", invalid.Failures)}");
    return 1;
}

public partial class Program;
