// The harness's own files: every output the CLI writes (reports, repros,
// sweep results, JUnit, traces, plots) and every input it reads (repros,
// sweep results, probe lists) goes through here.
//
// Writes are atomic and never follow a planted link: the text goes to a
// temporary created exclusively (mkstemp, mode 0600 until complete) in the
// target's own folder, is fsync'd, then renamed over the target. A target that
// exists and is not a regular file (/dev/null, a FIFO, a terminal) is written
// through instead: renaming over a device node would replace it.
//
// Reads are bounded while reading: a reader stops at `max_bytes` + 1 and
// refuses, so /dev/zero or an endless pipe is one line, never bad_alloc.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "core/result.h"

namespace segsim::scenarios {

// Writes `text` to `path` atomically (see above). On failure `error_line`
// says what and why in one line; `path` is then unchanged.
Status write_text_file(const std::string& path, std::string_view text, std::string* error_line);

// Checks, before any work starts, that write_text_file(path) can succeed: the
// folder exists and accepts a new file (proved by creating and removing a
// temporary), the target is not a folder, a non-regular target is writable.
Status check_output_path(const std::string& path, std::string* error_line);

// Creates `folder` (and its parents) when missing, then checks that it takes
// new files. For the folders repros go to.
Status prepare_output_folder(const std::string& folder, std::string* error_line);

// Makes a private folder (mode 0700, mkdtemp: a new name, never a planted
// one) named `prefix`-XXXXXX in the system's temporary folder ($TMPDIR, else
// /tmp). Its path; on failure `error_line` says why.
Result<std::string> make_temp_folder(std::string_view prefix, std::string* error_line);

// Reads at most `max_bytes` of `path` ("-" is not special). Refuses a folder,
// a missing file and anything longer than `max_bytes`, with one line naming
// `what` ("repro file", "sweep results", ...).
Result<std::string> read_text_file(const std::string& path, std::size_t max_bytes, std::string_view what,
                                   std::string* error_line);

// `text` quoted for one line of a message: control characters and quotes
// escaped (\n, \x01, \"), at most `max_bytes` of the original, "..." after a cut.
std::string quoted_text(std::string_view text, std::size_t max_bytes = 80);

// One line whatever `text` holds: control characters escaped, cut at `max_bytes`.
std::string one_line(std::string_view text, std::size_t max_bytes = 400);

}  // namespace segsim::scenarios
