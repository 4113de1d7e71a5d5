using Basin.IO;
using Xunit;

namespace Basin.Tests.IO;

/// <summary>The journal of finished pieces: values read back exactly, a torn last line dropped, damage elsewhere refused.</summary>
public class WorkJournalTests
{
    sealed record Piece(double X, double[] Curve, int? Missing);

    [Fact]
    public void RecordedPiecesAreReadBackExactlyAndNotComputedAgain()
    {
        var path = Path.Combine(Basin.Tests.Cli.CliRunner.TempDir(), "journal.jsonl");
        var journal = WorkJournal.Start(path);
        var piece = new Piece(0.1 + 0.2, [Math.PI, double.NaN, 1e-310, -0.0], null);
        Assert.Same(piece, journal.GetOrAdd("a", () => piece));
        Assert.Equal(double.NaN, journal.GetOrAdd("b", () => double.NaN));

        var again = WorkJournal.Continue(path);
        Assert.Equal(2, again.Count);
        var read = again.GetOrAdd<Piece>("a", () => throw new InvalidOperationException("computed again"));
        Assert.Equal(BitConverter.DoubleToInt64Bits(piece.X), BitConverter.DoubleToInt64Bits(read.X));
        Assert.Equal(piece.Curve.Select(BitConverter.DoubleToInt64Bits), read.Curve.Select(BitConverter.DoubleToInt64Bits));
        Assert.Null(read.Missing);
        Assert.True(double.IsNaN(again.GetOrAdd<double>("b", () => 0)));
        Assert.Equal(7, again.GetOrAdd("c", () => 7));
        Assert.Equal(3, WorkJournal.Continue(path).Count);
    }

    [Fact]
    public void ATornLastLineIsDroppedAndDamageElsewhereIsRefused()
    {
        var path = Path.Combine(Basin.Tests.Cli.CliRunner.TempDir(), "journal.jsonl");
        var journal = WorkJournal.Start(path);
        journal.Add("a", 1.5);
        journal.Add("b", 2.5);
        File.WriteAllText(path, File.ReadAllText(path)[..^4]);   // a kill in the middle of writing "b"
        var again = WorkJournal.Continue(path);
        Assert.Equal(1, again.Count);
        Assert.False(again.Contains("b"));
        Assert.Equal(3.5, again.GetOrAdd("b", () => 3.5));
        Assert.Equal(2, File.ReadAllLines(path).Length);   // "b" starts on a line of its own
        Assert.Equal(3.5, WorkJournal.Continue(path).GetOrAdd<double>("b", () => 0));

        File.WriteAllText(path, "not json\n" + File.ReadAllText(path));
        var e = Assert.Throws<DataFormatException>(() => WorkJournal.Continue(path));
        Assert.Contains("line 1: not a journal entry", e.Message);
        Assert.Contains("does not exist", Assert.Throws<BasinException>(() => WorkJournal.Continue(path + ".none")).Message);
    }
}
