namespace Basin;

/// <summary>
/// An error caused by the user's input (a file, an option, a shape) rather than by a bug.
/// The CLI prints its message as one line and exits non-zero; messages name the cause.
/// </summary>
public class BasinException : Exception
{
    public BasinException(string message) : base(message) { }
    public BasinException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>A data file (IDX, gzip, safetensors, checkpoint) that is malformed or does not fit.</summary>
public class DataFormatException : BasinException
{
    public DataFormatException(string message) : base(message) { }
    public DataFormatException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>Training stopped because the loss became NaN or infinite.</summary>
public class DivergenceException : BasinException
{
    public DivergenceException(string message) : base(message) { }
}

/// <summary>
/// A setting outside its allowed values (a negative λ, an unknown name): a usage error, exit 2 in the CLI.
/// <see cref="Parameter"/> names the setting as the library knows it (e.g. famLambda); the CLI shows its flag.
/// </summary>
public class OptionException : BasinException
{
    public OptionException(string parameter, string message) : base(message) => Parameter = parameter;

    public string Parameter { get; }
}
