namespace Webhooks.BuildingBlocks;

/// <summary>Tags of health checks: <c>/health/ready</c> runs the ones tagged <see cref="Ready"/>.</summary>
public static class HealthTags
{
    public const string Ready = "ready";
}
