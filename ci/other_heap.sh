# Sourced by ci/campaign.sh (pass 4) and ci/fuzz_determinism.sh: `other_heap`,
# environment assignments under which the heap reuses freed memory in another
# order than by default — glibc's malloc with tcache bins of 100 chunks instead
# of 7 and no fastbins, ASan's allocator with no quarantine (freed memory comes
# back at once instead of after 256 MiB). A run or input must do the same under
# it: one that does not depends on where the heap put things — on its process's
# past, not on its seed (docs/coverage.md, "Pass 4"). `segsim run
# --check-determinism` sets the same two (scenarios/cli/fresh_run.cpp,
# other_heap_environment; cli_acceptance.sh checks they agree).
other_heap=(GLIBC_TUNABLES=glibc.malloc.tcache_count=100:glibc.malloc.mxfast=0
            "ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=0")
