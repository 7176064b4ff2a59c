using System.Reflection;

namespace Webhooks.Tests.Architecture;

/// <summary>
/// The rules of ARCHITECTURE.md, checked on the compiled assemblies' references (which list only what the IL
/// actually uses): a module uses another module only through its Contracts; Contracts and the SDK depend on no
/// module internals and on no framework; the shared building blocks know no module.
/// </summary>
public static class ModuleBoundaries
{
    public const string SharedContracts = "Webhooks.Contracts";
    public const string BuildingBlocks = "Webhooks.BuildingBlocks";
    public const string Triggers = "Webhooks.Triggers";

    /// <summary>Libraries every module may use: they hold no module's domain.</summary>
    public static readonly string[] Shared = [BuildingBlocks, Triggers];

    public static readonly string[] Modules = ["Webhooks.Definitions", "Webhooks.Dispatch", "Webhooks.KeySafe"];

    private static readonly string[] Frameworks = ["Marten", "Wolverine", "JasperFx", "Weasel", "Npgsql", "Microsoft.AspNetCore"];

    public static bool IsContracts(string assembly) =>
        assembly == SharedContracts || assembly.EndsWith(".Contracts", StringComparison.Ordinal);

    /// <summary>What a module assembly may not reference: another module's internals, or the host.</summary>
    public static IEnumerable<string> ModuleViolations(Assembly module) =>
        ProjectReferences(module)
            .Where(name => !IsContracts(name) && !Shared.Contains(name))
            .Select(name => $"{module.GetName().Name} uses {name}, which is not a Contracts assembly");

    /// <summary>What a Contracts assembly or the SDK may not reference: any non-Contracts project, or a framework.</summary>
    public static IEnumerable<string> ContractsViolations(Assembly contracts, params string[] allowedFrameworks) =>
        ProjectReferences(contracts)
            .Where(name => !IsContracts(name))
            .Concat(contracts.GetReferencedAssemblies().Select(a => a.Name!)
                .Where(name => Frameworks.Any(f => name.StartsWith(f, StringComparison.Ordinal)) && !allowedFrameworks.Contains(name)))
            .Select(name => $"{contracts.GetName().Name} uses {name}");

    /// <summary>Public Contracts types are data: records, enums, or static classes of constants.</summary>
    public static IEnumerable<string> BehaviourInContracts(Assembly contracts) =>
        contracts.GetExportedTypes()
            .Where(type => !(IsRecord(type) || type.IsEnum || IsConstantHolder(type) || IsWireShape(type)))
            .Select(type => $"{type.FullName} is not a record, an enum or a static class of constants");

    /// <summary>A JSON converter says how a contract is written on the wire (e.g. a value that is a string or an object): shape, not behaviour.</summary>
    private static bool IsWireShape(Type type) =>
        type.BaseType is { IsGenericType: true } baseType && baseType.GetGenericTypeDefinition() == typeof(System.Text.Json.Serialization.JsonConverter<>);

    private static IEnumerable<string> ProjectReferences(Assembly assembly) =>
        assembly.GetReferencedAssemblies()
            .Select(a => a.Name!)
            .Where(name => name.StartsWith("Webhooks.", StringComparison.Ordinal) && name != assembly.GetName().Name);

    private static bool IsRecord(Type type) => type.GetMethod("<Clone>$") is not null;

    private static bool IsConstantHolder(Type type) =>
        type is { IsAbstract: true, IsSealed: true }
        && type.GetMethods(BindingFlags.Public | BindingFlags.Static | BindingFlags.DeclaredOnly).All(m => m.IsSpecialName)
        && type.GetFields(BindingFlags.Public | BindingFlags.Static).All(f => f.IsLiteral || f.IsInitOnly);
}
