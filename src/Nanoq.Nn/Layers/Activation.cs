using Nanoq.Autograd;

namespace Nanoq.Nn.Layers;

/// <summary>A parameter-free element-wise layer (ReLU, ReLU6, sigmoid…), named by its function.</summary>
public sealed class Activation(Func<Var, Var> fn, string name) : Layer
{
    public string Kind { get; } = name;

    public static Activation ReLU() => new(Fn.Relu, "ReLU");
    public static Activation ReLU6() => new(Fn.Relu6, "ReLU6");
    public static Activation Sigmoid() => new(Fn.Sigmoid, "Sigmoid");

    public override Var Forward(Var x) => fn(x);
}
