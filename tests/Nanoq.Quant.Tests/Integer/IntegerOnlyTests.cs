using System.Reflection;
using System.Reflection.Emit;
using Nanoq.Kernels.Integer;
using Nanoq.Quant.Integer;

namespace Nanoq.Tests.Integer;

/// <summary>
/// DESIGN.md §5: the integer runtime touches only integer types. Reflects over every type of the namespaces
/// <c>Nanoq.Quant.Integer</c> and <c>Nanoq.Kernels.Integer</c> (compiler-generated nested types included) and fails on
/// any float, double or Half in
/// <list type="bullet">
/// <item>field types, method and constructor parameters, return types, properties;</item>
/// <item>local variables (<c>MethodBody.LocalVariables</c>);</item>
/// <item>the IL: float constants and conversions (<c>ldc.r4/r8</c>, <c>conv.r4/r8/r.un</c>, float array/indirect access),
/// and every member a <c>call/callvirt/newobj/ldftn/ldfld/ldsfld/stfld/…</c> token resolves to that takes, returns or
/// is typed as float/double/Half, or that belongs to System.Math, MathF, Single, Double or Half.</item>
/// </list>
/// "Float" includes generic instantiations (Vector512&lt;float&gt;, Span&lt;double&gt;), arrays, pointers and by-refs.
/// </summary>
public class IntegerOnlyTests
{
    private static readonly string[] Namespaces = ["Nanoq.Quant.Integer", "Nanoq.Quant.Integer.Program", "Nanoq.Kernels.Integer"];

    private static readonly Dictionary<short, OpCode> OpCodesByValue = typeof(OpCodes)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Select(f => (OpCode)f.GetValue(null)!)
        .ToDictionary(o => o.Value);

    private static readonly HashSet<short> FloatOpCodes =
    [
        OpCodes.Ldc_R4.Value, OpCodes.Ldc_R8.Value, OpCodes.Conv_R4.Value, OpCodes.Conv_R8.Value, OpCodes.Conv_R_Un.Value,
        OpCodes.Ldind_R4.Value, OpCodes.Ldind_R8.Value, OpCodes.Stind_R4.Value, OpCodes.Stind_R8.Value,
        OpCodes.Ldelem_R4.Value, OpCodes.Ldelem_R8.Value, OpCodes.Stelem_R4.Value, OpCodes.Stelem_R8.Value, OpCodes.Ckfinite.Value,
    ];

    private static readonly Type[] ForbiddenDeclaringTypes = [typeof(Math), typeof(MathF), typeof(float), typeof(double), typeof(Half)];

    internal static bool IsFloat(Type? t)
    {
        if (t is null) return false;
        if (t == typeof(float) || t == typeof(double) || t == typeof(Half)) return true;
        if (t.HasElementType) return IsFloat(t.GetElementType());
        if (t.IsGenericType && !t.IsGenericTypeDefinition) return t.GetGenericArguments().Any(IsFloat);
        return false;
    }

    private static IEnumerable<Type> RuntimeTypes()
    {
        var assemblies = new[] { typeof(IntConv2d).Assembly, typeof(IntModelFile).Assembly };
        return assemblies.SelectMany(a => a.GetTypes())
            .Where(t => t.Namespace is { } ns && Namespaces.Contains(ns))
            .Distinct();
    }

    /// <summary>Every float use found in <paramref name="type"/>, as readable strings.</summary>
    internal static List<string> FloatUses(Type type)
    {
        var found = new List<string>();
        const BindingFlags all = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;
        foreach (var f in type.GetFields(all))
            if (IsFloat(f.FieldType)) found.Add($"{type}: field {f.Name} is {f.FieldType}");
        foreach (var p in type.GetProperties(all))
            if (IsFloat(p.PropertyType)) found.Add($"{type}: property {p.Name} is {p.PropertyType}");
        var methods = type.GetMethods(all).Cast<MethodBase>().Concat(type.GetConstructors(all));
        foreach (var m in methods)
        {
            if (m is MethodInfo mi && IsFloat(mi.ReturnType)) found.Add($"{type}.{m.Name} returns {mi.ReturnType}");
            foreach (var p in m.GetParameters())
                if (IsFloat(p.ParameterType)) found.Add($"{type}.{m.Name} parameter {p.Name} is {p.ParameterType}");
            var body = m.GetMethodBody();
            if (body is null) continue;
            foreach (var l in body.LocalVariables)
                if (IsFloat(l.LocalType)) found.Add($"{type}.{m.Name} local #{l.LocalIndex} is {l.LocalType}");
            found.AddRange(ScanIL(type, m, body.GetILAsByteArray() ?? []));
        }
        return found;
    }

