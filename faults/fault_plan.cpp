#include "faults/fault_plan.h"

#include <cerrno>
#include <charconv>
#include <cmath>

#include <fmt/format.h>

#include "core/fault_point.h"
#include "sim/random.h"

namespace segsim::faults {

namespace {

struct ErrnoName {
  std::string_view name;
  int value;
};
constexpr ErrnoName kErrnos[] = {{"ENOMEM", ENOMEM}, {"EAGAIN", EAGAIN}, {"EINVAL", EINVAL},
                                 {"EFAULT", EFAULT}, {"EPERM", EPERM},   {"EBUSY", EBUSY},
                                 {"EIO", EIO},       {"ENOENT", ENOENT}, {"EACCES", EACCES},
                                 {"EINTR", EINTR},   {"ENOSPC", ENOSPC}, {"EFBIG", EFBIG}};

struct CallName {
  std::string_view name;
  OsCall call;
};
constexpr CallName kCalls[] = {{"mmap", OsCall::Map},
                               {"munmap", OsCall::Unmap},
                               {"madvise", OsCall::Advise},
                               {"map_file", OsCall::MapFile},
                               {"stat", OsCall::StatFile},
                               {"create", OsCall::CreateFile},
                               {"write", OsCall::WriteFile},
                               {"close", OsCall::CloseFile}};

constexpr std::size_t kMaxRules = 64;
constexpr std::size_t kMaxSpecBytes = 4096;

std::string_view call_spec_name(OsCall call) {
  for (const CallName& c : kCalls) {
    if (c.call == call) return c.name;
  }
  return "?";
}

bool parse_u64(std::string_view text, std::uint64_t& out) {
  if (text.empty()) return false;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
}

bool parse_probability(std::string_view text, double& out) {
  // std::from_chars for double is in libstdc++ 11+.
  if (text.empty()) return false;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size() && out >= 0.0 && out <= 1.0 &&
         std::isfinite(out);
}

// "nth=3" | "after=100" | "p=0.05"
bool parse_trigger(std::string_view text, FaultRule& rule, std::string& why) {
  const std::size_t eq = text.find('=');
  if (eq == std::string_view::npos) {
    why = "trigger must be nth=N, after=N or p=P";
    return false;
  }
  const std::string_view key = text.substr(0, eq);
  const std::string_view value = text.substr(eq + 1);
  if (key == "nth") {
    if (!parse_u64(value, rule.nth) || rule.nth == 0) {
      why = "nth must be a whole number >= 1";
      return false;
    }
  } else if (key == "after") {
    if (!parse_u64(value, rule.after)) {
      why = "after must be a whole number";
      return false;
    }
  } else if (key == "p") {
    if (!parse_probability(value, rule.probability)) {
      why = "p must be a number in [0, 1]";
      return false;
    }
  } else {
    why = fmt::format("unknown trigger '{}' (nth, after, p)", key);
    return false;
  }
  return true;
}

bool known_point(std::string_view name) {
  if (name == "*") return true;
  for (const auto& site : fault_points::kFaultPoints) {
    if (site.name == name) return true;
  }
  return false;
}

// async:KIND[@p=P] — delay or reorder of async tasks.
bool parse_async_rule(std::string_view kind, std::string_view trigger, FaultRule& rule,
                      std::string& why) {
  if (kind == "delay") {
    rule.target = FaultTarget::AsyncDelay;
  } else if (kind == "reorder") {
    rule.target = FaultTarget::AsyncReorder;
  } else {
    why = fmt::format("unknown async fault '{}' (delay, reorder)", kind);
    return false;
  }
  if (trigger.empty()) {
    rule.probability = 1.0;
    return true;
  }
  if (!parse_trigger(trigger, rule, why)) return false;
  if (rule.probability < 0) {
    why = "async faults take only p=P";
    return false;
  }
  return true;
}

// point:NAME@p=P — a named fault point of core.
bool parse_point_rule(std::string_view name, std::string_view trigger, FaultRule& rule,
                      std::string& why) {
  if (!known_point(name)) {
    why = fmt::format("unknown fault point '{}' (see segsim list)", name);
    return false;
  }
  rule.target = FaultTarget::FaultPoint;
  rule.point = std::string(name);
  if (trigger.empty()) {
    why = "fault points need a trigger (p=P)";
    return false;
  }
  if (!parse_trigger(trigger, rule, why)) return false;
  if (rule.probability < 0) {
    why = "fault points take only p=P";
    return false;
  }
  return true;
}

bool parse_rule(std::string_view text, FaultRule& rule, std::string& why) {
  const std::size_t colon = text.find(':');
  if (colon == std::string_view::npos) {
    why = "expected TARGET:KIND[@TRIGGER]";
    return false;
  }
  const std::string_view target = text.substr(0, colon);
  std::string_view rest = text.substr(colon + 1);
  std::string_view trigger;
  if (const std::size_t at = rest.find('@'); at != std::string_view::npos) {
    trigger = rest.substr(at + 1);
    rest = rest.substr(0, at);
    if (trigger.empty()) {
      why = "empty trigger after '@'";
      return false;
    }
  }
  if (target == "async") return parse_async_rule(rest, trigger, rule, why);
  if (target == "point") return parse_point_rule(rest, trigger, rule, why);
  bool found = false;
  for (const CallName& c : kCalls) {
    if (c.name == target) {
      rule.call = c.call;
      found = true;
    }
  }
  if (!found) {
    why = fmt::format("unknown target '{}' (mmap, munmap, madvise, map_file, stat, create, write, close, async, point)",
                      target);
    return false;
  }
  rule.target = FaultTarget::OsCall;
  const std::optional<int> err = errno_from_name(rest);
  if (!err) {
    why = fmt::format("unknown errno '{}' (ENOMEM, EAGAIN, EINVAL, EFAULT, EPERM, EBUSY, EIO, "
                      "ENOENT, EACCES, EINTR, ENOSPC, EFBIG)",
                      rest);
    return false;
  }
  rule.errno_value = *err;
  if (trigger.empty()) {
    why = "os faults need a trigger (nth=N, after=N or p=P)";
    return false;
  }
  return parse_trigger(trigger, rule, why);
}

std::string trigger_text(const FaultRule& rule) {
  if (rule.nth != 0) return fmt::format("nth={}", rule.nth);
  if (rule.probability >= 0) return fmt::format("p={}", rule.probability);
  return fmt::format("after={}", rule.after);
}

}  // namespace

std::optional<int> errno_from_name(std::string_view name) {
  for (const ErrnoName& e : kErrnos) {
    if (e.name == name) return e.value;
  }
  return std::nullopt;
}

std::string_view errno_name(int errno_value) {
  for (const ErrnoName& e : kErrnos) {
    if (e.value == errno_value) return e.name;
  }
  return "E?";
}

std::string FaultRule::describe() const {
  switch (target) {
    case FaultTarget::OsCall:
      return fmt::format("{}:{}@{}", call_spec_name(call), errno_name(errno_value), trigger_text(*this));
    case FaultTarget::AsyncDelay: return fmt::format("async:delay@{}", trigger_text(*this));
    case FaultTarget::AsyncReorder: return fmt::format("async:reorder@{}", trigger_text(*this));
    case FaultTarget::FaultPoint: return fmt::format("point:{}@{}", point, trigger_text(*this));
  }
  return "?";
}

std::string FaultPlan::describe() const {
  if (rules.empty()) return "none";
  std::string text;
  for (const FaultRule& rule : rules) {
    if (!text.empty()) text += ',';
    text += rule.describe();
  }
  return text;
}

Result<FaultPlan> parse_fault_plan(std::string_view spec, std::string* error_text) {
  auto refuse = [&](std::string line) -> Result<FaultPlan> {
    if (error_text != nullptr) *error_text = std::move(line);
    return make_error(Errc::InvalidConfig, "bad fault spec");
  };
  if (spec.size() > kMaxSpecBytes) return refuse("bad fault spec: longer than 4096 bytes");
  if (spec == "none") return FaultPlan{};
  if (spec.empty()) return refuse("bad fault spec: empty (use 'none')");
  FaultPlan plan;
  std::size_t start = 0;
  while (start <= spec.size()) {
    const std::size_t comma = spec.find(',', start);
    const std::string_view text =
        spec.substr(start, comma == std::string_view::npos ? spec.size() - start : comma - start);
    FaultRule rule;
    std::string why;
    if (text.empty()) return refuse("bad fault spec: empty rule (stray ',')");
    if (!parse_rule(text, rule, why)) return refuse(fmt::format("bad fault spec '{}': {}", text, why));
    if (plan.rules.size() == kMaxRules) return refuse("bad fault spec: more than 64 rules");
    plan.rules.push_back(std::move(rule));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return plan;
}

FaultPlan swarm_plan(std::uint64_t seed) {
  sim::Rng rng(sim::derive_seed(seed, "faults.swarm"));
  // Rates log-uniform in [0.001, 0.1], rounded to 4 significant digits so the
  // described spec parses back to the same numbers.
  auto rate = [&rng] {
    const double r = std::pow(10.0, -3.0 + 2.0 * rng.unit());
    return std::stod(fmt::format("{:.4g}", r));
  };
  FaultPlan plan;
  auto os_rule = [&](OsCall call, int err) {
    if (!rng.chance(0.5)) return;
    FaultRule rule;
    rule.call = call;
    rule.errno_value = err;
    rule.probability = rate();
    plan.rules.push_back(rule);
  };
  os_rule(OsCall::Map, ENOMEM);
  os_rule(OsCall::Advise, EAGAIN);
  os_rule(OsCall::Advise, EINVAL);
  os_rule(OsCall::Unmap, ENOMEM);
  if (rng.chance(0.5)) {
    FaultRule rule;
    rule.target = FaultTarget::AsyncDelay;
    rule.probability = std::stod(fmt::format("{:.4g}", 0.05 + 0.45 * rng.unit()));
    plan.rules.push_back(rule);
  }
  if (rng.chance(0.25)) {
    FaultRule rule;
    rule.target = FaultTarget::AsyncReorder;
    rule.probability = 1.0;
    plan.rules.push_back(rule);
  }
  for (const auto& site : fault_points::kFaultPoints) {
    if (!rng.chance(0.25)) continue;  // enabled for this run...
    FaultRule rule;
    rule.target = FaultTarget::FaultPoint;
    rule.point = std::string(site.name);
    rule.probability = 0.25;  // ...then firing with p = 0.25
    plan.rules.push_back(rule);
  }
  return plan;
}

Result<FaultPlan> make_fault_plan(std::string_view spec, std::uint64_t seed, std::string* error_text) {
  if (spec == "swarm") return swarm_plan(seed);
  return parse_fault_plan(spec, error_text);
}

}  // namespace segsim::faults
