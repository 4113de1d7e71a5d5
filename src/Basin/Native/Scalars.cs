using TorchSharp;

namespace Basin.Native;

/// <summary>
/// Scalars that live as long as the process, for TorchSharp calls that would otherwise make a temporary one.
/// TorchSharp turns a number into a native Scalar implicitly (and some of its overloads, such as
/// <c>add(Tensor)</c>, <c>add_(Scalar)</c>, <c>square()</c> and the arithmetic operators, make one inside),
/// and nothing keeps that object alive during the native call: under GC pressure its finalizer can free it
/// while libtorch reads it ("Unknown scalar type", or a silently wrong value). Basin passes a Scalar it
/// holds instead: one of these, or <c>using var s = x.ToScalar();</c> around the call. A test compiles the
/// sources and fails on any call that would make a temporary Scalar.
/// </summary>
public static class Scalars
{
    /// <summary>The integer 1 (TorchSharp's default alpha of add and sub).</summary>
    public static readonly Scalar One = 1.ToScalar();

    /// <summary>The integer 2 (<c>t.pow(Scalars.Two)</c> is what TorchSharp's <c>square()</c> computes).</summary>
    public static readonly Scalar Two = 2.ToScalar();
}
