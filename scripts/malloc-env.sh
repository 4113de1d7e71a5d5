# Sourced by ./basin and ./test.sh: glibc malloc settings that keep libtorch's per-step buffers in the heap instead of
# fresh mmap'd pages (about 2x faster training on the 2-core VM; why and figures: src/Basin/Native/MallocTunables.cs,
# bench/RESULTS.md). A GLIBC_TUNABLES the user already set wins. Keep the value equal to MallocTunables.Value.
export GLIBC_TUNABLES="${GLIBC_TUNABLES:-glibc.malloc.arena_max=1:glibc.malloc.mmap_threshold=268435456:glibc.malloc.trim_threshold=1073741824}"
