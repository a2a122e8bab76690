// MappedPageFile, PageFileWriter and the page record codec against real
// files (LinuxOs, through ScriptedOs to count and fail calls). The SimOs
// variant lives in faults/tests/page_file_sim_os_test.cpp.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "core/linux_os.h"
#include "core/mapped_page_file.h"
#include "core/page_file_writer.h"
#include "core/page_records.h"
#include "core/tests/page_file_bytes.h"
#include "core/tests/scripted_os.h"

namespace segsim {
namespace {

using testing::bytes_of;
using testing::expect_same_records;
using testing::kPage;
using testing::Sample;
using testing::ScriptedOs;
using testing::store_le32;
using testing::store_le64;

// Rewrites the header of `file` from `header` with a correct checksum, so a
// case exercises the rule it names and not the checksum.
void set_header(std::vector<std::byte>& file, const PageFileHeader& header) {
  const auto encoded = encode_page_file_header(header);
  std::memcpy(file.data(), encoded.data(), encoded.size());
}

class PageFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "segsim_page_file_XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr) << std::strerror(errno);
    dir_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  std::string put(const std::string& name, const std::vector<std::byte>& contents) const {
    const std::string p = path(name);
    const int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    SEGSIM_ASSERT(fd >= 0, "test file opens");
    if (!contents.empty()) {
      SEGSIM_ASSERT(::write(fd, contents.data(), contents.size()) == static_cast<ssize_t>(contents.size()),
                    "test file written");
    }
    ::close(fd);
    return p;
  }

