using System.Net;
using System.Text;
using System.Text.Json;
using Webhooks.Dispatch.Outbound;

namespace Webhooks.Tests.Dispatch;

/// <summary>What an answer may not hand back: the credential the call sent, in any form an echo writes it in.</summary>
public sealed class CredentialScrubbingTests
{
    private const string Password = "pa/ss+wörd&<x>";
    private static readonly string Basic = Convert.ToBase64String(Encoding.UTF8.GetBytes($"hooks:{Password}"));
    private static readonly List<string> Sent = [Password, Basic];

    [Theory]
    [InlineData("raw")]
    [InlineData("url")]
    [InlineData("form")]
    [InlineData("json")]
    [InlineData("json-php")]
    [InlineData("json-lower-hex")]
    public void every_form_of_the_password_is_cut_out(string form)
    {
        var echoed = form switch
        {
            "raw" => Password,
            "url" => Uri.EscapeDataString(Password),
            "form" => WebUtility.UrlEncode(Password),
            "json" => JsonEncodedText.Encode(Password).ToString(),
            "json-php" => JsonEncodedText.Encode(Password).ToString().Replace("/", "\\/", StringComparison.Ordinal),
            _ => JsonEncodedText.Encode(Password).ToString().ToLowerInvariant(),
        };

        var excerpt = TargetCaller.Excerpt($"you sent {echoed} and {Basic.Replace("/", "\\/", StringComparison.Ordinal)}", Sent, 4096);

        excerpt.ShouldBe("you sent [redacted] and [redacted]");
    }

    [Fact]
    public void a_secret_across_the_cut_is_cut_out_whole()
    {
        var padding = new string('x', 4096 - 10);

        var excerpt = TargetCaller.Excerpt(padding + Basic + " after", Sent, 4096);

        excerpt.ShouldNotContain(Basic[..10]);
        excerpt.ShouldStartWith(padding + "[redac");
    }

    [Fact]
    public void an_answer_that_stops_inside_a_secret_loses_that_beginning()
    {
        var excerpt = TargetCaller.Excerpt("the key starts " + Basic[..12], Sent, 4096);

        excerpt.ShouldBe("the key starts [redacted]");
    }
}
