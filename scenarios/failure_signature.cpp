#include "scenarios/failure_signature.h"

#include <algorithm>
#include <cctype>
#include <string>
#include <vector>

namespace segsim::scenarios {

namespace {

// A token that is part of a longer word ("abc0x12") is not a number.
bool starts_token(std::string_view text, std::size_t at) {
  if (at == 0) return true;
  const unsigned char before = static_cast<unsigned char>(text[at - 1]);
  return std::isalnum(before) == 0 && before != '_';
}

constexpr std::string_view kAllocatorWord = "allocator ";

// The end of the decimal id in "allocator N" starting at `at` (the word a
// token of its own), or `at` when none starts there.
std::size_t allocator_id_at(std::string_view text, std::size_t at) {
  if (!starts_token(text, at) || text.substr(at, kAllocatorWord.size()) != kAllocatorWord) return at;
  std::size_t end = at + kAllocatorWord.size();
  while (end < text.size() && std::isdigit(static_cast<unsigned char>(text[end])) != 0) ++end;
  if (end == at + kAllocatorWord.size()) return at;  // no digits: "allocator refused", …
  if (end < text.size() && (std::isalnum(static_cast<unsigned char>(text[end])) != 0 || text[end] == '_')) return at;
  return end;
}

}  // namespace

std::size_t hex_token_end(std::string_view text, std::size_t at) {
  const auto is_hex_digit = [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; };
  if (!(at + 2 < text.size() && text[at] == '0' && (text[at + 1] == 'x' || text[at + 1] == 'X') &&
        is_hex_digit(text[at + 2]))) {
    return at;
  }
  std::size_t end = at + 2;
  while (end < text.size() && is_hex_digit(text[end])) ++end;
  return end;
}

std::string stable_text(std::string_view text, const AddressNamer& name_address) {
  std::string out;
  out.reserve(text.size());
  std::vector<std::string_view> allocators;  // the ids named, in order of first mention
  std::size_t at = 0;
  while (at < text.size()) {
    if (const std::size_t digits = allocator_id_at(text, at); digits != at) {
      const std::size_t start = at + kAllocatorWord.size();
      const std::string_view id = text.substr(start, digits - start);
      auto known = std::find(allocators.begin(), allocators.end(), id);
      if (known == allocators.end()) known = allocators.insert(allocators.end(), id);
      out += kAllocatorWord;
      out += "#" + std::to_string(known - allocators.begin() + 1);
      at = digits;
      continue;
    }
    const std::size_t end = starts_token(text, at) ? hex_token_end(text, at) : at;
    if (end == at) {
      out += text[at++];
      continue;
    }
    std::uintptr_t value = 0;
    bool overflow = false;
    for (std::size_t d = at + 2; d < end; ++d) {
      const int digit = std::isdigit(static_cast<unsigned char>(text[d])) != 0
                            ? text[d] - '0'
                            : std::tolower(static_cast<unsigned char>(text[d])) - 'a' + 10;
      overflow |= value > (UINTPTR_MAX >> 4);
      value = value << 4 | static_cast<std::uintptr_t>(digit);
    }
    std::optional<std::string> name = overflow ? std::optional<std::string>("<foreign address>") : name_address(value);
    if (name) {
      out += *name;
    } else {
      out.append(text.substr(at, end - at));
    }
    at = end;
  }
  return out;
}

}  // namespace segsim::scenarios
