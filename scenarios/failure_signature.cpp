#include "scenarios/failure_signature.h"

#include <cctype>

namespace segsim::scenarios {

namespace {

bool is_hex_digit(char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; }

// A token that is part of a longer word ("abc0x12") is not a number.
bool starts_token(std::string_view text, std::size_t at) {
  if (at == 0) return true;
  const unsigned char before = static_cast<unsigned char>(text[at - 1]);
  return std::isalnum(before) == 0 && before != '_';
}

}  // namespace

std::string stable_text(std::string_view text, const AddressNamer& name_address) {
  std::string out;
  out.reserve(text.size());
  std::size_t at = 0;
  while (at < text.size()) {
    const bool hex_start = at + 2 < text.size() && text[at] == '0' && (text[at + 1] == 'x' || text[at + 1] == 'X') &&
                           is_hex_digit(text[at + 2]) && starts_token(text, at);
    if (!hex_start) {
      out += text[at++];
      continue;
    }
    std::size_t end = at + 2;
    std::uintptr_t value = 0;
    bool overflow = false;
    while (end < text.size() && is_hex_digit(text[end])) {
      const int digit = std::isdigit(static_cast<unsigned char>(text[end])) != 0
                            ? text[end] - '0'
                            : std::tolower(static_cast<unsigned char>(text[end])) - 'a' + 10;
      overflow |= value > (UINTPTR_MAX >> 4);
      value = value << 4 | static_cast<std::uintptr_t>(digit);
      ++end;
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
