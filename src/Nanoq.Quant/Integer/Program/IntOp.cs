using System.Text.Json;

namespace Nanoq.Quant.Integer.Program;

/// <summary>
/// One op of an integer program: it reads values <see cref="Inputs"/> (codes) and writes value <see cref="Output"/>,
/// integers only. Each op type stores its own constants (<see cref="Tensors"/>, <see cref="WriteAttributes"/>),
/// is read back by <see cref="IntProgramFormat"/>, and explains any element it produced (<see cref="Explain"/>).
/// </summary>
public abstract class IntOp
{
    protected IntOp(string name, int[] inputs, int output)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        Name = name;
        Inputs = inputs;
        Output = output;
    }

    /// <summary>Unique within the program: the tap or op it was converted from (a shared layer's later calls get "#k").</summary>
    public string Name { get; }

    /// <summary>The op type in files: "conv2d", "linear", "add", "maxpool", "upsample", "clamp", "concat", "flatten", "roialign".</summary>
    public abstract string Kind { get; }

    public int[] Inputs { get; }
    public int Output { get; }

    /// <summary>
    /// Whether row r of the output (its first axis: an image, or a RoI after RoIAlign) is computed from row r of the
    /// inputs alone, so that a batch may run as consecutive groups of rows and give the same codes
    /// (<see cref="IntProgram.KeepsRowsApart"/>). True for every op but those that move data along the first axis.
    /// </summary>
    public virtual bool KeepsRowsApart => true;

    /// <summary>Computes the output codes (on <paramref name="output"/>'s grid) from the input codes.</summary>
    public abstract CodeTensor Run(IReadOnlyList<CodeTensor> inputs, IntValue output, CodeArena arena);

    /// <summary>The step-by-step integer computation of output element <paramref name="index"/> from these inputs.</summary>
    public abstract string Explain(IReadOnlyList<CodeTensor> inputs, int[] index);

    /// <summary>The op's integer tensors for the model file (weights, bias, multipliers).</summary>
    public virtual IEnumerable<IntTensor> Tensors() => [];

    /// <summary>The op's attributes (besides name, op, inputs, output) as JSON properties.</summary>
    public abstract void WriteAttributes(Utf8JsonWriter w);

    /// <summary>Throws naming the op unless <paramref name="x"/> has the zero point the op was converted for.</summary>
    protected void CheckGrid(CodeTensor x, int zeroPoint, int bits, string operand = "input")
    {
        if (x.ZeroPoint != zeroPoint || x.Bits > bits)
            throw new ArgumentException($"{Name}: {operand} {x} is not on the grid this op was converted for (z = {zeroPoint}, {bits} bits).");
    }

    public override string ToString() => $"{Name}: {Kind} [{string.Join(", ", Inputs)}] → {Output}";
}
