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

// JasperFx's command line (codegen, describe, db-apply, ...) when a command is asked for; a plain start (no arguments, or
// only ASP.NET Core's --key value settings) runs the host directly: JasperFx would first scan every assembly for commands
// and print a line for each, the noise a newcomer saw before where it listens.
if (args.Length > 0 && (!args[0].StartsWith('-') || args[0] is "--help" or "-h" or "-?"))
{
    return await app.RunJasperFxCommands(args);
}

try
{
    await app.RunAsync();
    return 0;
}
catch (Exception failure) when (failure is not OutOfMemoryException)
{
    // The host logged what failed (with its stack); the console's last line says it in one.
    await Console.Error.WriteLineAsync($"Webhooks stopped: {failure.GetBaseException().Message}");
    return 1;
}

public partial class Program;
