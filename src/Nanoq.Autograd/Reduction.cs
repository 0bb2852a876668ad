namespace Nanoq.Autograd;

/// <summary>How an element-wise loss is reduced (PyTorch's <c>reduction=</c>).</summary>
public enum Reduction
{
    /// <summary>One loss per element, the input's shape.</summary>
    None,
    /// <summary>Σ over all elements, shape [1].</summary>
    Sum,
    /// <summary>Σ / number of elements, shape [1].</summary>
    Mean,
}
