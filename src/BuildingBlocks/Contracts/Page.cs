namespace Webhooks.Contracts;

/// <summary>One page of a list. Every list endpoint answers this shape.</summary>
/// <typeparam name="T">The item type.</typeparam>
/// <param name="Items">The items on this page, in the list's order.</param>
/// <param name="Next">The cursor to pass as <c>after</c> for the next page, or null on the last page.</param>
public sealed record Page<T>(IReadOnlyList<T> Items, string? Next);