  std::filesystem::path dir_;
  Sample sample_;
  ScriptedOs os_;
};

TEST_F(PageFileTest, RoundTripThroughARealFile) {
  const PageFileWriter writer = sample_.writer();
  const std::string p = path("valid.pf");
  ASSERT_TRUE(writer.write(LinuxOs::instance(), p).ok());
  auto opened = MappedPageFile::open(os_, p);
  ASSERT_TRUE(opened.ok()) << opened.error().describe();
  MappedPageFile& file = opened.value();
  EXPECT_EQ(file.page_count(), 3u);
  EXPECT_EQ(file.page_size(), kPage);
  EXPECT_EQ(file.file_bytes(), 4u * kPage);
  EXPECT_EQ(file.root_page_index(), 1u);
  EXPECT_EQ(file.root_offset(), 2u * kPage);
  EXPECT_EQ(file.root_page().data(), file.page(1).data());
  const std::vector<std::byte> expected = writer.to_bytes();
  for (std::uint64_t i = 0; i < file.page_count(); ++i) {
    auto page = file.page(i);
    ASSERT_EQ(page.size(), kPage);
    EXPECT_EQ(std::memcmp(page.data(), expected.data() + (i + 1) * kPage, kPage), 0) << i;
    auto records = decode_page_records(page);
    ASSERT_TRUE(records.ok()) << records.error().describe();
    expect_same_records(records.value(), sample_.records_for(static_cast<std::uint32_t>(i)));
  }
  EXPECT_EQ(os_.calls(OsCall::Advise), 0u);  // no hint asked for
  ASSERT_TRUE(file.close().ok());
  EXPECT_FALSE(file.is_open());
  EXPECT_EQ(os_.calls(OsCall::Unmap), 1u);
}

TEST_F(PageFileTest, LargerPagesAndASinglePageFile) {
  PageFileWriter w;
  ASSERT_TRUE(w.set_page_size(64 * 1024).ok());
  ASSERT_TRUE(w.add_page(bytes_of("only")).ok());
  const std::string p = path("one.pf");
  ASSERT_TRUE(w.write(LinuxOs::instance(), p).ok());
  auto opened = MappedPageFile::open(os_, p);
  ASSERT_TRUE(opened.ok()) << opened.error().describe();
  EXPECT_EQ(opened->page_count(), 1u);
  EXPECT_EQ(opened->root_page_index(), 0u);
  EXPECT_EQ(std::memcmp(opened->root_page().data(), "only", 4), 0);
  EXPECT_EQ(opened->root_page()[4], std::byte{0});  // zero padded
}

// ---- the corrupt-file table --------------------------------------------------

struct CorruptCase {
  std::string name;
  std::function<void(std::vector<std::byte>&)> corrupt;
  const char* detail;
};

std::vector<CorruptCase> corrupt_cases() {
  constexpr std::uint64_t kFileBytes = 4 * kPage;  // the 3-page sample
  std::vector<CorruptCase> cases;
  auto header_with = [](std::function<void(PageFileHeader&)> edit) {
    return [edit](std::vector<std::byte>& f) {
      PageFileHeader h;
      h.page_size = kPage;
      h.page_count = 3;
      h.root_offset = 2 * kPage;
      edit(h);
      set_header(f, h);
    };
  };
  const char* kShort = "file shorter than the 64-byte header";
  const char* kLength = "file length does not match page_count x page_size";
  const char* kPageSize = "page_size not a power of two in 4 KiB..1 MiB";
  const char* kRange = "root offset out of range";

  // Truncation at every byte of the header covers every field boundary (0, 8,
  // 12, 16, 24, 32, 40, 48) and the empty file.
  for (std::size_t n = 0; n < kPageFileHeaderBytes; ++n) {
    cases.push_back({"truncated to " + std::to_string(n), [n](auto& f) { f.resize(n); }, kShort});
  }
  for (std::size_t n : {std::size_t{64}, std::size_t{65}, std::size_t{kPage - 1}, std::size_t{kPage},
                        std::size_t{kPage + 1}, std::size_t{3 * kPage}, std::size_t{kFileBytes - 1}}) {
    cases.push_back({"truncated to " + std::to_string(n), [n](auto& f) { f.resize(n); }, kLength});
  }
  cases.push_back({"one byte too long", [](auto& f) { f.push_back(std::byte{0}); }, kLength});
  cases.push_back({"one page too long", [](auto& f) { f.resize(f.size() + kPage); }, kLength});
  for (std::size_t i = 0; i < 8; ++i) {
    cases.push_back({"magic byte " + std::to_string(i), [i](auto& f) { f[i] ^= std::byte{0x20}; }, "bad magic"});
  }
  for (std::uint32_t v : {0u, 2u, 0xffffffffu}) {
    cases.push_back({"version " + std::to_string(v), header_with([v](auto& h) { h.format_version = v; }),
                     "unsupported format_version"});
  }
  for (std::uint32_t s : {0u, 1u, 2048u, 4097u, 3 * kPage, 2u << 20, 0x80000000u}) {
    cases.push_back({"page size " + std::to_string(s), header_with([s](auto& h) { h.page_size = s; }), kPageSize});
  }
  // A valid page size that does not match the file's layout.
  cases.push_back({"page size 8 KiB", header_with([](auto& h) { h.page_size = 2 * kPage; }), kLength});
  cases.push_back({"reserved set", header_with([](auto& h) { h.reserved = 1; }), "reserved field not zero"});
  cases.push_back({"header byte 50 set", [](auto& f) { f[50] = std::byte{1}; }, "header bytes 48..63 not zero"});
  cases.push_back({"checksum bit flipped", [](auto& f) { f[40] ^= std::byte{1}; }, "header checksum mismatch"});
  cases.push_back({"page_count changed, checksum not", [](auto& f) { store_le64(f, 16, 2); },
                   "header checksum mismatch"});
  cases.push_back({"root changed, checksum not", [](auto& f) { store_le64(f, 24, kPage); },
                   "header checksum mismatch"});
  cases.push_back({"page_count zero", header_with([](auto& h) { h.page_count = 0; }),
                   "page_count is zero (no root page)"});
  cases.push_back({"page_count one past the end", header_with([](auto& h) { h.page_count = 4; }), kLength});
  cases.push_back({"page_count one short", header_with([](auto& h) { h.page_count = 2; }), kLength});
  cases.push_back({"page_count max", header_with([](auto& h) { h.page_count = UINT64_MAX; }), kLength});
  // (page_count + 1) * 4096 wraps to exactly the file length: 4 + 2^52 pages.
  cases.push_back({"page_count wrapping to the file length",
                   header_with([](auto& h) { h.page_count = 3 + (std::uint64_t{1} << 52); }), kLength});
  cases.push_back({"page_count x size overflows",
                   header_with([](auto& h) { h.page_count = UINT64_MAX / kPage + 1; }), kLength});
  for (std::uint64_t root : {std::uint64_t{0}, std::uint64_t{kPage - 1}, kFileBytes, kFileBytes + kPage,
                             std::uint64_t{UINT64_MAX}, std::uint64_t{UINT64_MAX - kPage + 1}}) {
    cases.push_back({"root offset " + std::to_string(root), header_with([root](auto& h) { h.root_offset = root; }),
                     kRange});
  }
  for (std::uint64_t root : {std::uint64_t{kPage + 1}, std::uint64_t{2 * kPage + 512}, kFileBytes - 1}) {
    cases.push_back({"root offset " + std::to_string(root), header_with([root](auto& h) { h.root_offset = root; }),
                     "root offset not page aligned"});
  }
  return cases;
}

TEST_F(PageFileTest, EveryCorruptFileIsRejectedWithItsRuleAndUnmapped) {
  const std::vector<std::byte> valid = sample_.writer().to_bytes();
  ASSERT_TRUE(MappedPageFile::open(os_, put("valid.pf", valid)).ok());  // the baseline opens
  const auto cases = corrupt_cases();
  EXPECT_GE(cases.size(), 100u);
  for (const CorruptCase& c : cases) {
    SCOPED_TRACE(c.name);
    std::vector<std::byte> bytes = valid;
    c.corrupt(bytes);
    const std::string p = put("corrupt.pf", bytes);
    const std::uint64_t unmaps_before = os_.calls(OsCall::Unmap);
    auto opened = MappedPageFile::open(os_, p);
    ASSERT_FALSE(opened.ok());
    EXPECT_EQ(opened.error().code, Errc::InvalidPageFile);
    EXPECT_STREQ(opened.error().detail, c.detail);
    EXPECT_EQ(opened.error().os_errno, 0);
    // Nothing stays mapped: every non-empty mapping was unmapped once.
    EXPECT_EQ(os_.calls(OsCall::Unmap) - unmaps_before, bytes.empty() ? 0u : 1u);
  }
  EXPECT_EQ(os_.failures(OsCall::Unmap), 0u);
}

TEST_F(PageFileTest, ChecksumIsFnv1a64OverTheFirst40Bytes) {
  // Published FNV-1a 64 vectors pin the algorithm, not just self-consistency.
  EXPECT_EQ(fnv1a64({}), 0xcbf29ce484222325ULL);
  EXPECT_EQ(fnv1a64(bytes_of("a")), 0xaf63dc4c8601ec8cULL);
  EXPECT_EQ(fnv1a64(bytes_of("foobar")), 0x85944171f73967e8ULL);
  PageFileHeader h;
  h.page_count = 5;
  h.root_offset = 3 * kPage;
  const auto header = encode_page_file_header(h);
  std::uint64_t stored = 0;
  for (int i = 7; i >= 0; --i) stored = (stored << 8) | static_cast<std::uint64_t>(header[40 + i]);
  EXPECT_EQ(stored, fnv1a64(std::span(header.data(), 40)));
  EXPECT_EQ(std::memcmp(header.data(), "SEGSIMPF", 8), 0);
  for (std::size_t i = 48; i < 64; ++i) EXPECT_EQ(header[i], std::byte{0});
}

// ---- the Os seam --------------------------------------------------------------

TEST_F(PageFileTest, MapFileFailureIsOsFailureWithErrno) {
  const std::string p = path("valid.pf");
  ASSERT_TRUE(sample_.writer().write(LinuxOs::instance(), p).ok());
  os_.fail_nth(OsCall::MapFile, 1, EACCES);
  auto refused = MappedPageFile::open(os_, p);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, Errc::OsFailure);
  EXPECT_EQ(refused.error().os_errno, EACCES);
  EXPECT_EQ(os_.calls(OsCall::Unmap), 0u);
  auto missing = MappedPageFile::open(os_, path("missing.pf"));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, Errc::OsFailure);
  EXPECT_EQ(missing.error().os_errno, ENOENT);
  EXPECT_TRUE(MappedPageFile::open(os_, p).ok());  // the rule fired once only
}

