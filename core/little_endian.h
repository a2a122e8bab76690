// Little-endian fields of the on-disk formats (the page file's header, a
// page's records), read and written by offset inside a buffer: a field past
// its buffer is an assertion, never an access outside it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "core/assert.h"

namespace segsim::little_endian {

template <typename Value>
Value load(std::span<const std::byte> bytes, std::size_t at) {
  SEGSIM_ASSERT(at <= bytes.size() && sizeof(Value) <= bytes.size() - at, "a little-endian field read past its buffer");
  Value v = 0;
  for (std::size_t i = sizeof(Value); i-- > 0;) v = static_cast<Value>((v << 8) | static_cast<Value>(bytes[at + i]));
  return v;
}

template <typename Value>
void store(std::span<std::byte> bytes, std::size_t at, Value v) {
  SEGSIM_ASSERT(at <= bytes.size() && sizeof(Value) <= bytes.size() - at,
                "a little-endian field written past its buffer");
  for (std::size_t i = 0; i < sizeof(Value); ++i) bytes[at + i] = static_cast<std::byte>(v >> (8 * i));
}

inline std::uint32_t load32(std::span<const std::byte> bytes, std::size_t at) { return load<std::uint32_t>(bytes, at); }
inline std::uint64_t load64(std::span<const std::byte> bytes, std::size_t at) { return load<std::uint64_t>(bytes, at); }
inline void store32(std::span<std::byte> bytes, std::size_t at, std::uint32_t v) { store(bytes, at, v); }
inline void store64(std::span<std::byte> bytes, std::size_t at, std::uint64_t v) { store(bytes, at, v); }

}  // namespace segsim::little_endian
