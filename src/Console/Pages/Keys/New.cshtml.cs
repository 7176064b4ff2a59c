using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Webhooks.KeySafe.Contracts;

namespace Webhooks.Console.Pages.Keys;

/// <summary>
/// What the key forms hold: the details and every type's credential fields (only the chosen type's are sent). The
/// secrets go to the API and nowhere else: never back into a page.
/// </summary>
public sealed class KeyForm
{
    public string? Name { get; set; }
    public string? Description { get; set; }
    public string Type { get; set; } = KeyTypes.HttpBasic;
    public string? Username { get; set; }
    public string? Password { get; set; }
    public string? AllowedOrigins { get; set; }
    public string? Token { get; set; }
    public string? HeaderName { get; set; }
    public string? Value { get; set; }
    public string? TokenUrl { get; set; }
    public string? ClientId { get; set; }
    public string? ClientSecret { get; set; }
    public string? Scope { get; set; }
    public string? CertificatePem { get; set; }
    public string? PrivateKeyPem { get; set; }
    public IFormFile? Pkcs12File { get; set; }
    public string? Pkcs12Password { get; set; }

    /// <summary>The chosen type's fields as the API takes them (blank: absent); the other types' are left out.</summary>
    public RotateKeySecret Credential(string type) => type switch
    {
        KeyTypes.Bearer => new(null, null, Token: Blank(Token)),
        KeyTypes.ApiKeyHeader => new(null, null, HeaderName: Blank(HeaderName)?.Trim(), Value: Blank(Value)),
        KeyTypes.OAuth2ClientCredentials => new(null, null, TokenUrl: Blank(TokenUrl)?.Trim(), ClientId: Blank(ClientId), ClientSecret: Blank(ClientSecret), Scope: Blank(Scope)),
        KeyTypes.Mtls when Pkcs12File is { Length: > 0 } file => new(null, null, Pkcs12Base64: Base64(file), Pkcs12Password: Pkcs12Password ?? ""),
        KeyTypes.Mtls => new(null, null, CertificatePem: Blank(CertificatePem), PrivateKeyPem: Blank(PrivateKeyPem)),
        _ => new(Username, Password),
    };

    public CreateKey ToCreate()
    {
        var c = Credential(Type);
        return new CreateKey(
            Name?.Trim(), Type, Blank(Description), c.Username, c.Password, Format.Lines(AllowedOrigins), c.Token, c.HeaderName, c.Value,
            c.TokenUrl, c.ClientId, c.ClientSecret, c.Scope, c.CertificatePem, c.PrivateKeyPem, c.Pkcs12Base64, c.Pkcs12Password);
    }

    /// <summary>Forgets every secret typed, before the form is shown again.</summary>
    public void ForgetSecrets() => (Password, Token, Value, ClientSecret, PrivateKeyPem, Pkcs12Password) = (null, null, null, null, null, null);

    private static string? Blank(string? text) => string.IsNullOrWhiteSpace(text) ? null : text;

    /// <summary>Refused here, unread, when larger than the API takes: a problem beside the file field.</summary>
    public ConsoleProblem? FileTooLarge() => Pkcs12File is { Length: > MaxPkcs12FileBytes }
        ? ConsoleProblem.ForField("pkcs12Base64", $"The PKCS#12 file may be at most {MaxPkcs12FileBytes / 1024} KiB.")
        : null;

    private static string Base64(IFormFile file)
    {
        using var read = new MemoryStream();
        using (var stream = file.OpenReadStream())
        {
            stream.CopyTo(read);
        }

        return Convert.ToBase64String(read.ToArray());
    }

    /// <summary>48 KiB, whose base64 is the API's 64 KiB.</summary>
    public const long MaxPkcs12FileBytes = 48 * 1024;
}

/// <summary>Creates a KeySafe key (keysafe role).</summary>
public sealed class NewKeyModel(ConsoleApi console) : ConsolePage(console)
{
    [BindProperty]
    public KeyForm Form { get; set; } = new();

    public IActionResult OnGet() => User.CanManageKeys() ? Page() : Denied();

    public async Task<IActionResult> OnPostAsync(CancellationToken cancellation)
    {
        if (Form.FileTooLarge() is { } tooLarge)
        {
            Problem = tooLarge;
            Form.ForgetSecrets();
            return Page();
        }

        var created = await Try(() => Api.CreateKey(Form.ToCreate(), cancellation));
        if (created is not null)
        {
            return Redirect($"/console/keysafe/{created.Id}?done=created");
        }

        Form.ForgetSecrets();
        return Page();
    }
}

/// <summary>The credential fields of a form: of every type (new key), or of <paramref name="FixedType"/> only (rotation).</summary>
public sealed record CredentialFields(KeyForm Form, string? FixedType, ConsoleProblem? Problem);
