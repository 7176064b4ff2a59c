using System.Reflection;
using Webhooks.Client;
using Webhooks.Definitions;
using Webhooks.Dispatch;
using Webhooks.KeySafe;

namespace Webhooks.Tests.Architecture;

public sealed class ArchitectureTests
{
    private static readonly Assembly[] ModuleAssemblies =
        [typeof(DefinitionsModule).Assembly, typeof(DispatchModule).Assembly, typeof(KeySafeModule).Assembly];

    private static readonly Assembly[] ContractsAssemblies =
    [
        typeof(Webhooks.Contracts.Page<>).Assembly,
        typeof(Webhooks.Definitions.Contracts.RegisterEventSource).Assembly,
        Assembly.Load("Webhooks.Dispatch.Contracts"),
        Assembly.Load("Webhooks.KeySafe.Contracts"),
    ];

    [Fact]
    public void modules_use_each_other_only_through_contracts()
    {
        ModuleAssemblies.Select(a => a.GetName().Name).ShouldBe(ModuleBoundaries.Modules, ignoreOrder: true);
        ModuleAssemblies.SelectMany(ModuleBoundaries.ModuleViolations).ShouldBeEmpty();
    }

    [Fact]
    public void contracts_depend_on_no_module_and_no_framework()
    {
        ContractsAssemblies.SelectMany(a => ModuleBoundaries.ContractsViolations(a)).ShouldBeEmpty();
    }

    [Fact]
    public void contracts_hold_data_only()
    {
        ContractsAssemblies.SelectMany(ModuleBoundaries.BehaviourInContracts).ShouldBeEmpty();
    }

    [Fact]
    public void the_sdk_depends_only_on_contracts_and_refit()
    {
        ModuleBoundaries.ContractsViolations(typeof(IWebhooksApi).Assembly).ShouldBeEmpty();
    }

    [Fact]
    public void the_console_is_a_client_of_the_api_and_holds_no_privilege_of_its_own()
    {
        // Only the SDK and contracts: no module, no event store, no database. Whatever the console does, it does
        // through the public API with the signed-in key, so it can do exactly what that key can do.
        var console = typeof(Webhooks.Console.ConsoleModule).Assembly;
        console.GetReferencedAssemblies().Select(a => a.Name!)
            .Where(name => name.StartsWith("Webhooks.", StringComparison.Ordinal))
            .Where(name => name != "Webhooks.Client" && !ModuleBoundaries.IsContracts(name))
            .ShouldBeEmpty();
        console.GetReferencedAssemblies().Select(a => a.Name!)
            .Where(name => new[] { "Marten", "Wolverine", "JasperFx", "Weasel", "Npgsql" }.Any(f => name.StartsWith(f, StringComparison.Ordinal)))
            .ShouldBeEmpty();
    }

    [Fact]
    public void keysafe_knows_no_other_module_not_even_their_contracts()
    {
        // Its holds are holder-agnostic: a webhook is a holder like any other, named by its id and name.
        typeof(Webhooks.KeySafe.KeySafeModule).Assembly.GetReferencedAssemblies().Select(a => a.Name!)
            .Where(name => name.StartsWith("Webhooks.", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)
            .ShouldBe(["Webhooks.BuildingBlocks", "Webhooks.Contracts", "Webhooks.KeySafe.Contracts"]);
        typeof(Webhooks.KeySafe.Contracts.HoldKey).Assembly.GetReferencedAssemblies().Select(a => a.Name!)
            .Where(name => name.StartsWith("Webhooks.", StringComparison.Ordinal))
            .ShouldAllBe(name => name == "Webhooks.Contracts");
    }

    [Fact]
    public void shared_libraries_know_no_module()
    {
        new[] { typeof(Webhooks.BuildingBlocks.FieldErrors).Assembly, typeof(Webhooks.Triggers.TriggerExpression).Assembly }
            .SelectMany(a => a.GetReferencedAssemblies())
            .Select(a => a.Name!)
            .Where(name => ModuleBoundaries.Modules.Any(m => name.StartsWith(m, StringComparison.Ordinal)))
            .ShouldBeEmpty();
    }

    [Fact]
    public void a_broken_rule_is_caught()
    {
        // The host and this test assembly reach into module internals (DefinitionsModule, EventSource, ...): judged
        // as if they were modules, the rule must name those references. This proves the rule bites.
        var host = ModuleBoundaries.ModuleViolations(typeof(Program).Assembly).ToList();
        host.ShouldContain(v => v.Contains("uses Webhooks.Definitions,", StringComparison.Ordinal));

        ModuleBoundaries.ContractsViolations(typeof(ArchitectureTests).Assembly)
            .ShouldContain(v => v.Contains("uses Webhooks.Definitions", StringComparison.Ordinal));
        ModuleBoundaries.BehaviourInContracts(typeof(DefinitionsModule).Assembly)
            .ShouldContain(v => v.Contains("RegisterEventSourceEndpoint", StringComparison.Ordinal) || v.Contains("DefinitionsModule", StringComparison.Ordinal));
    }
}
