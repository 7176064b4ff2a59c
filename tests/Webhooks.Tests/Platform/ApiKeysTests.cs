using System.Security.Claims;
using Microsoft.Extensions.Configuration;
using Webhooks.BuildingBlocks;
using Webhooks.Contracts;
using Webhooks.Host;
using Webhooks.Host.Auth;

namespace Webhooks.Tests.Platform;

public sealed class ApiKeysTests
{
    [Fact]
    public void development_without_configured_keys_gets_the_dev_admin_key_with_every_role()
    {
        var keys = ApiKeys.FromConfiguration(Configuration(), isDevelopment: true);

        keys.UsesDevelopmentKey.ShouldBeTrue();
        var principal = keys.Find("dev-admin-key").ShouldNotBeNull();
        Roles.All.ShouldAllBe(role => principal.IsInRole(role));
    }

    [Fact]
    public void outside_development_no_keys_means_the_host_refuses_to_start()
    {
        var refusal = Should.Throw<StartupException>(() => ApiKeys.FromConfiguration(Configuration(), isDevelopment: false));
        refusal.Message.ShouldContain("Webhooks__Auth__ApiKeys__");
    }

    [Fact]
    public void configured_keys_replace_the_dev_key_even_in_development()
    {
        var keys = ApiKeys.FromConfiguration(Configuration(("ops", "a-long-ops-secret", ["admin"], [])), isDevelopment: true);

        keys.UsesDevelopmentKey.ShouldBeFalse();
        keys.Find("dev-admin-key").ShouldBeNull();
        keys.Find("a-long-ops-secret")!.Identity!.Name.ShouldBe("ops");
    }

    [Fact]
    public void a_key_knows_its_roles_and_applications()
    {
        var keys = ApiKeys.FromConfiguration(
            Configuration(("crm-app", "crm-secret", ["publisher"], ["crm", "sales"])), isDevelopment: false);

        var principal = keys.Find("crm-secret")!;
        principal.IsInRole(Roles.Publisher).ShouldBeTrue();
        principal.IsInRole(Roles.Admin).ShouldBeFalse();
        principal.MayActFor("crm").ShouldBeTrue();
        principal.MayActFor("sales").ShouldBeTrue();
        principal.MayActFor("hr").ShouldBeFalse();
        principal.Actor().ShouldBe("crm-app");
    }

    [Fact]
    public void keys_are_matched_exactly()
    {
        var keys = ApiKeys.FromConfiguration(Configuration(("ops", "secret-1", ["admin"], [])), isDevelopment: false);
        keys.Find("secret-").ShouldBeNull();
        keys.Find("secret-12").ShouldBeNull();
        keys.Find("SECRET-1").ShouldBeNull();
    }

    [Fact]
    public void unknown_roles_missing_roles_and_duplicate_keys_are_refused_with_every_reason()
    {
        var refusal = Should.Throw<StartupException>(() => ApiKeys.FromConfiguration(
            Configuration(
                ("typo", "k1", ["admn"], []),
                ("none", "k2", [], []),
                ("twin", "k1", ["auditor"], []),
                ("empty", "", ["admin"], [])),
            isDevelopment: true));

        refusal.Message.ShouldContain("'typo' has unknown roles admn");
        refusal.Message.ShouldContain("'none' has no Roles");
        refusal.Message.ShouldContain("same Key as another");
        refusal.Message.ShouldContain("'empty' has no Key");
    }

    private static IConfiguration Configuration(params (string Name, string Key, string[] Roles, string[] Applications)[] keys)
    {
        var settings = new Dictionary<string, string?>();
        foreach (var (name, key, roles, applications) in keys)
        {
            settings[$"Webhooks:Auth:ApiKeys:{name}:Key"] = key;
            for (var i = 0; i < roles.Length; i++)
            {
                settings[$"Webhooks:Auth:ApiKeys:{name}:Roles:{i}"] = roles[i];
            }

            for (var i = 0; i < applications.Length; i++)
            {
                settings[$"Webhooks:Auth:ApiKeys:{name}:Applications:{i}"] = applications[i];
            }
        }

        return new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
    }
}

public sealed class PrincipalTests
{
    [Fact]
    public void an_unlimited_publisher_may_act_for_any_application_and_others_only_as_admin()
    {
        Principal("publisher").MayActFor("any").ShouldBeTrue();
        Principal("admin").MayActFor("any").ShouldBeTrue();
        Principal("auditor").MayActFor("any").ShouldBeFalse();
        Principal("keysafe").MayActFor("any").ShouldBeFalse();
        Principal("publisher").VisibleApplications().ShouldBeNull();
    }

    private static ClaimsPrincipal Principal(string role) =>
        new(new ClaimsIdentity([new Claim(ClaimTypes.Name, "k"), new Claim(ClaimTypes.Role, role)], "test"));
}
