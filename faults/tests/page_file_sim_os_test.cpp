// MappedPageFile over SimOs's in-memory files: the deterministic variant of
// core/tests/mapped_page_file_test.cpp (core tests may not depend on faults/).
#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "core/mapped_page_file.h"
#include "core/page_file_writer.h"
#include "core/page_records.h"
#include "core/units.h"
#include "faults/sim_os.h"
#include "faults/tests/sim_os_fixture.h"

namespace segsim::faults {
namespace {

constexpr std::uint32_t kPage = 4096;

std::unique_ptr<SimOs> make_page_file_sim_os() { return testing::make_test_sim_os(64 * MiB); }

std::vector<std::byte> bytes_of(std::string_view text) {
  std::vector<std::byte> out(text.size());
  if (!text.empty()) std::memcpy(out.data(), text.data(), text.size());
  return out;
}

// `pages` pages; page i holds records for slots i and 100 + i, the second
// with a DeweyID. The root is the last page.
std::vector<std::byte> make_file(std::uint32_t pages) {
  PageFileWriter writer;
  const std::vector<std::byte> dewey = bytes_of("\x02\x04");
  for (std::uint32_t i = 0; i < pages; ++i) {
    const std::vector<std::byte> value = bytes_of("value-" + std::to_string(i));
    const std::vector<PageRecordView> records{{i, value, std::nullopt}, {100 + i, value, dewey}};
    auto encoded = encode_page_records(records, kPage);
    SEGSIM_ASSERT(encoded.ok(), "sample records fit");
    SEGSIM_ASSERT(writer.add_page(encoded.value()).ok(), "sample page added");
  }
  SEGSIM_ASSERT(writer.set_root_page(pages - 1).ok(), "root exists");
  return writer.to_bytes();
}

class PageFileOnSimOs : public ::testing::Test {
 protected:
  std::size_t calls(OsCall call) const { return sim_->stats().calls[static_cast<std::size_t>(call)]; }
  std::unique_ptr<SimOs> sim_ = make_page_file_sim_os();
};

TEST_F(PageFileOnSimOs, RoundTripThroughAnInMemoryFile) {
  sim_->add_file("/pf/a", make_file(3), /*mtime_ns=*/7);
  auto opened = MappedPageFile::open(*sim_, "/pf/a");
  ASSERT_TRUE(opened.ok()) << opened.error().describe();
  EXPECT_EQ(opened->page_count(), 3u);
  EXPECT_EQ(opened->root_page_index(), 2u);
  EXPECT_EQ(opened->status_at_open().mtime_ns, 7);
  EXPECT_TRUE(sim_->offset_of(opened->root_page().data()).has_value());  // SimOs memory, not a copy
  for (std::uint32_t i = 0; i < 3; ++i) {
    auto records = decode_page_records(opened->page(i));
    ASSERT_TRUE(records.ok()) << records.error().describe();
    ASSERT_EQ(records->size(), 2u);
    EXPECT_EQ((*records)[0].slot, i);
    EXPECT_FALSE((*records)[0].dewey_id.has_value());
    EXPECT_EQ((*records)[1].slot, 100 + i);
    ASSERT_TRUE((*records)[1].dewey_id.has_value());
    EXPECT_EQ((*records)[1].dewey_id->size(), 2u);
    const std::string value(reinterpret_cast<const char*>((*records)[0].value.data()), (*records)[0].value.size());
    EXPECT_EQ(value, "value-" + std::to_string(i));
  }
  EXPECT_EQ(sim_->stats().virtual_bytes, 4u * kPage);
  ASSERT_TRUE(opened->close().ok());
  EXPECT_EQ(sim_->stats().virtual_bytes, 0u);
  EXPECT_EQ(sim_->stats().mappings, 0u);
}

// PageFileWriter::write through SimOs: a page a write_file call (short
// writes), the file then opened like any other.
TEST_F(PageFileOnSimOs, TheWriterWritesThroughSimOsInShortWrites) {
  PageFileWriter writer;
  ASSERT_TRUE(writer.add_page({}).ok());
  ASSERT_TRUE(writer.add_page(bytes_of("second")).ok());
  ASSERT_TRUE(writer.write(*sim_, "/pf/written").ok());
  EXPECT_EQ(calls(OsCall::CreateFile), 1u);
  EXPECT_EQ(calls(OsCall::WriteFile), 3u);  // the header page and two pages, one a call
  EXPECT_EQ(calls(OsCall::CloseFile), 1u);
  EXPECT_EQ(sim_->open_file_count(), 0u);
  EXPECT_EQ(sim_->file_contents("/pf/written"), writer.to_bytes());
  auto opened = MappedPageFile::open(*sim_, "/pf/written");
  ASSERT_TRUE(opened.ok()) << opened.error().describe();
  EXPECT_EQ(opened->page_count(), 2u);
  ASSERT_TRUE(opened->close().ok());
}

TEST_F(PageFileOnSimOs, FileCallsRefuseWhatLinuxRefuses) {
  sim_->add_file("/pf/a", make_file(1), 1);
  auto under_a_file = sim_->create_file("/pf/a/b");
  ASSERT_FALSE(under_a_file.ok());
  EXPECT_EQ(under_a_file.error().errno_value, ENOTDIR);
  EXPECT_EQ(sim_->create_file("").error().errno_value, ENOENT);
  EXPECT_EQ(sim_->create_file("/pf/").error().errno_value, EISDIR);
  const std::byte one{1};
  EXPECT_EQ(sim_->write_file(12345, &one, 1).error().errno_value, EBADF);
  EXPECT_EQ(sim_->close_file(12345).error().errno_value, EBADF);
  std::vector<int> open;
  for (std::size_t i = 0; i < SimOs::kMaxOpenFiles; ++i) {
    auto fd = sim_->create_file("/pf/f" + std::to_string(i));
    ASSERT_TRUE(fd.ok()) << i;
    open.push_back(fd.value());
  }
  EXPECT_EQ(sim_->create_file("/pf/one-too-many").error().errno_value, EMFILE);
  // A file removed while open takes the rest of its writes nowhere.
  ASSERT_TRUE(sim_->remove_file("/pf/f0"));
  EXPECT_EQ(sim_->write_file(open[0], &one, 1).value(), 1u);
  EXPECT_FALSE(sim_->file_contents("/pf/f0").has_value());
  for (int fd : open) EXPECT_TRUE(sim_->close_file(fd).ok());
  EXPECT_EQ(sim_->open_file_count(), 0u);
  EXPECT_EQ(sim_->close_file(open[0]).error().errno_value, EBADF);  // never closed twice
}

TEST_F(PageFileOnSimOs, ARejectedFileLeavesNothingMapped) {
  std::vector<std::byte> bad = make_file(2);
  bad[3] = std::byte{'X'};
  sim_->add_file("/pf/bad", bad, 1);
  sim_->add_file("/pf/empty", {}, 1);
  auto opened = MappedPageFile::open(*sim_, "/pf/bad");
  ASSERT_FALSE(opened.ok());
  EXPECT_STREQ(opened.error().detail, "bad magic");
  auto empty = MappedPageFile::open(*sim_, "/pf/empty");
  ASSERT_FALSE(empty.ok());
  EXPECT_STREQ(empty.error().detail, "file shorter than the 64-byte header");
  EXPECT_EQ(calls(OsCall::MapFile), 2u);
  EXPECT_EQ(calls(OsCall::Unmap), 1u);  // the empty file had no mapping to undo
  EXPECT_EQ(sim_->stats().virtual_bytes, 0u);
  auto missing = MappedPageFile::open(*sim_, "/pf/missing");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, Errc::OsFailure);
  EXPECT_EQ(missing.error().os_errno, ENOENT);
}

TEST_F(PageFileOnSimOs, RefreshSeesSizeAndMtimeChangesAndRemoval) {
  sim_->add_file("/pf/a", make_file(2), 10);
  auto opened = MappedPageFile::open(*sim_, "/pf/a");
  ASSERT_TRUE(opened.ok());
  EXPECT_FALSE(opened->refresh().value());
  sim_->add_file("/pf/a", make_file(2), 11);  // same size, new mtime
  EXPECT_TRUE(opened->refresh().value());
  sim_->add_file("/pf/a", make_file(2), 10);  // back to what was mapped
  EXPECT_FALSE(opened->refresh().value());
  sim_->add_file("/pf/a", make_file(3), 10);  // new size, old mtime
  EXPECT_TRUE(opened->refresh().value());
  ASSERT_TRUE(sim_->remove_file("/pf/a"));
  auto gone = opened->refresh();
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.error().os_errno, ENOENT);
  // The mapping is a snapshot: still the two pages it was opened with.
  EXPECT_EQ(opened->page_count(), 2u);
  EXPECT_TRUE(decode_page_records(opened->page(1)).ok());
}

TEST_F(PageFileOnSimOs, HintsReachTheOsAndPopulateTouchesEveryPage) {
  sim_->add_file("/pf/a", make_file(3), 1);
  auto sequential = MappedPageFile::open(*sim_, "/pf/a", OpenOptions{AccessHint::Sequential, false});
  ASSERT_TRUE(sequential.ok());
  EXPECT_EQ(calls(OsCall::Advise), 1u);
  EXPECT_EQ(sequential->advise_failures(), 0u);
  auto populated = MappedPageFile::open(*sim_, "/pf/a", OpenOptions{AccessHint::WillNeed, true});
  ASSERT_TRUE(populated.ok());
  EXPECT_EQ(calls(OsCall::Advise), 2u);
  EXPECT_EQ(populated->populated_os_pages(), 4u * kPage / sim_->page_size());
}

}  // namespace
}  // namespace segsim::faults
