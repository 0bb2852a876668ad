namespace Nanoq.Detection.Integer;

/// <summary>One step of a backbone's chain on codes (the integer counterpart of a <see cref="Nn.Layer"/>): a conv unit or a block.</summary>
public interface IIntBlock
{
    CodeTensor Forward(CodeTensor x, IntForwardContext ctx);
}
