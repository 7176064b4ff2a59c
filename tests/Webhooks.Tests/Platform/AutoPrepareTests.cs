using Npgsql;
using Webhooks.Host;

namespace Webhooks.Tests.Platform;

public sealed class AutoPrepareTests
{
    [Fact]
    public void the_hot_statements_are_prepared_unless_the_connection_string_says_otherwise()
    {
        new NpgsqlConnectionStringBuilder(WebhooksHost.WithAutoPrepare("Host=db;Username=u")).MaxAutoPrepare.ShouldBe(64);
        new NpgsqlConnectionStringBuilder(WebhooksHost.WithAutoPrepare("Host=db;Max Auto Prepare=0")).MaxAutoPrepare.ShouldBe(0);
        new NpgsqlConnectionStringBuilder(WebhooksHost.WithAutoPrepare("Host=db;max auto prepare=8")).MaxAutoPrepare.ShouldBe(8);
    }
}
