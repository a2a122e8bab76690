#!/usr/bin/env bash
# What a page fault and a syscall cost on this machine — the numbers behind
# SimOs::residency and the sparse oracles (docs/benchmarks.md, "Page faults").
# On a paravirtualised VM every page-table change exits to the hypervisor, so
# a first touch of a 4 KiB page costs tens of times what it does on bare
# metal, and a sweep's speed follows the pages its oracles touch.
#   bench/page_fault_cost.sh        (needs cc)
set -euo pipefail
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat > "$work/cost.c" <<'C'
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }
int main(void) {
  const size_t bytes = 64u << 20, pages = bytes / 4096;
  char *p = mmap(0, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) return 1;
  double t = now();
  for (size_t i = 0; i < bytes; i += 4096) p[i] = 1;
  const double write_fault = (now() - t) / pages;
  madvise(p, bytes, MADV_DONTNEED);
  volatile char sink = 0;
  t = now();
  for (size_t i = 0; i < bytes; i += 4096) sink += p[i];
  const double read_fault = (now() - t) / pages;
  t = now();
  memset(p, 0, bytes);
  const double memset_page = (now() - t) / pages;
  unsigned char residency[16];
  t = now();
  for (int i = 0; i < 100000; i++) mincore(p, 16 * 4096, residency);
  const double mincore_call = (now() - t) / 100000;
  t = now();
  for (int i = 0; i < 100000; i++) syscall(SYS_getppid);
  const double syscall_call = (now() - t) / 100000;
  printf("first write of a page   %6.2f us\n", write_fault * 1e6);
  printf("first read of a page    %6.2f us  (after DONTNEED)\n", read_fault * 1e6);
  printf("memset of a resident page %4.2f us\n", memset_page * 1e6);
  printf("mincore of 16 pages     %6.2f us\n", mincore_call * 1e6);
  printf("getppid                 %6.2f us\n", syscall_call * 1e6);
  return 0;
}
C
cc -O2 -o "$work/cost" "$work/cost.c"
"$work/cost"
