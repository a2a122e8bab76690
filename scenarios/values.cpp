#include "scenarios/values.h"

#include <charconv>
#include <cmath>

#include <fmt/format.h>

#include "scenarios/safe_file.h"

namespace segsim::scenarios {

namespace {

constexpr std::size_t kMaxDigits = 20;         // 18446744073709551615
constexpr std::size_t kMaxSecondsChars = 32;

Error refuse(std::string* error_line, std::string line) {
  if (error_line != nullptr) *error_line = std::move(line);
  return make_error(Errc::InvalidConfig, "value out of range");
}

}  // namespace

Result<std::uint64_t> parse_whole(std::string_view text, std::uint64_t min, std::uint64_t max,
                                  std::string_view what, std::string* error_line) {
  const auto range = [&] { return fmt::format("a whole number in {}..{}", min, max); };
  bool digits = !text.empty();
  for (char c : text) digits = digits && c >= '0' && c <= '9';
  if (!digits) return refuse(error_line, fmt::format("{} {} is not {}", what, quoted_text(text), range()));
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.size() > kMaxDigits || ec != std::errc() || end != text.data() + text.size()) {
    return refuse(error_line, fmt::format("{} {} is out of range: {}", what, quoted_text(text), range()));
  }
  if (value < min || value > max) return refuse(error_line, fmt::format("{} {} is out of range: {}", what, value, range()));
  return value;
}

Result<double> parse_seconds(std::string_view text, double min_seconds, double max_seconds, std::string_view what,
                             std::string* error_line) {
  const auto range = [&] { return fmt::format("a number of seconds in {}..{}", min_seconds, max_seconds); };
  double value = 0;
  bool parsed = !text.empty() && text.size() <= kMaxSecondsChars;
  for (char c : text) parsed = parsed && ((c >= '0' && c <= '9') || c == '.' || c == 'e' || c == 'E' || c == '-' || c == '+');
  if (parsed) {
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    parsed = ec == std::errc() && end == text.data() + text.size() && std::isfinite(value);
  }
  if (!parsed) return refuse(error_line, fmt::format("{} {} is not {}", what, quoted_text(text), range()));
  if (value < min_seconds || value > max_seconds) {
    return refuse(error_line, fmt::format("{} {} is out of range: {}", what, quoted_text(text), range()));
  }
  return value;
}

Status check_whole(std::uint64_t value, std::uint64_t min, std::uint64_t max, std::string_view what,
                   std::string* error_line) {
  if (value < min || value > max) {
    return refuse(error_line, fmt::format("{} {} is out of range: a whole number in {}..{}", what, value, min, max));
  }
  return {};
}

}  // namespace segsim::scenarios
