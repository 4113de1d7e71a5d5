using System.Runtime.InteropServices;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Xunit;

namespace Basin.Tests.Cli;

/// <summary>The CLI's one error boundary (issue 20): every exception type is one line and an exit code.</summary>
public class ErrorBoundaryTests
{
    static (int Code, string Message) Describe(Exception e) => (Basin.Cli.Cli.Describe(e, out var m), m);

    [Fact]
    public void EveryExceptionTypeMapsToOneLineAndTheRightExitCode()
    {
        Assert.Equal((1, "bad"), Describe(new BasinException("bad")));
        Assert.Equal((1, "bad"), Describe(new AggregateException(new BasinException("bad"))));
        Assert.Equal(130, Describe(new OperationCanceledException()).Code);
        Assert.Equal((130, "cancelled"), Describe(new OperationCanceledException()));
        // What a job adds after .NET's own wording (what is kept, how to resume) survives it.
        Assert.Equal((130, "cancelled; kept in x"), Describe(new OperationCanceledException(new OperationCanceledException().Message +
            "; kept in x")));
        Assert.Equal((130, "cancelled in round 2"), Describe(new OperationCanceledException("cancelled in round 2")));
        var damaged = Describe(new SqliteException("SQLite Error 11: 'database disk image is malformed'.", 11));
        Assert.Equal(1, damaged.Code);
        Assert.Contains("run database", damaged.Message);
        Assert.Contains("damaged", damaged.Message);
        Assert.Contains("another basin process", Describe(new SqliteException("SQLite Error 5: 'database is locked'.", 5)).Message);
        Assert.StartsWith("malformed JSON", Describe(new JsonException("'}' is invalid")).Message);
        Assert.Equal(1, Describe(new FormatException("x")).Code);
        Assert.Equal(1, Describe(new OverflowException("x")).Code);
        Assert.Equal(1, Describe(new ArgumentException("The value cannot be an empty string. (Parameter 'path')")).Code);
        var torch = Describe(new ExternalException("linalg.eigh: The algorithm failed to converge\nException raised from apply_lapack_eigh at /pytorch/x.cpp:1\nframe #0: ..."));
        Assert.Equal((1, "libtorch: linalg.eigh: The algorithm failed to converge"), torch);
        var bug = Describe(new InvalidOperationException("Sequence contains no elements"));
        Assert.Equal(70, bug.Code);
        Assert.Contains("internal error (InvalidOperationException)", bug.Message);
        Assert.DoesNotContain('\n', bug.Message);
    }
}
