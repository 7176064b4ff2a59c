namespace Webhooks.BuildingBlocks;

/// <summary>The host cannot start as configured; the message says what to change. Printed without a stack trace.</summary>
public class StartupException(string message) : Exception(message);
