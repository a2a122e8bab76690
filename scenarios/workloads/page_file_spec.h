// A reference of the page-file format (core/mapped_page_file.h, version 1),
// written from its documentation and never calling core's parser or encoder:
// what the harness believes a file means, so that MappedPageFile::open can be
// compared with it byte for byte. Internal to the page-file workload.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace segsim::scenarios::page_file {

// The fields of the 64-byte header, as the reference writes them.
struct SpecHeader {
  std::uint32_t format_version = 1;
  std::uint32_t page_size = 4096;
  std::uint64_t page_count = 1;
  std::uint64_t root_offset = 4096;
  std::uint64_t reserved = 0;
};

// The reference's verdict on a whole file: the rule it breaks (the detail
// open() must report, in the documented order: every field's own rule before
// the checksum, the length and the root after it), or nullptr and the layout
// an open file must report.
struct SpecVerdict {
  const char* rule = nullptr;
  std::uint32_t page_size = 0;
  std::uint64_t page_count = 0;
  std::uint64_t root_offset = 0;
};

inline constexpr std::size_t kSpecHeaderBytes = 64;
inline constexpr std::size_t kSpecChecksummedBytes = 40;
inline constexpr std::size_t kSpecChecksumAt = 40;

// Writes `header` (magic, fields, checksum, zero tail) over the first 64
// bytes of `file`, which must be at least that long.
void write_spec_header(std::vector<std::byte>& file, const SpecHeader& header);
// Recomputes the checksum of a header whose fields were edited in place.
void reseal_spec_header(std::vector<std::byte>& file);
SpecVerdict judge_page_file(std::span<const std::byte> file);

}  // namespace segsim::scenarios::page_file