TEST_F(PageFileTest, AccessHintsIssueTheMatchingAdvice) {
  const std::string p = path("valid.pf");
  ASSERT_TRUE(sample_.writer().write(LinuxOs::instance(), p).ok());
  struct Want {
    AccessHint hint;
    std::uint64_t sequential, willneed;
  };
  std::uint64_t sequential = 0, willneed = 0;
  for (Want w : {Want{AccessHint::None, 0, 0}, Want{AccessHint::Sequential, 1, 0}, Want{AccessHint::WillNeed, 0, 1}}) {
    auto opened = MappedPageFile::open(os_, p, OpenOptions{w.hint, false});
    ASSERT_TRUE(opened.ok());
    sequential += w.sequential;
    willneed += w.willneed;
    EXPECT_EQ(os_.advise_calls(Advice::Sequential), sequential);
    EXPECT_EQ(os_.advise_calls(Advice::WillNeed), willneed);
    EXPECT_EQ(opened->advise_failures(), 0u);
  }
  EXPECT_EQ(os_.calls(OsCall::Advise), 2u);
  EXPECT_EQ(os_.advise_calls(Advice::DontNeed), 0u);
}

TEST_F(PageFileTest, AFailedHintIsCountedNotAnError) {
  const std::string p = path("valid.pf");
  ASSERT_TRUE(sample_.writer().write(LinuxOs::instance(), p).ok());
  os_.fail_nth(OsCall::Advise, 1, EINVAL);
  auto opened = MappedPageFile::open(os_, p, OpenOptions{AccessHint::WillNeed, false});
  ASSERT_TRUE(opened.ok()) << opened.error().describe();
  EXPECT_EQ(opened->advise_failures(), 1u);
  EXPECT_EQ(opened->last_advise_errno(), EINVAL);
  EXPECT_TRUE(decode_page_records(opened->root_page()).ok());  // still readable
}

