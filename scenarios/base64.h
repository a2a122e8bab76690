// Base64 (RFC 4648, standard alphabet, '=' padding) for binary fields of the
// harness's JSON files (a repro's compact decisions).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace segsim::scenarios {

std::string base64_encode(std::string_view bytes);
// Appends the encoding of `bytes` to `out` (no temporary copy of a long field).
void base64_append(std::string_view bytes, std::string& out);
// nullopt for anything but canonical padded base64 (no whitespace).
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace segsim::scenarios
