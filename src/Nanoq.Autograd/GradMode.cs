namespace Nanoq.Autograd;

/// <summary>
/// Whether ops record the graph (per thread). <c>using (GradMode.NoGrad()) { … }</c> runs inference without
/// keeping parents or backward closures, like <c>torch.no_grad()</c>.
/// </summary>
public static class GradMode
{
    [ThreadStatic] private static int _disabledDepth;

    public static bool IsEnabled => _disabledDepth == 0;

    public static IDisposable NoGrad()
    {
        _disabledDepth++;
        return new Scope();
    }

    private sealed class Scope : IDisposable
    {
        private bool _done;
        public void Dispose()
        {
            if (_done) return;
            _done = true;
            _disabledDepth--;
        }
    }
}
