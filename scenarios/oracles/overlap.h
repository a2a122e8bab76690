// The overlap checker's state: every live segment's [begin, end) as SimOs
// offsets. Two live segments never share bytes.
#pragma once

#include <cstdint>
#include <map>
#include <string>

namespace segsim::scenarios {

class OverlapChecker {
 public:
  // Adds [begin, end); "" when it overlaps no live segment, else why it does
  // (and it is not added).
  std::string insert(std::uint64_t begin, std::uint64_t end);
  void erase(std::uint64_t begin) { live_.erase(begin); }

 private:
  std::map<std::uint64_t, std::uint64_t> live_;  // begin offset -> end offset
};

}  // namespace segsim::scenarios
