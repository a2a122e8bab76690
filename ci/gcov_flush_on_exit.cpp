// Coverage builds only (SEGSIM_COVERAGE, the `coverage` preset, ci/coverage.sh).
//
// `segsim sweep` runs seeds in forked worker processes that end with _exit(),
// which skips the exit handler where gcov writes its counters, so the seeds'
// coverage would be lost. The segsim binary of a coverage build is linked with
// -Wl,--wrap=_exit: every _exit() it calls comes here first and writes them
// (libgcov merges concurrent writers under a file lock).
extern "C" {
void __gcov_dump(void);
[[noreturn]] void __real__exit(int status);

[[noreturn]] void __wrap__exit(int status) {
  __gcov_dump();
  __real__exit(status);
}
}