    private static IEnumerable<string> ScanIL(Type type, MethodBase method, byte[] il)
    {
        var typeArgs = type.IsGenericType ? type.GetGenericArguments() : null;
        var methodArgs = method.IsGenericMethod ? method.GetGenericArguments() : null;
        int i = 0;
        while (i < il.Length)
        {
            short value = il[i] == 0xFE ? (short)(0xFE00 | il[i + 1]) : il[i];
            int at = i;
            i += il[i] == 0xFE ? 2 : 1;
            if (!OpCodesByValue.TryGetValue(value, out var op))
                throw new InvalidOperationException($"{type}.{method.Name}: unknown IL opcode 0x{value:X} at {at}.");
            if (FloatOpCodes.Contains(op.Value)) yield return $"{type}.{method.Name} IL_{at:X4}: {op.Name}";
            switch (op.OperandType)
            {
                case OperandType.InlineNone: break;
                case OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar: i += 1; break;
                case OperandType.InlineVar: i += 2; break;
                case OperandType.InlineI8 or OperandType.InlineR: i += 8; break;
                case OperandType.ShortInlineR: i += 4; break;
                case OperandType.InlineSwitch: i += 4 + 4 * BitConverter.ToInt32(il, i); break;
                case OperandType.InlineMethod or OperandType.InlineField or OperandType.InlineTok or OperandType.InlineType:
                {
                    int token = BitConverter.ToInt32(il, i);
                    i += 4;
                    MemberInfo? member;
                    try
                    {
                        member = method.Module.ResolveMember(token, typeArgs, methodArgs);
                    }
                    catch (ArgumentException)
                    {
                        member = null;
                    }
                    string? why = member is null ? null : Forbidden(member);
                    if (why is not null) yield return $"{type}.{method.Name} IL_{at:X4}: {op.Name} {member!.DeclaringType}::{member.Name} ({why})";
                    break;
                }
                default: i += 4; break;
            }
        }
    }

    private static string? Forbidden(MemberInfo member)
    {
        if (member is Type t) return IsFloat(t) ? "float type" : null;
        if (member.DeclaringType is { } d && (ForbiddenDeclaringTypes.Contains(d) || IsFloat(d))) return $"member of {d.Name}";
        switch (member)
        {
            case FieldInfo f when IsFloat(f.FieldType):
                return "float field";
            case MethodBase m:
                if (m is MethodInfo mi && IsFloat(mi.ReturnType)) return "returns float";
                if (m.GetParameters().Any(p => IsFloat(p.ParameterType))) return "takes float";
                if (m.IsGenericMethod && m.GetGenericArguments().Any(IsFloat)) return "float type argument";
                return null;
            default:
                return null;
        }
    }

    [Fact]
    public void RuntimeNamespaces_UseNoFloatingPoint()
    {
        var types = RuntimeTypes().ToList();
        Assert.Contains(typeof(FixedPoint), types);
        Assert.Contains(typeof(IntModelFile), types);
        Assert.True(types.Count > 20, $"only {types.Count} types found");
        var uses = types.SelectMany(FloatUses).ToList();
        Assert.True(uses.Count == 0, "Floating point in the integer runtime:\n" + string.Join("\n", uses));
    }

    /// <summary>DESIGN.md §1: Quant/Integer depends on Tensor's integer kernels and nothing in Autograd (nor Nn).</summary>
    [Fact]
    public void Every_type_the_interpreter_runs_is_scanned()
    {
        // The program, its values, arena and hook, and every op type: all in the scanned namespaces.
        var program = typeof(Nanoq.Quant.Integer.Program.IntProgram);
        var ops = program.Assembly.GetTypes().Where(t => !t.IsAbstract && typeof(Nanoq.Quant.Integer.Program.IntOp).IsAssignableFrom(t)).ToList();
        Assert.True(ops.Count >= 8, $"only {ops.Count} op types found");
        foreach (var t in ops.Append(program).Append(typeof(Nanoq.Quant.Integer.Program.CodeTensor)).Append(typeof(Nanoq.Quant.Integer.Program.CodeArena)))
            Assert.Contains(t.Namespace, Namespaces);
        // …and the kernels the ops call.
        foreach (var t in new[] { typeof(Nanoq.Kernels.Integer.IntConv2d), typeof(Nanoq.Kernels.Integer.IntFullyConnected), typeof(Nanoq.Kernels.Integer.QuantizedAdd),
                                  typeof(Nanoq.Kernels.Integer.IntUpsample), typeof(Nanoq.Kernels.Integer.Requantization), typeof(Nanoq.Kernels.Integer.FixedPoint) })
            Assert.Contains(t.Namespace, Namespaces);
    }

