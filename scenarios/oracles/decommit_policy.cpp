// decommit-policy: see decommit_policy.h.
#include "scenarios/oracles/decommit_policy.h"

#include <algorithm>
#include <string>

#include <fmt/format.h>

#include "core/assert.h"

namespace segsim::scenarios {

DecommitPolicyModel::DecommitPolicyModel(Oracles& oracles, const LargeObjectAllocatorConfig& config)
    : oracles_(oracles), config_(config) {}

void DecommitPolicyModel::fail(const std::string& call, const std::string& what) {
  oracles_.fail("decommit-policy", fmt::format("call {} ({}): {}", calls_, call, what));
}

std::vector<DecommitPolicyModel::FreeRange> DecommitPolicyModel::free_ranges() const {
  std::vector<FreeRange> out;
  for (const auto& [key, range] : free_) out.push_back(FreeRange{key.first, key.second, range.bytes, range.idle_since, range.clean});
  return out;
}

void DecommitPolicyModel::insert_coalescing(Key key, Range range) {
  auto next = free_.lower_bound(key);
  if (next != free_.end() && next->first.first == key.first && next->first.second == key.second + range.bytes) {
    range.bytes += next->second.bytes;
    range.clean = range.clean && next->second.clean;
    range.idle_since = std::max(range.idle_since, next->second.idle_since);
    next = free_.erase(next);
    ++coalesces_;
  }
  if (next != free_.begin()) {
    auto prev = std::prev(next);
    if (prev->first.first == key.first && prev->first.second + prev->second.bytes == key.second) {
      prev->second.bytes += range.bytes;
      prev->second.clean = prev->second.clean && range.clean;
      prev->second.idle_since = std::max(prev->second.idle_since, range.idle_since);
      ++coalesces_;
      return;
    }
  }
  free_.emplace(key, range);
}

std::optional<std::size_t> DecommitPolicyModel::smallest_free_bytes() const {
  std::optional<std::size_t> smallest;
  for (const auto& [key, range] : free_) {
    if (!smallest || range.bytes < *smallest) smallest = range.bytes;
  }
  return smallest;
}

DecommitPolicyModel::Pass DecommitPolicyModel::decommit(std::int64_t min_idle_ns, std::int64_t now_ns) {
  Pass pass;
  for (auto& [key, range] : free_) {
    if (!due(range, min_idle_ns, now_ns)) continue;
    range.clean = true;
    ++pass.ranges;
    pass.bytes += range.bytes;
  }
  decommits_ += pass.ranges;
  decommitted_bytes_total_ += pass.bytes;
  return pass;
}

// `promise`: what the call had to decommit, in the header's words.
void DecommitPolicyModel::check_pass(const std::string& call, const std::string& promise, const Pass& predicted,
                                     std::optional<std::size_t> returned, const LargeObjectStats& after) {
  const bool counted = after.decommits == decommits_ && after.decommitted_bytes_total == decommitted_bytes_total_;
  if (counted && (!returned || *returned == predicted.bytes)) return;
  // What the call decommitted by the counters (before it: the model's totals less its prediction).
  const auto ranges = static_cast<std::int64_t>(after.decommits - (decommits_ - predicted.ranges));
  const auto bytes = static_cast<std::int64_t>(after.decommitted_bytes_total -
                                               (decommitted_bytes_total_ - predicted.bytes));
  fail(call, fmt::format("{}: {} dirty range(s), {} bytes; stats() counts {} range(s), {} bytes decommitted by the "
                         "call{}",
                         promise, predicted.ranges, predicted.bytes, ranges, bytes,
                         returned ? fmt::format(", and it returned {} bytes", *returned) : std::string()));
}

void DecommitPolicyModel::check(const std::string& call, const LargeObjectStats& after) {
  std::size_t free_bytes = 0, clean_bytes = 0;
  for (const auto& [key, range] : free_) {
    free_bytes += range.bytes;
    if (range.clean) clean_bytes += range.bytes;
  }
  auto exact = [&](const char* counter, std::uint64_t reported, std::uint64_t model) {
    if (reported != model) fail(call, fmt::format("stats().{} is {}; the model says {}", counter, reported, model));
  };
  exact("spans", after.spans, spans_.size());
  exact("free_ranges", after.free_ranges, free_.size());
  exact("free_bytes", after.free_bytes, free_bytes);
  exact("decommitted_bytes", after.decommitted_bytes, clean_bytes);
  exact("decommits", after.decommits, decommits_);
  exact("decommitted_bytes_total", after.decommitted_bytes_total, decommitted_bytes_total_);
  exact("coalesces", after.coalesces, coalesces_);
  exact("advise_failures", after.advise_failures, 0);  // no fault point, no failing Os
}

bool DecommitPolicyModel::allocated(const LargeObject& got, bool zeroed, std::int64_t now_ns,
                                    const LargeObjectStats& after) {
  ++calls_;
  const std::string call = fmt::format("{}({}) at t={} ns", zeroed ? "allocate" : "allocate_uninitialized",
                                       got.size(), now_ns);
  const Key key{got.span_id(), got.offset()};
  if (spans_.count(key.first) == 0) {
    // A new span: its one free range is clean (the budget leaves room for a full span).
    const std::size_t bytes = std::max(config_.span_bytes, got.size());
    spans_.emplace(key.first, bytes);
    free_.emplace(Key{key.first, 0}, Range{bytes, true, now_ns});
  }
  auto it = free_.find(key);
  if (it == free_.end() || it->second.bytes < got.size()) {
    fail(call, fmt::format("handed out span {} offset {:#x}, where no free range of {} bytes or more starts",
                           key.first, key.second, got.size()));
  }
  const Range range = it->second;
  free_.erase(it);
  if (range.bytes > got.size()) {
    free_.emplace(Key{key.first, key.second + got.size()}, Range{range.bytes - got.size(), range.clean, range.idle_since});
  }
  if (zeroed && !range.clean) ++zeroings_;
  if (after.zeroings != zeroings_) {
    fail(call, fmt::format("stats().zeroings is {}; the model says {}: a zeroed allocation memsets exactly when the "
                           "range it takes is dirty (this one was {})",
                           after.zeroings, zeroings_, range.clean ? "clean" : "dirty"));
  }
  check(call, after);
  return range.clean;
}

bool DecommitPolicyModel::release(const LargeObject& object, std::int64_t now_ns, Pass& pass) {
  insert_coalescing(Key{object.span_id(), object.offset()}, Range{object.size(), false, now_ns});
  const bool due = config_.decommit_check_interval_ns > 0 && now_ns >= next_check_ns_;
  if (due) {
    next_check_ns_ = now_ns + config_.decommit_check_interval_ns;
    pass = decommit(config_.decommit_after_ns, now_ns);
  }
  return due;
}

void DecommitPolicyModel::released(const LargeObject& object, std::int64_t now_ns, const LargeObjectStats& after) {
  ++calls_;
  const std::int64_t interval = config_.decommit_check_interval_ns;
  const std::int64_t check_was = next_check_ns_;
  Pass pass;
  const bool due = release(object, now_ns, pass);
  const std::string call = fmt::format("release at t={} ns", now_ns);
  if (due) {
    check_pass(call,
               fmt::format("at or past the next check (t={} ns), so release() runs the lazy decommit, which must "
                           "decommit exactly the dirty ranges idle >= decommit_after_ns ({} ns)",
                           check_was, config_.decommit_after_ns),
               pass, std::nullopt, after);
  } else {
    check_pass(call,
               interval == 0 ? std::string("decommit_check_interval_ns is 0, so release() never decommits by itself")
                             : fmt::format("before the next check (t={} ns: the last pass + {} ns), so release() "
                                           "runs no lazy decommit (at most one pass per interval)",
                                           check_was, interval),
               pass, std::nullopt, after);
  }
  check(call, after);
}

void DecommitPolicyModel::decommitted(std::int64_t min_idle_ns, std::size_t returned, std::int64_t now_ns,
                                      const LargeObjectStats& after) {
  ++calls_;
  const Pass pass = decommit(min_idle_ns, now_ns);
  const std::string call = fmt::format("decommit_idle({}) at t={} ns", min_idle_ns, now_ns);
  check_pass(call, fmt::format("decommit_idle decommits exactly the dirty ranges idle >= {} ns", min_idle_ns), pass,
             returned, after);
  check(call, after);
}

void DecommitPolicyModel::decommitted_around(std::int64_t min_idle_ns, std::size_t returned, std::int64_t now_ns,
                                            const LargeObject& during, std::int64_t during_ns,
                                            const LargeObjectStats& after) {
  ++calls_;
  // The pass takes its candidates out of the free ranges and drops the lock...
  std::vector<std::pair<Key, Range>> in_flight;
  Pass pass;
  for (auto it = free_.begin(); it != free_.end();) {
    if (!due(it->second, min_idle_ns, now_ns)) {
      ++it;
      continue;
    }
    in_flight.emplace_back(*it);
    ++pass.ranges;
    pass.bytes += it->second.bytes;
    it = free_.erase(it);
  }
  // ...the release coalesces with what is left (and may run its own lazy pass)...
  Pass lazy;
  (void)release(during, during_ns, lazy);
  // ...and each candidate comes back decommitted, coalescing with its neighbours.
  for (const auto& [key, range] : in_flight) insert_coalescing(key, Range{range.bytes, true, range.idle_since});
  decommits_ += pass.ranges;
  decommitted_bytes_total_ += pass.bytes;
  const std::string call = fmt::format("decommit_idle({}) at t={} ns, with a release at t={} ns during its advise",
                                       min_idle_ns, now_ns, during_ns);
  check_pass(call,
             fmt::format("decommit_idle decommits exactly the dirty ranges idle >= {} ns when it starts (and the "
                         "release's lazy pass, if due, {} range(s))",
                         min_idle_ns, lazy.ranges),
             pass, returned, after);
  check(call, after);
}

void DecommitPolicyModel::acted(Action action, std::int64_t now_ns, const LargeObjectStats& after) {
  ++calls_;
  const char* name = action == Action::Gentle       ? "gentle_eviction"
                     : action == Action::Aggressive ? "aggressive_eviction"
                                                    : "emergency_cleanup";
  const std::string call = fmt::format("{}() at t={} ns", name, now_ns);
  if (action == Action::Gentle) {
    const Pass pass = decommit(config_.decommit_after_ns, now_ns);
    check_pass(call,
               fmt::format("a gentle eviction decommits exactly the dirty ranges idle >= decommit_after_ns ({} ns)",
                           config_.decommit_after_ns),
               pass, std::nullopt, after);
  } else {
    const Pass pass = decommit(0, now_ns);
    // Every span left keeps a live object (or a wholly free one would have been unmapped).
    if (after.decommitted_bytes != after.free_bytes) {
      fail(call, fmt::format("left {} free bytes dirty in spans that keep a live object ({} free, {} decommitted): "
                             "it must decommit every free range, one released in the same nanosecond too",
                             after.free_bytes - std::min(after.free_bytes, after.decommitted_bytes), after.free_bytes,
                             after.decommitted_bytes));
    }
    check_pass(call, fmt::format("{} decommits every dirty free range", name), pass, std::nullopt, after);
  }
  check(call, after);
}

}  // namespace segsim::scenarios