TEST_F(PageFileTest, PopulateTouchesEveryOsPageAndDefaultTouchesNone) {
  const std::string p = path("valid.pf");
  ASSERT_TRUE(sample_.writer().write(LinuxOs::instance(), p).ok());
  auto lazy = MappedPageFile::open(os_, p);
  ASSERT_TRUE(lazy.ok());
  EXPECT_EQ(lazy->populated_os_pages(), 0u);
  auto eager = MappedPageFile::open(os_, p, OpenOptions{AccessHint::None, true});
  ASSERT_TRUE(eager.ok());
  EXPECT_EQ(eager->populated_os_pages(), 4u * kPage / os_.page_size());
}

TEST_F(PageFileTest, RefreshDetectsASizeChange) {
  const std::string p = path("valid.pf");
  ASSERT_TRUE(sample_.writer().write(LinuxOs::instance(), p).ok());
  auto opened = MappedPageFile::open(os_, p);
  ASSERT_TRUE(opened.ok());
  auto same = opened->refresh();
  ASSERT_TRUE(same.ok());
  EXPECT_FALSE(same.value());
  // Rewritten with a fourth page: a new file under the same name (the old
  // mapping keeps the old inode, so reading it stays safe).
  const std::string tmp = path("next.pf");
  ASSERT_TRUE(sample_.writer(4).write(LinuxOs::instance(), tmp).ok());
  ASSERT_EQ(::rename(tmp.c_str(), p.c_str()), 0);
  auto changed = opened->refresh();
  ASSERT_TRUE(changed.ok());
  EXPECT_TRUE(changed.value());
  EXPECT_EQ(opened->page_count(), 3u);  // no remap: the caller reopens
  auto reopened = MappedPageFile::open(os_, p);
  ASSERT_TRUE(reopened.ok());
  EXPECT_EQ(reopened->page_count(), 4u);
}

