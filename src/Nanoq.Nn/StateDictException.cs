namespace Nanoq.Nn;

/// <summary>A state dict or checkpoint does not fit the model; the message names the tensor.</summary>
public sealed class StateDictException(string message, Exception? inner = null) : Exception(message, inner);
