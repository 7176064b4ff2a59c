using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Webhooks.Tests.Infrastructure;

/// <summary>The real host as its own process (<c>dotnet Webhooks.Host.dll</c>), for start-up and shutdown tests.</summary>
public sealed class HostProcess : IAsyncDisposable
{
    private readonly Process process;
    private readonly StringBuilder output = new();

    private HostProcess(Process process, Uri address)
    {
        this.process = process;
        Address = address;
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public Uri Address { get; }

    public int Id => process.Id;

    public string Output
    {
        get
        {
            lock (output)
            {
                return output.ToString();
            }
        }
    }

    /// <summary>Starts the host with these settings (environment variables) plus a loopback URL of its own.</summary>
    public static HostProcess Start(string workingDirectory, IDictionary<string, string> settings, params string[] arguments) =>
        Start(workingDirectory, settings, FreePort(), arguments);

    /// <summary>Starts the host on this loopback port (a host started again where its clients expect it).</summary>
    public static HostProcess Start(string workingDirectory, IDictionary<string, string> settings, int port, params string[] arguments)
    {
        var address = new Uri($"http://127.0.0.1:{port}");
        // Through env --default-signal=INT: a process started in the background by a non-interactive shell (CI running
        // the tests with `&`) has SIGINT ignored, and its children inherit that; the host must see Ctrl-C as a user's
        // terminal sends it, or the tests of stopping by SIGINT wait for nothing.
        var start = new ProcessStartInfo("env")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("--default-signal=INT");
        start.ArgumentList.Add("dotnet");
        start.ArgumentList.Add(Repository.HostDll);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var inherited in start.Environment.Keys.Where(k => k.StartsWith("Webhooks__", StringComparison.Ordinal) || k.StartsWith("ConnectionStrings__", StringComparison.Ordinal)).ToList())
        {
            start.Environment.Remove(inherited);
        }

        start.Environment["ASPNETCORE_URLS"] = address.ToString();
        start.Environment["Logging__Console__FormatterName"] = "simple";
        foreach (var (key, value) in settings)
        {
            start.Environment[key] = value;
        }

        return new HostProcess(Process.Start(start)!, address);
    }

    public async Task WaitUntilReady(TimeSpan timeout)
    {
        using var http = new HttpClient { BaseAddress = Address, Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"The host exited with {process.ExitCode}:\n{Output}");
            }

            try
            {
                if ((await http.GetAsync("/health/ready")).IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException)
            {
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"The host was not ready within {timeout}:\n{Output}");
    }

    /// <summary>Sends a signal (SIGTERM, SIGINT) and waits for the host to exit; returns its exit code.</summary>
    public async Task<int> Signal(string signal, TimeSpan timeout)
    {
        using (var kill = Process.Start("kill", $"-{signal} {process.Id}"))
        {
            await kill.WaitForExitAsync();
        }

        return await WaitForExit(timeout);
    }

    /// <summary>kill -9: the host gets no chance to finish anything or to release what it holds.</summary>
    public async Task Kill()
    {
        process.Kill(entireProcessTree: false);
        await process.WaitForExitAsync();
    }

    public async Task<int> WaitForExit(TimeSpan timeout)
    {
        using var cancellation = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cancellation.Token);
        }
        catch (OperationCanceledException)
        {
            // What it was doing when it would not stop is in its last lines.
            throw new TimeoutException($"The host did not exit within {timeout}. Its output:{Environment.NewLine}{Output}");
        }

        process.WaitForExit(); // drains the redirected output
        return process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }

        process.Dispose();
    }

    public static bool IsAlive(int pid)
    {
        try
        {
            using var candidate = Process.GetProcessById(pid);
            return !candidate.HasExited && File.Exists($"/proc/{pid}/stat") && !File.ReadAllText($"/proc/{pid}/stat").Contains(") Z ", StringComparison.Ordinal);
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (output)
        {
            output.AppendLine(line);
        }
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
