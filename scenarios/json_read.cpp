// Strict JSON field reading (json_read.h).
#include "scenarios/json_read.h"

#include <cmath>

#include <fmt/format.h>

#include "scenarios/safe_file.h"

namespace segsim::scenarios {

bool parse_json(std::string_view text, Json& out, const std::string& where, std::string& error) {
  try {
    out = Json::parse(text);
    return true;
  } catch (const Json::exception& e) {
    // parse_error, and out_of_range for numbers like 1e999.
    error = fmt::format("{}: not valid JSON ({})", where, one_line(e.what(), 200));
    return false;
  }
}

std::string hex64(std::uint64_t value) { return fmt::format("{:#018x}", value); }

bool JsonFields::only(std::initializer_list<const char*> keys, std::string& error) const {
  for (const auto& item : object_.items()) {
    bool known = false;
    for (const char* key : keys) known = known || item.key() == key;
    if (!known) return fail(fmt::format("unknown field {}", quoted_text(item.key())), error);
  }
  return true;
}

bool JsonFields::string(const char* key, std::string& out, std::string& error) const {
  if (!present(key, error)) return false;
  if (!object_[key].is_string()) return wrong(key, "a string", error);
  out = object_[key].get<std::string>();
  return true;
}

bool JsonFields::whole(const char* key, std::uint64_t& out, std::string& error, std::uint64_t min,
                       std::uint64_t max) const {
  if (!present(key, error)) return false;
  const Json& value = object_[key];
  if (!value.is_number_unsigned() || value.get<std::uint64_t>() < min || value.get<std::uint64_t>() > max) {
    return wrong(key, fmt::format("a whole number in {}..{}", min, max), error);
  }
  out = value.get<std::uint64_t>();
  return true;
}

bool JsonFields::seconds(const char* key, double& out, std::string& error) const {
  if (!present(key, error)) return false;
  if (!object_[key].is_number()) return wrong(key, "a number", error);
  const double value = object_[key].get<double>();
  if (!std::isfinite(value) || value < 0) return wrong(key, "a non-negative number", error);
  out = value;
  return true;
}

bool JsonFields::boolean(const char* key, bool& out, std::string& error) const {
  if (!present(key, error)) return false;
  if (!object_[key].is_boolean()) return wrong(key, "true or false", error);
  out = object_[key].get<bool>();
  return true;
}

bool JsonFields::object(const char* key, const Json*& out, std::string& error) const {
  if (!present(key, error)) return false;
  if (!object_[key].is_object()) return wrong(key, "an object", error);
  out = &object_[key];
  return true;
}

bool JsonFields::array(const char* key, const Json*& out, std::string& error) const {
  if (!present(key, error)) return false;
  if (!object_[key].is_array()) return wrong(key, "an array", error);
  out = &object_[key];
  return true;
}

bool JsonFields::optional_string(const char* key, std::string& out, std::string& error) const {
  return !has(key) || string(key, out, error);
}

bool JsonFields::optional_whole(const char* key, std::uint64_t& out, std::string& error, std::uint64_t min,
                                std::uint64_t max) const {
  return !has(key) || whole(key, out, error, min, max);
}

bool JsonFields::optional_boolean(const char* key, bool& out, std::string& error) const {
  return !has(key) || boolean(key, out, error);
}

bool JsonFields::fail(std::string_view what, std::string& error) const {
  error = fmt::format("{}: {}", where_, what);
  return false;
}

bool JsonFields::present(const char* key, std::string& error) const {
  if (object_.contains(key)) return true;
  return fail(fmt::format("missing field '{}'", key), error);
}

bool JsonFields::wrong(const char* key, std::string_view expected, std::string& error) const {
  return fail(fmt::format("field '{}' must be {}", key, expected), error);
}

}  // namespace segsim::scenarios
