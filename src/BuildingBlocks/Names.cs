using System.Buffers;

namespace Webhooks.BuildingBlocks;

/// <summary>The naming rule shared by applications, event sources and webhooks: letters, digits, '.', '_', '-'.</summary>
public static class Names
{
    public const int MaxLength = 100;

    private static readonly SearchValues<char> Allowed =
        SearchValues.Create("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-");

    public static string? Problem(string? name) => name switch
    {
        null or "" => "is required",
        { Length: > MaxLength } => $"must be at most {MaxLength} characters",
        _ when name.AsSpan().ContainsAnyExcept(Allowed) => "may contain only letters, digits, '.', '_' and '-' (no spaces)",
        _ => null,
    };
}
