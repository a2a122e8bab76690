// The errors core reports to its callers.
//
// Error is a small trivially-copyable value (no heap) so returning it from the
// allocation hot path costs nothing; describe() builds the human-readable line.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace segsim {

enum class Errc : std::uint8_t {
  InvalidSize,     // zero, or larger than the largest size class
  OutOfBudget,     // the next region would exceed the virtual-bytes budget
  OutOfMemory,     // the Os refused to map memory (errno in os_errno)
  DoubleFree,      // releasing (or resetting) a slice that is not live under this handle
  InvalidPointer,  // a handle or pointer that is not a slice start of this allocator
  OsFailure,       // any other failed Os call (errno in os_errno)
  InvalidConfig,   // a configuration value out of range (detail names it)
  InvalidPageFile, // a page file failed validation (detail names the field)
  SlotOutOfRange,  // a leaf page slot index at or past the page's slot count
  ValueTooLarge,   // a value longer than the page's max_value_bytes
  PageFull,        // the page's live values would exceed the largest segment class
  PageReturned,    // a write to a page whose segments were returned
  InUse,           // the object is still in use: an arena ended while a child arena lives
};

std::string_view errc_name(Errc code) noexcept;

struct Error {
  Errc code = Errc::OsFailure;
  int os_errno = 0;             // errno of the failed Os call, 0 if none
  std::uintptr_t address = 0;   // the segment / pointer involved, 0 if none
  std::int16_t size_class = -1; // size-class index involved, -1 if none
  std::uint32_t generation = 0; // generation carried by the caller's handle
  std::uint32_t live_generation = 0;  // generation the slice has now (0 = free)
  const char* detail = "";      // static text: which field / which rule

  // One line, e.g. "double free: segment 0x7f.. (class 64 KiB, generation 7): slice is free".
  std::string describe() const;
};

inline Error make_error(Errc code, const char* detail = "") {
  Error e;
  e.code = code;
  e.detail = detail;
  return e;
}

// A page file (or a page's records) that breaks the format rule `detail` names.
inline Error invalid_page_file(const char* detail) { return make_error(Errc::InvalidPageFile, detail); }

}  // namespace segsim
