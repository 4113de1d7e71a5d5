namespace Basin.Data;

/// <summary>
/// The content of one IDX file of unsigned bytes: its dimension sizes and the values in
/// row-major order. <see cref="Source"/> names the file in error messages.
/// </summary>
public sealed record IdxArray(string Source, long[] Shape, byte[] Values)
{
    /// <summary>Size of the first dimension (the number of examples).</summary>
    public long Count => Shape[0];
}
