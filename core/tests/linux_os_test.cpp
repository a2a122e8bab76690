#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include "core/linux_os.h"

namespace segsim {
namespace {

class LinuxOsTest : public ::testing::Test {
 protected:
  LinuxOs& os = LinuxOs::instance();
  std::size_t page = os.page_size();
};

TEST_F(LinuxOsTest, MapGivesZeroedWritableMemory) {
  auto mapped = os.map(4 * page);
  ASSERT_TRUE(mapped.ok());
  std::byte* p = mapped.value();
  for (std::size_t i = 0; i < 4 * page; i += 512) EXPECT_EQ(p[i], std::byte{0});
  std::memset(p, 0xab, 4 * page);
  EXPECT_TRUE(os.unmap(p, 4 * page).ok());
}

TEST_F(LinuxOsTest, MapRejectsSizesThatAreNotWholePages) {
  auto zero = os.map(0);
  ASSERT_FALSE(zero.ok());
  EXPECT_EQ(zero.error().errno_value, EINVAL);
  EXPECT_EQ(zero.error().call, OsCall::Map);
  EXPECT_FALSE(os.map(page + 1).ok());
}

TEST_F(LinuxOsTest, DontNeedZeroesPrivateAnonymousMemory) {
  auto mapped = os.map(2 * page);
  ASSERT_TRUE(mapped.ok());
  std::byte* p = mapped.value();
  std::memset(p, 0x5a, 2 * page);
  ASSERT_TRUE(os.advise(p, 2 * page, Advice::DontNeed).ok());
  for (std::size_t i = 0; i < 2 * page; ++i) ASSERT_EQ(p[i], std::byte{0}) << i;
  EXPECT_TRUE(os.unmap(p, 2 * page).ok());
}

TEST_F(LinuxOsTest, EveryAdviceIsAccepted) {
  auto mapped = os.map(512 * page);  // 2 MiB with 4 KiB pages: room for a huge page
  ASSERT_TRUE(mapped.ok());
  for (Advice a : {Advice::DontNeed, Advice::Free, Advice::WillNeed, Advice::Sequential}) {
    EXPECT_TRUE(os.advise(mapped.value(), page, a).ok()) << advice_name(a);
  }
  // HugePage fails with EINVAL on kernels built without THP: an error code, never a crash.
  auto huge = os.advise(mapped.value(), 512 * page, Advice::HugePage);
  if (!huge.ok()) {
    EXPECT_EQ(huge.error().errno_value, EINVAL);
  }
  EXPECT_TRUE(os.unmap(mapped.value(), 512 * page).ok());
}

TEST_F(LinuxOsTest, AdviseOnUnmappedMemoryReportsErrno) {
  auto mapped = os.map(page);
  ASSERT_TRUE(mapped.ok());
  ASSERT_TRUE(os.unmap(mapped.value(), page).ok());
  auto advised = os.advise(mapped.value(), page, Advice::WillNeed);
  ASSERT_FALSE(advised.ok());
  EXPECT_EQ(advised.error().call, OsCall::Advise);
  EXPECT_EQ(advised.error().errno_value, ENOMEM);
}

TEST_F(LinuxOsTest, PartialUnmapKeepsTheRest) {
  auto mapped = os.map(3 * page);
  ASSERT_TRUE(mapped.ok());
  std::byte* p = mapped.value();
  ASSERT_TRUE(os.unmap(p + page, page).ok());
  p[0] = std::byte{1};
  p[2 * page] = std::byte{2};
  EXPECT_EQ(p[0], std::byte{1});
  EXPECT_TRUE(os.unmap(p, page).ok());
  EXPECT_TRUE(os.unmap(p + 2 * page, page).ok());
}

TEST_F(LinuxOsTest, MapFileReadsContentsAndStatus) {
  char path[] = "/tmp/segsim_linux_os_XXXXXX";
  int fd = ::mkstemp(path);
  ASSERT_GE(fd, 0);
  const std::string text = "segsim page file";
  ASSERT_EQ(::write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
  ::close(fd);
  auto file = os.map_file(path);
  ASSERT_TRUE(file.ok());
  EXPECT_EQ(file->bytes, text.size());
  EXPECT_EQ(std::memcmp(file->data, text.data(), text.size()), 0);
  auto status = os.stat_file(path);
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(status->bytes, text.size());
  EXPECT_EQ(status->mtime_ns, file->status.mtime_ns);
  EXPECT_TRUE(os.unmap(const_cast<std::byte*>(file->data), file->bytes).ok());
  std::remove(path);
}

TEST_F(LinuxOsTest, MapFileOfEmptyFileHasNoMapping) {
  char path[] = "/tmp/segsim_linux_os_XXXXXX";
  int fd = ::mkstemp(path);
  ASSERT_GE(fd, 0);
  ::close(fd);
  auto file = os.map_file(path);
  ASSERT_TRUE(file.ok());
  EXPECT_EQ(file->bytes, 0u);
  EXPECT_EQ(file->data, nullptr);
  std::remove(path);
}

TEST_F(LinuxOsTest, MapFileErrorsCarryErrno) {
  auto missing = os.map_file("/nonexistent/segsim/file");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().call, OsCall::MapFile);
  EXPECT_EQ(missing.error().errno_value, ENOENT);
  auto dir = os.map_file("/tmp");
  ASSERT_FALSE(dir.ok());
  EXPECT_EQ(dir.error().errno_value, EINVAL);
  auto stat_missing = os.stat_file("/nonexistent/segsim/file");
  ASSERT_FALSE(stat_missing.ok());
  EXPECT_EQ(stat_missing.error().errno_value, ENOENT);
}

}  // namespace
}  // namespace segsim
