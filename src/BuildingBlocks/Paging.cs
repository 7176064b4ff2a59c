using Microsoft.AspNetCore.Mvc;

namespace Webhooks.BuildingBlocks;

/// <summary>Cursor paging: the query asks for one row more than the page to learn whether a next page exists.</summary>
public static class Paging
{
    public static ProblemDetails Validate(string? after, int? limit) => new FieldErrors()
        .Check(Cursor.TryDecode(after, out _), "after", "The cursor is not one this API handed out; pass the 'next' value of a previous page.")
        .Check(limit is null or >= 1 and <= Cursor.MaxLimit, "limit", $"The limit must be between 1 and {Cursor.MaxLimit}.")
        .ToProblem();

    /// <summary>A page of an event stream's changes, oldest first, the cursor being the last version shown.</summary>
    public static Contracts.Page<TView> ByVersion<TRow, TView>(
        IEnumerable<TRow> rows, Func<TRow, long> version, Func<TRow, TView> view, string? after, int? limit)
    {
        Cursor.TryDecode(after, out var afterKey);
        var from = long.TryParse(afterKey, System.Globalization.CultureInfo.InvariantCulture, out var last) ? last : 0;
        var take = limit ?? Cursor.DefaultLimit;
        var page = rows.Where(r => version(r) > from).Take(take + 1).ToList();
        return Page(page, take, view, r => version(r).ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    public static Contracts.Page<TView> Page<TRow, TView>(
        IReadOnlyList<TRow> rows, int limit, Func<TRow, TView> view, Func<TRow, string> key)
    {
        var items = rows.Take(limit).Select(view).ToList();
        var next = rows.Count > limit ? Cursor.Encode(key(rows[limit - 1])) : null;
        return new Contracts.Page<TView>(items, next);
    }
}
