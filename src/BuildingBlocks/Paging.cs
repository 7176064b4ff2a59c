using Microsoft.AspNetCore.Mvc;

namespace Webhooks.BuildingBlocks;

/// <summary>Cursor paging: the query asks for one row more than the page to learn whether a next page exists.</summary>
public static class Paging
{
    public static ProblemDetails Validate(string? after, int? limit) => new FieldErrors()
        .Check(Cursor.TryDecode(after, out _), "after", "The cursor is not one this API handed out; pass the 'next' value of a previous page.")
        .Check(limit is null or >= 1 and <= Cursor.MaxLimit, "limit", $"The limit must be between 1 and {Cursor.MaxLimit}.")
        .ToProblem();

    public static Contracts.Page<TView> Page<TRow, TView>(
        IReadOnlyList<TRow> rows, int limit, Func<TRow, TView> view, Func<TRow, string> key)
    {
        var items = rows.Take(limit).Select(view).ToList();
        var next = rows.Count > limit ? Cursor.Encode(key(rows[limit - 1])) : null;
        return new Contracts.Page<TView>(items, next);
    }
}