TEST_F(PageFileTest, RefreshDetectsAnMtimeChangeAtTheSameSize) {
  const std::string p = path("valid.pf");
  ASSERT_TRUE(sample_.writer().write(LinuxOs::instance(), p).ok());
  // mtime set explicitly: two writes within one timer tick can share an mtime.
  const timespec old_times[2] = {{1'000'000, 0}, {1'000'000, 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, p.c_str(), old_times, 0), 0);
  auto opened = MappedPageFile::open(os_, p);
  ASSERT_TRUE(opened.ok());
  EXPECT_EQ(opened->status_at_open().mtime_ns, 1'000'000LL * 1'000'000'000LL);
  ASSERT_FALSE(opened->refresh().value());
  const timespec new_times[2] = {{1'000'000, 1}, {1'000'000, 1}};  // one nanosecond later
  ASSERT_EQ(::utimensat(AT_FDCWD, p.c_str(), new_times, 0), 0);
  EXPECT_TRUE(opened->refresh().value());
}

TEST_F(PageFileTest, RefreshReportsStatFailures) {
  const std::string p = path("valid.pf");
  ASSERT_TRUE(sample_.writer().write(LinuxOs::instance(), p).ok());
  auto opened = MappedPageFile::open(os_, p);
  ASSERT_TRUE(opened.ok());
  os_.fail_nth(OsCall::StatFile, 1, EIO);
  auto failed = opened->refresh();
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().code, Errc::OsFailure);
  EXPECT_EQ(failed.error().os_errno, EIO);
  ASSERT_EQ(::unlink(p.c_str()), 0);
  auto gone = opened->refresh();
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.error().os_errno, ENOENT);
  // The mapping outlives the name.
  EXPECT_TRUE(decode_page_records(opened->page(2)).ok());
}

TEST_F(PageFileTest, FailedUnmapIsReportedByCloseAndCountedByTheDestructor) {
  const std::string p = path("valid.pf");
  ASSERT_TRUE(sample_.writer().write(LinuxOs::instance(), p).ok());
  std::vector<std::pair<std::byte*, std::size_t>> leaked;
  {
    auto opened = MappedPageFile::open(os_, p);
    ASSERT_TRUE(opened.ok());
    leaked.emplace_back(const_cast<std::byte*>(opened->page(0).data()) - kPage, opened->file_bytes());
    const std::uint64_t before = MappedPageFile::unmap_failures();
    os_.fail_nth(OsCall::Unmap, 1, EINVAL);
    Status closed = opened->close();
    ASSERT_FALSE(closed.ok());
    EXPECT_EQ(closed.error().code, Errc::OsFailure);
    EXPECT_EQ(closed.error().os_errno, EINVAL);
    EXPECT_FALSE(opened->is_open());
    EXPECT_EQ(MappedPageFile::unmap_failures(), before + 1);
  }
  {
    auto opened = MappedPageFile::open(os_, p);
    ASSERT_TRUE(opened.ok());
    leaked.emplace_back(const_cast<std::byte*>(opened->page(0).data()) - kPage, opened->file_bytes());
    const std::uint64_t before = MappedPageFile::unmap_failures();
    os_.fail_nth(OsCall::Unmap, 1, ENOMEM);
    { MappedPageFile dying = std::move(opened.value()); }
    EXPECT_EQ(MappedPageFile::unmap_failures(), before + 1);
  }
  for (auto [addr, bytes] : leaked) ASSERT_TRUE(LinuxOs::instance().unmap(addr, bytes).ok());
}

TEST_F(PageFileTest, MovesTransferTheMappingAndAssignmentClosesTheOldOne) {
  const std::string p = path("valid.pf");
  ASSERT_TRUE(sample_.writer().write(LinuxOs::instance(), p).ok());
  auto a = MappedPageFile::open(os_, p);
  auto b = MappedPageFile::open(os_, p);
  ASSERT_TRUE(a.ok() && b.ok());
  MappedPageFile moved(std::move(a.value()));
  EXPECT_FALSE(a->is_open());
  EXPECT_TRUE(moved.is_open());
  EXPECT_EQ(moved.page_count(), 3u);
  moved = std::move(b.value());  // unmaps the first mapping
  EXPECT_EQ(os_.calls(OsCall::Unmap), 1u);
  EXPECT_TRUE(decode_page_records(moved.root_page()).ok());
  EXPECT_TRUE(a->close().ok());  // closing a moved-from file is a no-op
  EXPECT_EQ(os_.calls(OsCall::Unmap), 1u);
}

TEST_F(PageFileTest, PageIndexPastTheEndIsAnAssertion) {
  const std::string p = path("valid.pf");
  ASSERT_TRUE(sample_.writer().write(LinuxOs::instance(), p).ok());
  auto opened = MappedPageFile::open(os_, p);
  ASSERT_TRUE(opened.ok());
  EXPECT_DEATH((void)opened->page(3), "page index out of range");
}

// ---- the writer ----------------------------------------------------------------

