// page-file-spec: open() against the reference reading of the format.
#include "scenarios/oracles/page_file_spec.h"

#include <algorithm>

#include <fmt/format.h>

#include "core/mapped_page_file.h"
#include "scenarios/oracles/error_text.h"
#include "scenarios/oracles/oracles.h"
#include "scenarios/workloads/page_file_spec.h"

namespace segsim::scenarios {

namespace {

// Page i of an open file is the page_size bytes at page_size * (i + 1).
void check_read_back(Oracles& oracles, const MappedPageFile& opened, std::span<const std::byte> file,
                     const std::string& variant) {
  const std::uint64_t last = opened.page_count() - 1;
  for (const std::uint64_t i : {std::uint64_t{0}, opened.root_page_index(), last}) {
    const std::span<const std::byte> got = opened.page(i);
    const std::uint64_t at = (i + 1) * opened.page_size();
    if (got.size() != opened.page_size() || !std::equal(got.begin(), got.end(), file.begin() + static_cast<long>(at))) {
      oracles.fail("page-file-spec", fmt::format("{}: page {} of the open file is not the {} bytes at offset {}", variant,
                                                 i, opened.page_size(), at));
    }
  }
}

}  // namespace

void check_open_against_spec(Oracles& oracles, faults::SimOs& sim_os, Os& os, bool faults_active,
                             const std::string& path, std::span<const std::byte> file, const std::string& variant) {
  const page_file::SpecVerdict want = page_file::judge_page_file(file);
  const std::size_t file_mapped_bytes = sim_os.stats().file_bytes;
  const std::uint64_t unmap_failures = MappedPageFile::unmap_failures();
  auto opened = MappedPageFile::open(os, path);
  if (!opened.ok()) {
    const Error& error = opened.error();
    check_error_text(oracles, error);
    if (faults_active && (error.code == Errc::OsFailure || error.code == Errc::OutOfMemory)) return;
    if (want.rule == nullptr || error.code != Errc::InvalidPageFile || error.detail != std::string(want.rule)) {
      oracles.fail("page-file-spec", fmt::format("{} ({} B): open refused it with '{}'; the reference says '{}'", variant,
                                                 file.size(), error.describe(), want.rule ? want.rule : "valid"));
    }
    if (!faults_active && (sim_os.stats().file_bytes != file_mapped_bytes ||
                           MappedPageFile::unmap_failures() != unmap_failures)) {
      oracles.fail("page-file-spec", fmt::format("{}: a refused open left {} B of file mappings (before: {}) and {} "
                                                 "unmap failures (before: {})",
                                                 variant, sim_os.stats().file_bytes, file_mapped_bytes,
                                                 MappedPageFile::unmap_failures(), unmap_failures));
    }
    return;
  }
  if (want.rule != nullptr) {
    oracles.fail("page-file-spec", fmt::format("{} ({} B): open accepted it; the reference says '{}'", variant,
                                               file.size(), want.rule));
  }
  if (opened->page_size() != want.page_size || opened->page_count() != want.page_count ||
      opened->root_offset() != want.root_offset || opened->file_bytes() != file.size() ||
      opened->root_page_index() != want.root_offset / want.page_size - 1) {
    oracles.fail("page-file-spec", fmt::format("{}: open reports {} pages of {} B, root at {}, {} B; the reference "
                                               "says {} pages of {} B, root at {}, {} B",
                                               variant, opened->page_count(), opened->page_size(),
                                               opened->root_offset(), opened->file_bytes(), want.page_count,
                                               want.page_size, want.root_offset, file.size()));
  }
  check_read_back(oracles, *opened, file, variant);
  const Status closed = opened->close();
  if (!closed.ok() && !faults_active) oracles.fail("page-file-spec", variant + ": close: " + closed.error().describe());
}

}  // namespace segsim::scenarios
