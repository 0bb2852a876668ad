namespace Nanoq.Detection.Integer;

/// <summary>The integer counterpart of <see cref="Nn.Backbones.IBackbone"/>: codes of the image → codes of C2, C3, C4, C5.</summary>
public interface IIntBackbone
{
    CodeTensor[] Stages(CodeTensor x, IntForwardContext ctx);

    /// <summary>Every conv and add layer, in forward order.</summary>
    IEnumerable<IIntUnit> Layers { get; }
}
