using Microsoft.AspNetCore.Mvc;
using Webhooks.Contracts;
using Webhooks.KeySafe.Contracts;

namespace Webhooks.Console.Pages.Keys;

/// <summary>
/// One key: its details and history; for the keysafe role also rename (name, description, origins), rotate the
/// secret (write-only) and delete (refused while webhooks use it: the refusal names them).
/// </summary>
public sealed class KeyDetailModel(ConsoleApi console) : ConsolePage(console)
{
    public Guid Id => Guid.Parse((string)RouteData.Values["id"]!);

    public KeyView? Key { get; private set; }
    public IReadOnlyList<KeyChange> History { get; private set; } = [];
    public string? Done { get; private set; }

    /// <summary>Which form the problem belongs to (details, secret or delete), so it shows beside it.</summary>
    public string? ProblemFor { get; private set; }

    [BindProperty]
    public KeyForm Form { get; set; } = new();

    public bool SeesHistory => User.Can(Roles.KeySafe, Roles.Auditor);

    public async Task<IActionResult> OnGetAsync(string? done, CancellationToken cancellation)
    {
        if (!User.CanSeeKeys())
        {
            return Denied();
        }

        Done = done;
        await Load(cancellation);
        return Shown();
    }

    public async Task<IActionResult> OnPostDetailsAsync(CancellationToken cancellation) =>
        await After("details", Try(() => Api.UpdateKey(Id,
            new UpdateKey(Form.Name?.Trim(), Form.Description ?? "", Format.Lines(Form.AllowedOrigins)), cancellation)), "saved", cancellation);

    public async Task<IActionResult> OnPostSecretAsync(CancellationToken cancellation)
    {
        if (Form.FileTooLarge() is { } tooLarge)
        {
            Problem = tooLarge;
            return await Failed("secret", cancellation);
        }

        return await After("secret", Try(async () => await Api.RotateKeySecret(Id, Form.Credential((await Api.GetKey(Id, cancellation)).Type), cancellation)), "rotated", cancellation);
    }

    public async Task<IActionResult> OnPostDeleteAsync(CancellationToken cancellation)
    {
        var name = (await Try(() => Api.GetKey(Id, cancellation)))?.Name ?? Id.ToString();
        if (await Try(() => Api.DeleteKey(Id, cancellation)))
        {
            return Redirect($"/console/keysafe?deleted={Uri.EscapeDataString(name)}");
        }

        return await Failed("delete", cancellation);
    }

    private async Task<IActionResult> After(string form, Task<KeyView?> change, string done, CancellationToken cancellation) =>
        await change is not null ? Redirect($"/console/keysafe/{Id}?done={done}") : await Failed(form, cancellation);

    /// <summary>The page again with the refusal beside its form, and what was typed (but never the password).</summary>
    private async Task<IActionResult> Failed(string form, CancellationToken cancellation)
    {
        var problem = Problem;
        var typed = Form;
        await Load(cancellation);
        (Problem, ProblemFor) = (problem, form);
        if (form != "delete")
        {
            // The refused form keeps what was typed; a refused deletion leaves the forms as the key is.
            Form = typed;
        }

        Form.ForgetSecrets();
        return Page();
    }

    private async Task<bool> Load(CancellationToken cancellation)
    {
        Key = await Try(() => Api.GetKey(Id, cancellation));
        if (Key is null)
        {
            return false;
        }

        Form = new KeyForm
        {
            Name = Key.Name,
            Description = Key.Description,
            Username = Key.Username,
            HeaderName = Key.HeaderName,
            TokenUrl = Key.TokenUrl,
            ClientId = Key.ClientId,
            Scope = Key.Scope,
            AllowedOrigins = string.Join('\n', Key.AllowedOrigins),
        };
        if (SeesHistory)
        {
            History = (await Try(() => Api.GetKeyHistory(Id, limit: 500, cancellationToken: cancellation)))?.Items ?? [];
        }

        return true;
    }
}
