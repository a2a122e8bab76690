// The descriptors oracle (scenarios/oracles/descriptors.h): a descriptor
// opened after the snapshot and still open is named in stable words (its
// kind, a file's name with digits masked); one closed again is not.
#include <fcntl.h>
#include <unistd.h>

#include <optional>
#include <string>

#include <gtest/gtest.h>

#include "scenarios/oracles/descriptors.h"
#include "scenarios/tests/test_files.h"

namespace segsim::scenarios {
namespace {

TEST(DescriptorsOracle, NothingOpenedIsNoLeak) {
  const OpenDescriptors before = OpenDescriptors::now();
  ASSERT_TRUE(before.readable());
  EXPECT_EQ(OpenDescriptors::now().leaked_since(before), std::nullopt);
}

TEST(DescriptorsOracle, AFileLeftOpenIsNamedWithoutItsDigits) {
  testing::TempDir dir;
  const OpenDescriptors before = OpenDescriptors::now();
  const std::string path = (dir.path() / "report-1234-7.json").string();
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  ASSERT_GE(fd, 0);
  const std::optional<std::string> leak = OpenDescriptors::now().leaked_since(before);
  ASSERT_TRUE(leak.has_value());
  EXPECT_NE(leak->find("1 file descriptor(s)"), std::string::npos) << *leak;
  EXPECT_NE(leak->find("a regular file 'report-#-#.json'"), std::string::npos) << *leak;
  EXPECT_EQ(leak->find(dir.path().string()), std::string::npos) << "the directory is named: " << *leak;
  ASSERT_EQ(::close(fd), 0);
  EXPECT_EQ(OpenDescriptors::now().leaked_since(before), std::nullopt);
}

TEST(DescriptorsOracle, APipeLeftOpenIsNamedAsOne) {
  const OpenDescriptors before = OpenDescriptors::now();
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  const std::optional<std::string> leak = OpenDescriptors::now().leaked_since(before);
  ::close(fds[0]);
  ::close(fds[1]);
  ASSERT_TRUE(leak.has_value());
  EXPECT_NE(leak->find("2 file descriptor(s)"), std::string::npos) << *leak;
  EXPECT_NE(leak->find("a pipe, a pipe"), std::string::npos) << *leak;
}

TEST(DescriptorsOracle, ASnapshotThatCouldNotBeTakenChecksNothing) {
  const OpenDescriptors unreadable;
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  const std::optional<std::string> leak = OpenDescriptors::now().leaked_since(unreadable);
  ::close(fds[0]);
  ::close(fds[1]);
  EXPECT_EQ(leak, std::nullopt);
}

}  // namespace
}  // namespace segsim::scenarios
