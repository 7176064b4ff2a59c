using Webhooks.BuildingBlocks;
using Webhooks.KeySafe.Contracts;

namespace Webhooks.KeySafe.Keys;

/// <summary>What a key's fields must be. Messages name fields, never echo a secret.</summary>
public static class KeyRules
{
    public const int MaxNameLength = 100;
    public const int MaxDescriptionLength = 2000;
    public const int MaxUsernameLength = 256;
    public const int MaxPasswordLength = 1024;

    public static void Name(FieldErrors errors, string? name)
    {
        if (string.IsNullOrWhiteSpace(name))
        {
            errors.Add("name", "The name is required.");
        }
        else if (name.Length > MaxNameLength)
        {
            errors.Add("name", $"The name must be at most {MaxNameLength} characters.");
        }
        else if (name.Any(char.IsControl))
        {
            errors.Add("name", "The name may not contain control characters.");
        }
    }

    public static void Description(FieldErrors errors, string? description) => errors.Check(
        description is null || description.Length <= MaxDescriptionLength,
        "description",
        $"The description must be at most {MaxDescriptionLength} characters.");

    /// <summary>RFC 7617: the user-id may not contain a colon; neither part may contain control characters.</summary>
    public static void HttpBasic(FieldErrors errors, string? username, string? password)
    {
        if (string.IsNullOrEmpty(username))
        {
            errors.Add("username", "The username is required for an httpBasic key.");
        }
        else if (username.Length > MaxUsernameLength || username.Contains(':', StringComparison.Ordinal) || username.Any(char.IsControl))
        {
            errors.Add("username", $"The username must be at most {MaxUsernameLength} characters, without ':' or control characters (RFC 7617).");
        }

        if (string.IsNullOrEmpty(password))
        {
            errors.Add("password", "The password is required for an httpBasic key.");
        }
        else if (password.Length > MaxPasswordLength || password.Any(char.IsControl))
        {
            errors.Add("password", $"The password must be at most {MaxPasswordLength} characters, without control characters.");
        }
    }

    /// <summary>Origins (<c>https://crm.example.com</c>), at most <see cref="Origins.MaxPerKey"/>; answered normalised and without repeats.</summary>
    public static IReadOnlyList<string>? AllowedOrigins(FieldErrors errors, IReadOnlyList<string>? origins)
    {
        if (origins is null)
        {
            return null;
        }

        if (origins.Count > Origins.MaxPerKey)
        {
            errors.Add("allowedOrigins", $"A key may be bound to at most {Origins.MaxPerKey} origins.");
            return null;
        }

        var normalized = new List<string>();
        foreach (var origin in origins)
        {
            var (parsed, problem) = Origins.Parse(origin);
            if (problem is not null)
            {
                errors.Add("allowedOrigins", $"The origin {problem}.");
            }
            else if (!normalized.Contains(parsed!))
            {
                normalized.Add(parsed!);
            }
        }

        return normalized;
    }

    public static void Type(FieldErrors errors, string? type) => errors.Check(
        type is not null && KeyTypes.All.Contains(type, StringComparer.Ordinal),
        "type",
        $"The type must be one of: {string.Join(", ", KeyTypes.All)}.");
}
