namespace Webhooks.Tests.Infrastructure;

/// <summary>
/// For what no tracked session can wait on (a health check, a receiver, another process): asks again every 50 ms (or
/// <c>every</c>) until the answer is the one wanted, and fails saying what it last saw. The one polling helper of the tests.
/// </summary>
public static class Poll
{
    public static async Task<T> Until<T>(
        Func<Task<T>> read, Func<T, bool> done, TimeSpan? timeout = null, Func<T, string>? describe = null, TimeSpan? every = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(15));
        while (true)
        {
            var value = await read();
            if (done(value))
            {
                return value;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Not so within {timeout ?? TimeSpan.FromSeconds(15)}; last seen: {describe?.Invoke(value) ?? value?.ToString()}");
            }

            await Task.Delay(every ?? TimeSpan.FromMilliseconds(50));
        }
    }
}