    [Fact]
    public void RuntimeNamespaces_DependOnNeitherAutogradNorNn()
    {
        static bool Bad(Type? t) => t?.Namespace is { } ns && (ns.StartsWith("Nanoq.Autograd", StringComparison.Ordinal) || ns.StartsWith("Nanoq.Nn", StringComparison.Ordinal));
        const BindingFlags all = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;
        var found = new List<string>();
        foreach (var type in RuntimeTypes())
        {
            foreach (var f in type.GetFields(all)) if (Bad(f.FieldType)) found.Add($"{type}.{f.Name}");
            foreach (var m in type.GetMethods(all).Cast<MethodBase>().Concat(type.GetConstructors(all)))
            {
                if (m is MethodInfo mi && Bad(mi.ReturnType)) found.Add($"{type}.{m.Name} returns {mi.ReturnType}");
                foreach (var p in m.GetParameters()) if (Bad(p.ParameterType)) found.Add($"{type}.{m.Name}({p.ParameterType})");
                var body = m.GetMethodBody();
                if (body is null) continue;
                foreach (var l in body.LocalVariables) if (Bad(l.LocalType)) found.Add($"{type}.{m.Name} local {l.LocalType}");
                foreach (var member in ReferencedMembers(type, m, body.GetILAsByteArray() ?? []))
                    if (Bad(member as Type ?? member.DeclaringType)) found.Add($"{type}.{m.Name} uses {member.DeclaringType}::{member.Name}");
            }
        }
        Assert.True(found.Count == 0, "The integer runtime reaches into Autograd/Nn:\n" + string.Join("\n", found));
    }

    private static IEnumerable<MemberInfo> ReferencedMembers(Type type, MethodBase method, byte[] il)
    {
        var typeArgs = type.IsGenericType ? type.GetGenericArguments() : null;
        var methodArgs = method.IsGenericMethod ? method.GetGenericArguments() : null;
        int i = 0;
        while (i < il.Length)
        {
            short value = il[i] == 0xFE ? (short)(0xFE00 | il[i + 1]) : il[i];
            i += il[i] == 0xFE ? 2 : 1;
            var op = OpCodesByValue[value];
            int size = OperandSize(op, il, i);
            if (op.OperandType is OperandType.InlineMethod or OperandType.InlineField or OperandType.InlineTok or OperandType.InlineType)
            {
                MemberInfo? member = null;
                try
                {
                    member = method.Module.ResolveMember(BitConverter.ToInt32(il, i), typeArgs, methodArgs);
                }
                catch (ArgumentException)
                {
                }
                if (member is not null) yield return member;
            }
            i += size;
        }
    }

    private static int OperandSize(OpCode op, byte[] il, int at) => op.OperandType switch
    {
        OperandType.InlineNone => 0,
        OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar => 1,
        OperandType.InlineVar => 2,
        OperandType.InlineI8 or OperandType.InlineR => 8,
        OperandType.InlineSwitch => 4 + 4 * BitConverter.ToInt32(il, at),
        _ => 4,
    };

    [Fact]
    public void Scanner_CatchesEachKindOfFloatUse()
    {
        // The scanner must see what it is there to see: the offline converter uses floats in every way.
        var uses = FloatUses(typeof(Nanoq.Quant.Convert.QuantizedMultiplier));
        Assert.Contains(uses, u => u.Contains("parameter real"));            // a double parameter
        Assert.Contains(uses, u => u.Contains("returns System.Double"));     // a double return
        Assert.Contains(uses, u => u.Contains("local #"));                    // double locals
        Assert.Contains(uses, u => u.Contains("member of Math"));             // Math.ScaleB / ILogB / Round
        Assert.Contains(uses, u => u.Contains("conv.r8") || u.Contains("ldc.r8"));
        Assert.NotEmpty(FloatUses(typeof(FloatSamples)));
        Assert.Contains(FloatUses(typeof(FloatSamples)), u => u.Contains("field"));
        Assert.Contains(FloatUses(typeof(FloatSamples)), u => u.Contains("takes float"));
        Assert.Contains(FloatUses(typeof(FloatSamples)), u => u.Contains("returns float"));
    }

    private sealed class FloatSamples
    {
        public float Field = 1;

        public int TakesFloat() => BitConverter.SingleToInt32Bits(Field);

        public static int ReturnsFloat(int x) => BitConverter.Int32BitsToSingle(x) > 0 ? 1 : 0;
    }
}
