using Nanoq.Coco;
namespace Nanoq.Cli.Commands;

/// <summary>Bad command-line usage; the message is one line for stderr.</summary>
internal sealed class UsageException(string message) : Exception(message);
