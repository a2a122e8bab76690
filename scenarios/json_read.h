// Strict reading of the harness's JSON files (sweep results, repro files,
// crash reports): every field is read by name and type, and a missing,
// mistyped or out-of-range field is one line naming the field and where it is
// ("sweep results: seeds[2]: missing field 'steps'"). Reads return false and
// set `error`; the caller adds the file's path when it has one.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace segsim::scenarios {

using Json = nlohmann::ordered_json;

// One JSON value from `text`; false with "<where>: not valid JSON (...)".
bool parse_json(std::string_view text, Json& out, const std::string& where, std::string& error);

// A 64-bit hash as the harness's files write it: "0x" and 16 hex digits
// (repro files' expected_trace_hash, sweep results' trace_hash).
std::string hex64(std::uint64_t value);

class JsonFields {
 public:
  // `object` must outlive this; `where` names it in every error line.
  JsonFields(const Json& object, std::string where) : object_(object), where_(std::move(where)) {}

  const std::string& where() const { return where_; }
  bool has(const char* key) const { return object_.contains(key); }

  // Every field of the object is one of `keys`.
  bool only(std::initializer_list<const char*> keys, std::string& error) const;

  // Required fields: missing or mistyped is an error.
  bool string(const char* key, std::string& out, std::string& error) const;
  bool whole(const char* key, std::uint64_t& out, std::string& error, std::uint64_t min = 0,
             std::uint64_t max = UINT64_MAX) const;
  bool seconds(const char* key, double& out, std::string& error) const;  // finite, >= 0
  bool boolean(const char* key, bool& out, std::string& error) const;
  bool object(const char* key, const Json*& out, std::string& error) const;
  bool array(const char* key, const Json*& out, std::string& error) const;

  // Optional fields: absent leaves `out` as it is; present and mistyped is an error.
  bool optional_string(const char* key, std::string& out, std::string& error) const;
  bool optional_whole(const char* key, std::uint64_t& out, std::string& error, std::uint64_t min = 0,
                      std::uint64_t max = UINT64_MAX) const;
  bool optional_boolean(const char* key, bool& out, std::string& error) const;

  // One line "<where>: <what>", for the checks a caller makes on a value.
  bool fail(std::string_view what, std::string& error) const;

 private:
  bool present(const char* key, std::string& error) const;
  bool wrong(const char* key, std::string_view expected, std::string& error) const;
  const Json& object_;
  std::string where_;
};

}  // namespace segsim::scenarios
