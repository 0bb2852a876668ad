using System.Reflection;
using Nanoq.Detection.Integer;

namespace Nanoq.Detection.Tests.Integer;

/// <summary>
/// DESIGN.md §5: the integer runtime touches only integer types. Every type in <c>Nanoq.Detection.Integer</c> is
/// reflected over: no float, double or Half field, property, parameter, return value or local (the float edges live
/// in <c>Nanoq.Detection</c>: ImageQuantizer, HeadDequantizer, IntegerRetinaNet).
/// </summary>
public class IntegerRuntimeIsFloatFreeTests
{
    private static readonly Type[] Floats = [typeof(float), typeof(double), typeof(Half), typeof(decimal)];

    private static bool IsFloat(Type t)
    {
        if (t.IsByRef || t.IsPointer || t.IsArray) return IsFloat(t.GetElementType()!);
        if (Floats.Contains(t)) return true;
        return t.IsGenericType && t.GetGenericArguments().Any(IsFloat);
    }

    [Fact]
    public void NoFloatAnywhereInTheRuntimeNamespace()
    {
        var types = typeof(IntRetinaNetGraph).Assembly.GetTypes()
            .Where(t => t.Namespace == "Nanoq.Detection.Integer").ToList();
        Assert.True(types.Count >= 15, $"only {types.Count} runtime types found");
        const BindingFlags all = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;
        var found = new List<string>();
        foreach (var t in types)
        {
            foreach (var f in t.GetFields(all)) if (IsFloat(f.FieldType)) found.Add($"{t.Name}.{f.Name} (field)");
            foreach (var p in t.GetProperties(all)) if (IsFloat(p.PropertyType)) found.Add($"{t.Name}.{p.Name} (property)");
            foreach (var m in t.GetMethods(all).Cast<MethodBase>().Concat(t.GetConstructors(all)))
            {
                if (m is MethodInfo mi && IsFloat(mi.ReturnType)) found.Add($"{t.Name}.{m.Name} (return)");
                foreach (var p in m.GetParameters()) if (IsFloat(p.ParameterType)) found.Add($"{t.Name}.{m.Name}({p.Name})");
                var body = m.GetMethodBody();
                if (body is null) continue;
                foreach (var l in body.LocalVariables) if (IsFloat(l.LocalType)) found.Add($"{t.Name}.{m.Name} (local {l.LocalType.Name})");
            }
        }
        Assert.True(found.Count == 0, "float in the integer runtime: " + string.Join(", ", found));
    }
}