TEST_F(PageFileTest, WriterRefusesInvalidInput) {
  PageFileWriter w;
  for (std::uint32_t bad : {0u, 2048u, 4097u, 12288u, 2u << 20}) {
    Status s = w.set_page_size(bad);
    ASSERT_FALSE(s.ok()) << bad;
    EXPECT_EQ(s.error().code, Errc::InvalidConfig);
  }
  EXPECT_EQ(w.page_size(), kPage);
  Status no_pages = w.write(LinuxOs::instance(), path("empty.pf"));
  ASSERT_FALSE(no_pages.ok());
  EXPECT_EQ(no_pages.error().code, Errc::InvalidConfig);
  EXPECT_FALSE(w.set_root_page(0).ok());
  std::vector<std::byte> too_long(kPage + 1);
  auto refused = w.add_page(too_long);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, Errc::InvalidSize);
  too_long.pop_back();
  EXPECT_EQ(w.add_page(too_long).value(), 0u);  // exactly a page fits
  EXPECT_FALSE(w.set_page_size(8192).ok());      // too late: a page exists
  EXPECT_FALSE(w.set_root_page(1).ok());
  EXPECT_TRUE(w.set_root_page(0).ok());
  Status unwritable = w.write(LinuxOs::instance(), path("no/such/dir/file.pf"));
  ASSERT_FALSE(unwritable.ok());
  EXPECT_EQ(unwritable.error().code, Errc::OsFailure);
  EXPECT_EQ(unwritable.error().os_errno, ENOENT);
}

// The writer's Os errors: an interrupted write asked again (up to the limit
// in a row), a failed write or close reported with its errno, the descriptor
// closed either way.
TEST_F(PageFileTest, WriterRetriesInterruptedWritesAndReportsOsFailures) {
  PageFileWriter w;
  ASSERT_TRUE(w.add_page({}).ok());
  testing::ScriptedOs os;
  os.fail_nth(OsCall::WriteFile, 1, EINTR);
  ASSERT_TRUE(w.write(os, path("interrupted.pf")).ok());
  EXPECT_EQ(std::filesystem::file_size(path("interrupted.pf")), 2 * kPage);
  EXPECT_EQ(os.calls(OsCall::CloseFile), 1u);

  os.clear_failures();
  os.fail_from(OsCall::WriteFile, 1, EINTR);
  const std::uint64_t writes_before = os.calls(OsCall::WriteFile);
  Status interrupted = w.write(os, path("always-interrupted.pf"));
  ASSERT_FALSE(interrupted.ok());
  EXPECT_EQ(interrupted.error().os_errno, EINTR);
  EXPECT_EQ(os.calls(OsCall::WriteFile) - writes_before, kMaxWriteInterruptions + 1);
  EXPECT_EQ(os.calls(OsCall::CloseFile), 2u);

  os.clear_failures();
  os.fail_nth(OsCall::WriteFile, 1, ENOSPC);
  Status full = w.write(os, path("full.pf"));
  ASSERT_FALSE(full.ok());
  EXPECT_EQ(full.error().os_errno, ENOSPC);
  EXPECT_EQ(os.calls(OsCall::CloseFile), 3u);

  os.clear_failures();
  os.fail_nth(OsCall::CloseFile, 1, EIO);
  Status closed = w.write(os, path("close-failed.pf"));
  ASSERT_FALSE(closed.ok());
  EXPECT_EQ(closed.error().os_errno, EIO);
  EXPECT_EQ(std::filesystem::file_size(path("close-failed.pf")), 2 * kPage);

  os.clear_failures();
  os.fail_nth(OsCall::CreateFile, 1, EACCES);
  Status denied = w.write(os, path("denied.pf"));
  ASSERT_FALSE(denied.ok());
  EXPECT_EQ(denied.error().os_errno, EACCES);
  EXPECT_FALSE(std::filesystem::exists(path("denied.pf")));
}

TEST_F(PageFileTest, WriterStopsAtItsMemoryLimit) {
  PageFileWriter w(5 * kPage);  // the header page and four pages
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(w.add_page({}).ok()) << i;
  auto over = w.add_page({});
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.error().code, Errc::InvalidSize);
  EXPECT_EQ(w.page_count(), 4u);
  EXPECT_EQ(w.to_bytes().size(), 5u * kPage);
}

// ---- the record codec ---------------------------------------------------------

}  // namespace
}  // namespace segsim
