// What happened to each segment lately (hand-outs, releases, by fiber and
// step), by SimOs offset: a failure that names a segment carries its history.
// Bounded: the last few events of at most so many segments.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <vector>

#include "scenarios/run.h"

namespace segsim::scenarios {

class SegmentHistory {
 public:
  static constexpr std::size_t kEventsPerSegment = 8;
  static constexpr std::size_t kMaxSegments = 1 << 16;

  void note(std::uint64_t offset, const char* what, std::uint32_t fiber, std::uint64_t step) {
    auto it = history_.find(offset);
    if (it == history_.end()) {
      if (history_.size() >= kMaxSegments) return;  // bounded: forget new slices
      it = history_.emplace(offset, std::deque<SegmentEvent>{}).first;
    }
    it->second.push_back(SegmentEvent{what, fiber, step});
    if (it->second.size() > kEventsPerSegment) it->second.pop_front();
  }

  // The segment's latest event, or nullptr when none is kept.
  const SegmentEvent* last(std::uint64_t offset) const {
    auto it = history_.find(offset);
    return it == history_.end() || it->second.empty() ? nullptr : &it->second.back();
  }

  std::vector<SegmentEvent> events(std::uint64_t offset) const {
    auto it = history_.find(offset);
    if (it == history_.end()) return {};
    return {it->second.begin(), it->second.end()};
  }

 private:
  std::map<std::uint64_t, std::deque<SegmentEvent>> history_;
};

}  // namespace segsim::scenarios
