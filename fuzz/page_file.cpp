// fuzz_page_file: libFuzzer's bytes are a page file. They become an in-memory
// file of a SimOs (deterministic, no disk), which MappedPageFile opens and
// validates; every page of a file that passes is read and its records
// decoded. Nothing may crash, and every span handed out must lie inside the
// mapping (checked here explicitly: an out-of-bounds read inside the last
// mapped OS page would go unnoticed by ASan and by SimOs's guard pages).
//
// The header checksum covers the fields, so mutated fields almost never reach
// the rules checked after it (page_count vs the file length, the root
// offset). A file rejected for its checksum is therefore opened a second time
// with the checksum repaired. The access hint and populate_on_open come from
// the input's last byte (a zero padding byte in real files: no options).
// SEGSIM_FUZZ_VERBOSE=1 prints each input's outcome (to check a corpus).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "core/mapped_page_file.h"
#include "core/page_records.h"
#include "faults/sim_os.h"

namespace segsim {
namespace {

constexpr const char* kPath = "/fuzz/page_file";
// Inputs past this are skipped: a page file of 4 KiB pages needs 8 KiB, and
// larger inputs only slow the run down.
constexpr std::size_t kMaxInputBytes = std::size_t{1} << 20;

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "fuzz_page_file: %s\n", what);
  __builtin_trap();
}

void check(bool condition, const char* what) {
  if (!condition) fail(what);
}

bool verbose() {
  static const bool on = [] {
    const char* v = std::getenv("SEGSIM_FUZZ_VERBOSE");
    return v != nullptr && v[0] == '1';
  }();
  return on;
}

faults::SimOs& sim_os() {
  // One SimOs for the whole run: creating one reserves address space and a
  // page table, far costlier than an input. Every input unmaps what it maps
  // (checked below), so the state it leaves behind is the same each time.
  static std::unique_ptr<faults::SimOs> os = [] {
    faults::SimOsConfig config;
    config.reservation_bytes = std::size_t{64} << 20;
    auto created = faults::SimOs::create(config);
    if (!created.ok()) fail("SimOs::create failed");
    return std::move(created.value());
  }();
  return *os;
}

bool inside(std::span<const std::byte> inner, std::span<const std::byte> outer) {
  return inner.empty() ||
         (inner.data() >= outer.data() && inner.size() <= outer.size() &&
          static_cast<std::size_t>(inner.data() - outer.data()) <= outer.size() - inner.size());
}

// Every record of `page`: decoded or rejected, never read out of bounds. The
// bytes are summed so the reads cannot be optimised away.
std::uint64_t read_records(std::span<const std::byte> page) {
  auto decoded = decode_page_records(page);
  if (!decoded.ok()) {
    check(decoded.error().code == Errc::InvalidPageFile, "record decode failed with a non-page-file error");
    check(decoded.error().detail[0] != '\0', "record decode error without a detail");
    return 0;
  }
  check(decoded->size() <= page.size() / kPageRecordEntryBytes, "more records than a page can hold");
  std::uint64_t sum = 0;
  for (const PageRecordView& r : decoded.value()) {
    check(inside(r.value, page), "record value outside its page");
    for (std::byte b : r.value) sum += static_cast<std::uint64_t>(b);
    if (r.dewey_id) {
      check(inside(*r.dewey_id, page), "DeweyID outside its page");
      for (std::byte b : *r.dewey_id) sum += static_cast<std::uint64_t>(b);
    }
  }
  return sum;
}

OpenOptions options_from(const std::vector<std::byte>& file) {
  OpenOptions options;
  if (file.empty()) return options;
  const auto last = static_cast<std::uint8_t>(file.back());
  options.access = static_cast<AccessHint>(last % 3);
  options.populate_on_open = (last & 0x4) != 0;
  return options;
}

// Opens `file` as the SimOs file; returns the open error's detail, or "" if it opened.
const char* open_and_read(const std::vector<std::byte>& file) {
  faults::SimOs& os = sim_os();
  os.add_file(kPath, file, /*mtime_ns=*/1);
  auto opened = MappedPageFile::open(os, kPath, options_from(file));
  if (!opened.ok()) {
    check(opened.error().code == Errc::InvalidPageFile, "open failed with a non-page-file error");
    check(opened.error().detail[0] != '\0', "open error without a detail");
    check(os.stats().virtual_bytes == 0, "a rejected file left a mapping behind");
    return opened.error().detail;
  }
  MappedPageFile& pf = opened.value();
  check(pf.file_bytes() == file.size(), "mapping length differs from the file");
  check(pf.page_count() >= 1, "an open file has a root page");
  check(pf.page_size() >= kMinPageFileBytesPerPage && pf.page_size() <= kMaxPageFileBytesPerPage,
        "page size out of range");
  check(pf.file_bytes() == (pf.page_count() + 1) * pf.page_size(), "length and page_count disagree");
  check(pf.root_page_index() < pf.page_count(), "root page past the end");
  const std::span<const std::byte> whole(pf.page(0).data() - pf.page_size(), pf.file_bytes());
  std::uint64_t sum = 0;
  for (std::uint64_t i = 0; i < pf.page_count(); ++i) {
    const std::span<const std::byte> page = pf.page(i);
    check(page.size() == pf.page_size() && inside(page, whole), "page outside the mapping");
    check(std::memcmp(page.data(), file.data() + (i + 1) * pf.page_size(), page.size()) == 0,
          "page bytes differ from the file");
    sum += read_records(page);
  }
  auto changed = pf.refresh();
  check(changed.ok() && !changed.value(), "refresh saw a change in an unchanged file");
  check(pf.close().ok(), "close failed");
  check(os.stats().virtual_bytes == 0, "close left a mapping behind");
  asm volatile("" : : "r"(sum));
  return "";
}

}  // namespace
}  // namespace segsim

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace segsim;
  if (size > kMaxInputBytes) return -1;  // not added to the corpus
  std::vector<std::byte> file(size);
  if (size > 0) std::memcpy(file.data(), data, size);

  // The codec alone, on the raw bytes as one page (capped at the largest page).
  read_records(std::span<const std::byte>(file.data(), std::min(size, std::size_t{kMaxPageRecordsPageBytes})));

  const char* outcome = open_and_read(file);
  const char* repaired = nullptr;
  if (std::strcmp(outcome, "header checksum mismatch") == 0) {
    const std::uint64_t checksum = fnv1a64(std::span(file.data(), kPageFileChecksummedBytes));
    for (int i = 0; i < 8; ++i) file[40 + i] = static_cast<std::byte>(checksum >> (8 * i));
    repaired = open_and_read(file);
    check(std::strcmp(repaired, "header checksum mismatch") != 0, "a repaired checksum still mismatches");
  }
  if (verbose()) {
    std::fprintf(stderr, "fuzz_page_file: %zu bytes: %s%s%s\n", size, outcome[0] ? outcome : "opened",
                 repaired ? "; checksum repaired: " : "", repaired ? (repaired[0] ? repaired : "opened") : "");
  }
  return 0;
}
