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
app.UseWebhooks();
return await app.RunJasperFxCommands(args);

public partial class Program;
