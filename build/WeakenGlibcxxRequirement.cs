#nullable enable
// Compiled by MSBuild's RoslynCodeTaskFactory (see TorchSharpNativeFix.targets).
// Marks one symbol-version requirement of an ELF64 shared library as weak, so that the
// dynamic loader accepts the library on a system whose libstdc++ lacks that version.
using System;
using System.Collections.Generic;
using System.IO;
using System.Text;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

public class WeakenGlibcxxRequirement : Task
{
    [Required] public ITaskItem[] Files { get; set; } = Array.Empty<ITaskItem>();
    [Required] public string Version { get; set; } = "";
    /// <summary>Patch even when this system's libstdc++ defines the version (for files that will run elsewhere).</summary>
    public bool Force { get; set; }

    const uint ShtGnuVerdef = 0x6ffffffd;
    const uint ShtGnuVerneed = 0x6ffffffe;
    const ushort VerFlgWeak = 0x2;

    static readonly string[] LibstdcxxCandidates =
    {
        "/usr/lib/x86_64-linux-gnu/libstdc++.so.6", "/lib/x86_64-linux-gnu/libstdc++.so.6",
        "/usr/lib64/libstdc++.so.6", "/lib64/libstdc++.so.6", "/usr/lib/libstdc++.so.6",
        "/usr/lib/aarch64-linux-gnu/libstdc++.so.6",
    };

    public override bool Execute()
    {
        if (Force) return Patch();
        string? libstdcxx = null;
        foreach (var c in LibstdcxxCandidates) if (File.Exists(c)) { libstdcxx = c; break; }
        if (libstdcxx == null)
        {
            Log.LogMessage(MessageImportance.Low, "No system libstdc++.so.6 found; leaving TorchSharp's native library unchanged.");
            return true;
        }
        if (DefinedVersions(File.ReadAllBytes(libstdcxx)).Contains(Version))
        {
            Log.LogMessage(MessageImportance.Low, $"{libstdcxx} defines {Version}; no patch needed.");
            return true;
        }
        return Patch();
    }

    bool Patch()
    {
        foreach (var item in Files)
        {
            var path = item.ItemSpec;
            try
            {
                var bytes = File.ReadAllBytes(path);
                int changed = WeakenRequirement(bytes, Version);
                if (changed < 0) { Log.LogMessage(MessageImportance.Low, $"{path}: does not require {Version}."); continue; }
                if (changed == 0) { Log.LogMessage(MessageImportance.Low, $"{path}: {Version} already weak."); continue; }
                var tmp = path + ".basin-tmp";
                File.WriteAllBytes(tmp, bytes);
                File.Replace(tmp, path, null);
                Log.LogMessage(MessageImportance.High, $"Basin: marked {Version} weak in {path}" + (Force ? "." : " (system libstdc++ lacks it)."));
            }
            catch (Exception e) when (e is IOException || e is InvalidDataException || e is UnauthorizedAccessException)
            {
                Log.LogError($"Basin: cannot patch {path}: {e.Message}");
                return false;
            }
        }
        return true;
    }

    // Returns -1 if the version is not required, 0 if already weak, 1 if it was made weak now.
    static int WeakenRequirement(byte[] elf, string version)
    {
        foreach (var sec in Sections(elf))
        {
            if (sec.Type != ShtGnuVerneed) continue;
            var strtab = SectionAt(elf, (int)sec.Link);
            long vn = sec.Offset;
            for (uint i = 0; i < sec.Info; i++)
            {
                ushort cnt = U16(elf, vn + 2);
                long aux = vn + U32(elf, vn + 8);
                for (int j = 0; j < cnt; j++)
                {
                    string name = CString(elf, strtab.Offset + U32(elf, aux + 8));
                    if (name == version)
                    {
                        ushort flags = U16(elf, aux + 4);
                        if ((flags & VerFlgWeak) != 0) return 0;
                        flags |= VerFlgWeak;
                        elf[aux + 4] = (byte)(flags & 0xff);
                        elf[aux + 5] = (byte)(flags >> 8);
                        return 1;
                    }
                    aux += U32(elf, aux + 12);
                }
                uint next = U32(elf, vn + 12);
                if (next == 0) break;
                vn += next;
            }
        }
        return -1;
    }

    static HashSet<string> DefinedVersions(byte[] elf)
    {
        var result = new HashSet<string>();
        foreach (var sec in Sections(elf))
        {
            if (sec.Type != ShtGnuVerdef) continue;
            var strtab = SectionAt(elf, (int)sec.Link);
            long vd = sec.Offset;
            for (uint i = 0; i < sec.Info; i++)
            {
                long aux = vd + U32(elf, vd + 12);
                result.Add(CString(elf, strtab.Offset + U32(elf, aux)));
                uint next = U32(elf, vd + 16);
                if (next == 0) break;
                vd += next;
            }
        }
        return result;
    }

    readonly struct Section
    {
        public Section(uint type, long offset, uint link, uint info) { Type = type; Offset = offset; Link = link; Info = info; }
        public uint Type { get; }
        public long Offset { get; }
        public uint Link { get; }
        public uint Info { get; }
    }

    static IEnumerable<Section> Sections(byte[] elf)
    {
        if (elf.Length < 64 || elf[0] != 0x7f || elf[1] != (byte)'E' || elf[2] != (byte)'L' || elf[3] != (byte)'F')
            throw new InvalidDataException("not an ELF file");
        if (elf[4] != 2 || elf[5] != 1) throw new InvalidDataException("only little-endian ELF64 is supported");
        int n = U16(elf, 0x3C);
        for (int i = 0; i < n; i++) yield return SectionAt(elf, i);
    }

    static Section SectionAt(byte[] elf, int index)
    {
        long shoff = (long)U64(elf, 0x28);
        int shentsize = U16(elf, 0x3A);
        long h = shoff + (long)index * shentsize;
        if (h + 64 > elf.Length) throw new InvalidDataException("section header out of range");
        return new Section(U32(elf, h + 4), (long)U64(elf, h + 0x18), U32(elf, h + 0x28), U32(elf, h + 0x2C));
    }

    static ushort U16(byte[] b, long o) => BitConverter.ToUInt16(b, checked((int)o));
    static uint U32(byte[] b, long o) => BitConverter.ToUInt32(b, checked((int)o));
    static ulong U64(byte[] b, long o) => BitConverter.ToUInt64(b, checked((int)o));

    static string CString(byte[] b, long o)
    {
        int start = checked((int)o), end = start;
        while (end < b.Length && b[end] != 0) end++;
        return Encoding.ASCII.GetString(b, start, end - start);
    }
}
