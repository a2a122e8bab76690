// The harness's own files and inputs (issue 11): safe writes, bounded reads,
// one value validator, compact decisions in repros, probe lists.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "core/probe.h"
#include "scenarios/base64.h"
#include "scenarios/probe_report.h"
#include "scenarios/json_read.h"
#include "scenarios/repro.h"
#include "scenarios/safe_file.h"
#include "scenarios/tests/test_files.h"
#include "scenarios/values.h"
#include "sim/decision_log.h"

namespace segsim::scenarios {
namespace {

namespace fs = std::filesystem;

using testing::TempDir;
std::string slurp(const fs::path& path) { return testing::read_file(path); }

// ---------------------------------------------------------------------------
// writes

TEST(SafeWrite, NeverFollowsALinkPlantedAtTheOldTemporaryName) {
  TempDir dir;
  const fs::path victim = dir.path() / "victim";
  std::ofstream(victim) << "keep";
  const fs::path target = dir.path() / "out.json";
  // The old writer used PATH.tmp.PID, opened with fopen: a link planted there
  // made it overwrite the link's target.
  fs::create_symlink(victim, fmt::format("{}.tmp.{}", target.string(), ::getpid()));
  std::string error;
  ASSERT_TRUE(write_text_file(target.string(), "new\n", &error).ok()) << error;
  EXPECT_EQ(slurp(victim), "keep");
  EXPECT_EQ(slurp(target), "new\n");
  // No temporary is left behind.
  std::size_t entries = 0;
  for (const auto& entry : fs::directory_iterator(dir.path())) entries += entry.path().filename() != "" ? 1 : 0;
  EXPECT_EQ(entries, 3u);
}

TEST(SafeWrite, WritesThroughToATargetThatIsNotARegularFile) {
  TempDir dir;
  std::string error;
  // /dev/null stays a device (as root, a rename would have replaced it).
  ASSERT_TRUE(write_text_file("/dev/null", "x", &error).ok()) << error;
  struct stat info {};
  ASSERT_EQ(::stat("/dev/null", &info), 0);
  EXPECT_TRUE(S_ISCHR(info.st_mode));
  // A FIFO gets the text and stays a FIFO.
  const fs::path fifo = dir.path() / "fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  const int reader = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK);
  ASSERT_GE(reader, 0);
  ASSERT_TRUE(write_text_file(fifo.string(), "through", &error).ok()) << error;
  char buffer[16] = {};
  EXPECT_EQ(::read(reader, buffer, sizeof buffer), 7);
  EXPECT_EQ(std::string(buffer), "through");
  ::close(reader);
  ASSERT_EQ(::stat(fifo.c_str(), &info), 0);
  EXPECT_TRUE(S_ISFIFO(info.st_mode));
}

TEST(SafeWrite, UnwritablePathsAreFoundBeforeAnyWorkWithOneLine) {
  TempDir dir;
  for (const std::string& path : {std::string("/nonexistent/r.json"), std::string("/proc/x"), dir.path().string(),
                                 std::string("")}) {
    std::string error;
    EXPECT_FALSE(check_output_path(path, &error).ok()) << path;
    EXPECT_FALSE(error.empty());
    EXPECT_EQ(error.find('\n'), std::string::npos) << error;
    EXPECT_FALSE(write_text_file(path, "x", &error).ok()) << path;
  }
  std::string error;
  EXPECT_TRUE(check_output_path((dir.path() / "fine.json").string(), &error).ok()) << error;
  EXPECT_FALSE(fs::exists(dir.path() / "fine.json")) << "the check leaves nothing behind";
  EXPECT_TRUE(check_output_path("/dev/null", &error).ok()) << error;
  // A folder for repros is created, and a file where it should be is refused.
  EXPECT_TRUE(prepare_output_folder((dir.path() / "a/b").string(), &error).ok()) << error;
  std::ofstream(dir.path() / "file") << "x";
  EXPECT_FALSE(prepare_output_folder((dir.path() / "file").string(), &error).ok());
}

TEST(TempFolder, PrivateAndNewUnderTmpdirOrOneLine) {
  TempDir dir;
  const char* saved = std::getenv("TMPDIR");
  const std::string saved_tmpdir = saved != nullptr ? saved : "";
  ::setenv("TMPDIR", dir.path().c_str(), 1);
  std::string error;
  auto first = make_temp_folder("segsim-made", &error);
  auto second = make_temp_folder("segsim-made", &error);
  auto missing = make_temp_folder("no-such-folder/segsim-made", &error);
  if (saved != nullptr) ::setenv("TMPDIR", saved_tmpdir.c_str(), 1); else ::unsetenv("TMPDIR");
  ASSERT_TRUE(first.ok() && second.ok()) << error;
  EXPECT_NE(first.value(), second.value());
  EXPECT_EQ(fs::path(first.value()).parent_path(), dir.path());
  EXPECT_EQ(fs::path(first.value()).filename().string().rfind("segsim-made-", 0), 0u) << first.value();
  struct stat info {};
  ASSERT_EQ(::stat(first.value().c_str(), &info), 0);
  EXPECT_TRUE(S_ISDIR(info.st_mode));
  EXPECT_EQ(info.st_mode & 0777, 0700u);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(error.find("cannot make a temporary folder"), std::string::npos) << error;
  EXPECT_NE(error.find("no-such-folder/segsim-made-XXXXXX"), std::string::npos) << error;
  EXPECT_EQ(error.find('\n'), std::string::npos);
}

// ---------------------------------------------------------------------------
// reads

TEST(BoundedRead, StopsAtTheLimitWhileReading) {
  std::string error;
  auto zero = read_text_file("/dev/zero", 1 << 20, "repro file", &error);
  ASSERT_FALSE(zero.ok());
  EXPECT_NE(error.find("larger than 1048576 bytes"), std::string::npos) << error;
  EXPECT_FALSE(read_text_file("/nonexistent", 10, "repro file", &error).ok());
  EXPECT_NE(error.find("cannot read repro file '/nonexistent'"), std::string::npos) << error;
  EXPECT_FALSE(read_text_file("/tmp", 10, "repro file", &error).ok());
  EXPECT_NE(error.find("folder"), std::string::npos) << error;
  TempDir dir;
  std::ofstream(dir.path() / "ten") << "0123456789";
  auto exact = read_text_file((dir.path() / "ten").string(), 10, "x", &error);
  ASSERT_TRUE(exact.ok()) << error;
  EXPECT_EQ(exact.value(), "0123456789");
  EXPECT_FALSE(read_text_file((dir.path() / "ten").string(), 9, "x", &error).ok());
}

TEST(Echo, QuotedIsOneLineAndTruncated) {
  EXPECT_EQ(quoted_text("chi\ncago\t'x'\x01"), "'chi\\ncago\\t\\'x\\'\\x01'");
  const std::string huge(5 << 20, 'a');
  const std::string q = quoted_text(huge);
  EXPECT_LT(q.size(), 120u);
  EXPECT_NE(q.find("(5242880 bytes)"), std::string::npos);
  EXPECT_EQ(one_line("a\nb\rc").find('\n'), std::string::npos);
  EXPECT_LE(one_line(huge).size(), 403u);
}

// ---------------------------------------------------------------------------
// values

TEST(Values, WholeNumbersOutOfRangeAreRefusedNeverClamped) {
  std::string error;
  EXPECT_EQ(parse_whole("18446744073709551615", 0, UINT64_MAX, "--seed", &error).value(), UINT64_MAX);
  EXPECT_EQ(parse_whole("0", 0, 10, "--x", &error).value(), 0u);
  for (const char* bad : {"-1", "18446744073709551616", "99999999999999999999999", "", " 1", "1 ", "+1", "0x10",
                          "1e3", "4294967297"}) {
    auto value = parse_whole(bad, 1, 64, "--threads", &error);
    EXPECT_FALSE(value.ok()) << bad;
    EXPECT_EQ(error.rfind("--threads ", 0), 0u) << error;
    EXPECT_EQ(error.find('\n'), std::string::npos);
  }
  EXPECT_FALSE(parse_whole("65", 1, 64, "--threads", &error).ok());
  EXPECT_NE(error.find("out of range"), std::string::npos) << error;
  EXPECT_FALSE(check_whole(4294967297ULL, 0, 64, "threads", &error).ok());
}

TEST(Values, SecondsMustBeFiniteAndInRange) {
  std::string error;
  EXPECT_DOUBLE_EQ(parse_seconds("2.5", 0.01, 60, "--timeout", &error).value(), 2.5);
  EXPECT_DOUBLE_EQ(parse_seconds("1e1", 0.01, 60, "--timeout", &error).value(), 10);
  for (const char* bad : {"nan", "inf", "-inf", "-1", "1e-6", "0", "1e999", "61", "", "1s", "0x1p3"}) {
    EXPECT_FALSE(parse_seconds(bad, 0.01, 60, "--timeout", &error).ok()) << bad;
    EXPECT_EQ(error.find('\n'), std::string::npos);
  }
}

// ---------------------------------------------------------------------------
// compact decisions

TEST(DecisionLog, RoundTripsThroughItsEncodingAcrossBlocks) {
  std::vector<std::uint32_t> decisions;
  std::uint64_t x = 88172645463325252ULL;
  for (int i = 0; i < 3'000'000; ++i) {  // > 2 blocks of varints
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    decisions.push_back(i % 1000 == 0 ? static_cast<std::uint32_t>(x) : static_cast<std::uint32_t>(x % 5));
  }
  const sim::DecisionLog log = sim::DecisionLog::from_vector(decisions);
  EXPECT_EQ(log.size(), decisions.size());
  EXPECT_EQ(log.to_vector(), decisions);
  EXPECT_LT(log.bytes_held(), decisions.size()) << "under a byte per decision";
  std::string error;
  auto back = sim::DecisionLog::from_encoded(log.encoded(), log.size(), &error);
  ASSERT_TRUE(back.ok()) << error;
  EXPECT_TRUE(back.value() == log);
  EXPECT_EQ(log.prefix(10).to_vector(), std::vector<std::uint32_t>(decisions.begin(), decisions.begin() + 10));
}

TEST(DecisionLog, RefusesAnEncodingThatIsNotOurs) {
  const sim::DecisionLog log = sim::DecisionLog::from_vector({0, 1, 2, 1, 1, 300000, 4});
  const std::string good = log.encoded();
  std::string error;
  EXPECT_FALSE(sim::DecisionLog::from_encoded(good, 6, &error).ok());
  EXPECT_FALSE(sim::DecisionLog::from_encoded(good, 8, &error).ok());
  EXPECT_FALSE(sim::DecisionLog::from_encoded(good.substr(0, good.size() - 1), 7, &error).ok());
  std::string flipped = good;
  flipped[flipped.size() / 2] ^= 0x55;
  EXPECT_FALSE(sim::DecisionLog::from_encoded(flipped, 7, &error).ok());
  EXPECT_FALSE(sim::DecisionLog::from_encoded("\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff", 1, &error).ok());
  EXPECT_TRUE(sim::DecisionLog::from_encoded("", 0, &error).ok());
  EXPECT_EQ(error.find('\n'), std::string::npos);
}

TEST(Base64, RoundTripsAndRefusesNonCanonicalText) {
  for (const std::string& bytes : {std::string(""), std::string("f"), std::string("fo"), std::string("foo"),
                                  std::string("foob"), std::string("\0\xff\x10", 3)}) {
    EXPECT_EQ(base64_decode(base64_encode(bytes)).value_or("<refused>"), bytes);
  }
  EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
  for (const char* bad : {"Zm9", "Zm9v\n", "Zm=v", "Zm9v====", "Zh==", "Z!9v"}) {
    EXPECT_FALSE(base64_decode(bad).has_value()) << bad;
  }
}

// ---------------------------------------------------------------------------
// repros

Repro sample_repro(std::uint64_t decisions) {
  Repro repro;
  repro.spec.scenario = "chicago";
  repro.spec.seed = 7;
  repro.spec.max_steps = 1000;
  repro.spec.strategy = sim::StrategyKind::Random;
  for (std::uint64_t i = 0; i < decisions; ++i) repro.spec.decisions.push_back(static_cast<std::uint32_t>(i % 3));
  repro.build_id = "test";
  repro.expected_trace_hash = 0x1234;
  return repro;
}

TEST(ReproFile, CompactDecisionsRoundTripAndVersion1IsStillRead) {
  const Repro repro = sample_repro(1'000'000);
  const std::string text = repro_to_json(repro);
  EXPECT_LT(text.size(), 200'000u) << "a million decisions, compactly";
  EXPECT_NE(text.find("\"version\": 2"), std::string::npos);
  std::string error;
  auto back = repro_from_json(text, &error);
  ASSERT_TRUE(back.ok()) << error;
  EXPECT_TRUE(back->spec.decisions == repro.spec.decisions);
  const std::string v1 = R"({"format": "segsim-repro", "version": 1, "scenario": "chicago", "seed": 7,
    "strategy": "random", "pct_depth": 3, "faults": "none",
    "knobs": {"threads": 4, "size": 1, "max_steps": 2000000}, "test_hook": "", "build_id": "b",
    "expected_trace_hash": "0x0000000000001234", "decisions": [0, 1, 2, 1]})";
  auto old = repro_from_json(v1, &error);
  ASSERT_TRUE(old.ok()) << error;
  EXPECT_EQ(old->spec.decisions.to_vector(), (std::vector<std::uint32_t>{0, 1, 2, 1}));
}

TEST(ReproFile, KnobsBeyondTheirLimitsAreRefusedNotCut) {
  const std::string base = repro_to_json(sample_repro(3));
  const auto with = [&](const std::string& from, const std::string& to) {
    std::string text = base;
    const std::size_t at = text.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    return text.replace(at, from.size(), to);
  };
  for (const auto& [from, to] : std::vector<std::pair<std::string, std::string>>{
           {"\"threads\": 0", "\"threads\": 4294967297"},
           {"\"size\": 0", "\"size\": 1001"},
           {"\"pct_depth\": 3", "\"pct_depth\": 4294967299"},
           {"\"max_steps\": 1000", "\"max_steps\": 0"},
           {"\"max_steps\": 1000", "\"max_steps\": 1e999"},
           {"\"count\": 3", "\"count\": 4"}}) {
    std::string error;
    EXPECT_FALSE(repro_from_json(with(from, to), &error).ok()) << to;
    EXPECT_EQ(error.find('\n'), std::string::npos) << error;
  }
}

// The one strict JSON reader: each read names the field and where it is;
// optional fields may be absent but not mistyped.
TEST(JsonFields, RequiredOptionalAndOnlyNameTheField) {
  Json doc;
  std::string error;
  ASSERT_TRUE(parse_json(R"({"name": "x", "n": 7, "flag": true, "neg": -1})", doc, "test file", error)) << error;
  const JsonFields f(doc, "test file: top");
  std::string name;
  std::uint64_t n = 0, absent = 42;
  bool flag = false;
  EXPECT_TRUE(f.string("name", name, error) && f.whole("n", n, error, 1, 7) && f.boolean("flag", flag, error));
  EXPECT_EQ(name, "x");
  EXPECT_EQ(n, 7u);
  EXPECT_TRUE(flag);
  EXPECT_TRUE(f.optional_whole("absent", absent, error));
  EXPECT_EQ(absent, 42u) << "an absent optional field leaves its target as it was";
  const std::vector<std::pair<std::function<bool()>, std::string>> refusals = {
      {[&] { return f.whole("n", n, error, 0, 6); }, "test file: top: field 'n' must be a whole number in 0..6"},
      {[&] { return f.whole("neg", n, error); }, "test file: top: field 'neg' must be a whole number"},
      {[&] { return f.optional_string("n", name, error); }, "test file: top: field 'n' must be a string"},
      {[&] { return f.string("missing", name, error); }, "test file: top: missing field 'missing'"},
      {[&] { return f.only({"name", "n", "flag"}, error); }, "test file: top: unknown field 'neg'"}};
  for (const auto& [read, says] : refusals) {
    EXPECT_FALSE(read()) << says;
    EXPECT_NE(error.find(says), std::string::npos) << error;
  }
  EXPECT_FALSE(parse_json("{\"a\": 1e999}", doc, "test file", error));
  EXPECT_NE(error.find("test file: not valid JSON"), std::string::npos) << error;
  EXPECT_EQ(error.find('\n'), std::string::npos) << error;
}

// A strategy name enters through a repro file (or the command line) and is
// parsed there, once: an unknown name is one line naming the field and value;
// every known one round-trips.
TEST(ReproFile, StrategyIsParsedOnceAndNamedOnce) {
  const std::string base = repro_to_json(sample_repro(3));
  const std::size_t at = base.find("\"strategy\": \"random\"");
  ASSERT_NE(at, std::string::npos);
  std::string error;
  std::string fifo = base;
  fifo.replace(at, std::string("\"strategy\": \"random\"").size(), "\"strategy\": \"fifo\"");
  EXPECT_FALSE(repro_from_json(fifo, &error).ok());
  EXPECT_NE(error.find("unknown strategy 'fifo'"), std::string::npos) << error;
  for (sim::StrategyKind kind : sim::kStrategyKinds) {
    Repro repro = sample_repro(3);
    repro.spec.strategy = kind;
    auto back = repro_from_json(repro_to_json(repro), &error);
    ASSERT_TRUE(back.ok()) << error;
    EXPECT_EQ(back->spec.strategy, kind) << sim::strategy_name(kind);
    EXPECT_EQ(sim::parse_strategy(sim::strategy_name(kind)), kind);
  }
}

// ---------------------------------------------------------------------------
// probes

TEST(ProbeList, NamesCommentsAndUnknownNames) {
  ASSERT_GE(probes::kProbes.size(), 2u);
  const std::string first(probes::kProbes[0].name), second(probes::kProbes[1].name);
  std::string error;
  auto names = parse_probe_list(fmt::format("# campaign\n\n  {}  # must fire\n{}\n{}\n", first, second, first), &error);
  ASSERT_TRUE(names.ok()) << error;
  EXPECT_EQ(names.value(), (std::vector<std::string>{first, second}));
  EXPECT_FALSE(parse_probe_list(fmt::format("{}\nno.such.probe\n", first), &error).ok());
  EXPECT_NE(error.find("line 2: unknown probe 'no.such.probe'"), std::string::npos) << error;
}

TEST(ProbeList, SummaryAndMissingProbes) {
  std::vector<ProbeCount> counts = {{"a", 3}, {"b", 0}, {"c", 0}};
  EXPECT_EQ(probe_summary(counts), "probes: 1 of 3 fired; never fired: b, c");
  EXPECT_EQ(missing_probes(counts, {"a", "c", "d"}), (std::vector<std::string>{"c", "d"}));
  std::vector<ProbeCount> many;
  for (int i = 0; i < 40; ++i) many.push_back({fmt::format("p{}", i), 0});
  EXPECT_NE(probe_summary(many).find("(and 28 more)"), std::string::npos);
}

TEST(ProbeList, FaultPointSummaryNamesThePointsNeverAsked) {
  const std::vector<ProbeCount> asks = {{"p.a", 9}, {"p.b", 0}, {"p.c", 4}};
  const std::vector<ProbeCount> fires = {{"p.a", 2}, {"p.b", 0}, {"p.c", 0}};
  EXPECT_EQ(fault_point_summary(asks, fires), "fault points: 2 of 3 asked, 1 fired; never asked: p.b");
  EXPECT_EQ(fault_point_summary({{"p.a", 1}}, {{"p.a", 0}}), "fault points: 1 of 1 asked, 0 fired");
}

}  // namespace
}  // namespace segsim::scenarios
