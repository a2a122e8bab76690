// PageFileWriter::write checked through the Os seam, on every seed: into
// SimOs's in-memory files (a page a write_file call, so writes are short)
// under small fault plans — none, an interrupted write (asked again), every
// write interrupted (given up after kMaxWriteInterruptions in a row), two runs
// of that many with a write between (no give-up), a full device at
// a drawn write, a refused create, a failed close — each against what the plan
// makes due: the result and its errno, the write calls made, no descriptor
// left open, each descriptor the writer created closed exactly once and no
// call on one it had not (or had already closed) — a ForwardingOs between the
// writer and the FaultyOs logs its calls — and the file (all of to_bytes(), a prefix of it after a failed
// write, none after a failed create). Then the refusals of no pages and of a
// path under a file, and the real Os without touching a file system (a path
// under /dev/null, /dev/full, a memfd). Oracle page-file-writer.
#pragma once

#include "core/page_file_writer.h"
#include "scenarios/stack.h"
#include "sim/random.h"

namespace segsim::scenarios::page_file {

void check_writer_writes(Stack& stack, const PageFileWriter& writer, sim::Rng& rng);

}  // namespace segsim::scenarios::page_file
