// page_file_spec.h: the format as documented, decoded byte by byte.
#include "scenarios/workloads/page_file_spec.h"

#include <cstring>

namespace segsim::scenarios::page_file {

namespace {

constexpr char kSpecMagic[8] = {'S', 'E', 'G', 'S', 'I', 'M', 'P', 'F'};
constexpr std::uint64_t kSpecMinPageBytes = 4096;
constexpr std::uint64_t kSpecMaxPageBytes = 1024 * 1024;

// Little-endian, any width: byte i carries bits [8i, 8i + 8).
std::uint64_t spec_field(std::span<const std::byte> file, std::size_t at, std::size_t width_bytes) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < width_bytes; ++i) v |= std::to_integer<std::uint64_t>(file[at + i]) << (8 * i);
  return v;
}

void spec_put(std::vector<std::byte>& file, std::size_t at, std::size_t width_bytes, std::uint64_t v) {
  for (std::size_t i = 0; i < width_bytes; ++i) file[at + i] = static_cast<std::byte>((v >> (8 * i)) & 0xff);
}

// FNV-1a, 64 bits (offset basis 14695981039346656037, prime 2^40 + 2^8 + 0xb3).
std::uint64_t spec_fnv1a(std::span<const std::byte> bytes) {
  std::uint64_t hash = 14695981039346656037ULL;
  for (std::byte b : bytes) hash = (hash ^ std::to_integer<std::uint64_t>(b)) * 1099511628211ULL;
  return hash;
}

}  // namespace

void write_spec_header(std::vector<std::byte>& file, const SpecHeader& header) {
  std::memset(file.data(), 0, kSpecHeaderBytes);
  std::memcpy(file.data(), kSpecMagic, sizeof kSpecMagic);
  spec_put(file, 8, 4, header.format_version);
  spec_put(file, 12, 4, header.page_size);
  spec_put(file, 16, 8, header.page_count);
  spec_put(file, 24, 8, header.root_offset);
  spec_put(file, 32, 8, header.reserved);
  reseal_spec_header(file);
}

void reseal_spec_header(std::vector<std::byte>& file) {
  spec_put(file, kSpecChecksumAt, 8, spec_fnv1a(std::span(file).first(kSpecChecksummedBytes)));
}

SpecVerdict judge_page_file(std::span<const std::byte> file) {
  SpecVerdict v;
  if (file.size() < kSpecHeaderBytes) return {"file shorter than the 64-byte header"};
  if (std::memcmp(file.data(), kSpecMagic, sizeof kSpecMagic) != 0) return {"bad magic"};
  if (spec_field(file, 8, 4) != 1) return {"unsupported format_version"};
  const std::uint64_t page_size = spec_field(file, 12, 4);
  bool power_of_two = false;
  for (std::uint64_t p = kSpecMinPageBytes; p <= kSpecMaxPageBytes; p *= 2) power_of_two = power_of_two || p == page_size;
  if (!power_of_two) return {"page_size not a power of two in 4 KiB..1 MiB"};
  if (spec_field(file, 32, 8) != 0) return {"reserved field not zero"};
  for (std::size_t i = 48; i < kSpecHeaderBytes; ++i) {
    if (file[i] != std::byte{0}) return {"header bytes 48..63 not zero"};
  }
  if (spec_field(file, kSpecChecksumAt, 8) != spec_fnv1a(file.first(kSpecChecksummedBytes))) return {"header checksum mismatch"};
  const std::uint64_t page_count = spec_field(file, 16, 8);
  const std::uint64_t root_offset = spec_field(file, 24, 8);
  if (page_count == 0) return {"page_count is zero (no root page)"};
  // The exact length; a product of the fields that wraps is no length at all.
  std::uint64_t want = 0;
  const bool wraps = page_count == ~std::uint64_t{0} || __builtin_mul_overflow(page_size, page_count + 1, &want);
  if (wraps || want != file.size()) return {"file length does not match page_count x page_size"};
  if (root_offset < page_size || root_offset >= file.size()) return {"root offset out of range"};
  if (root_offset % page_size != 0) return {"root offset not page aligned"};
  v.page_size = static_cast<std::uint32_t>(page_size);
  v.page_count = page_count;
  v.root_offset = root_offset;
  return v;
}

}  // namespace segsim::scenarios::page_file
