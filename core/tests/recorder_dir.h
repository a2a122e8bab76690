// A test's flight-recorder directory: a fresh temporary directory, the
// recorder turned off and the directory removed when the test ends — also when
// an assertion ends it early, so no later test inherits a live recorder.
#pragma once

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <system_error>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/flight_recorder.h"

namespace segsim::testing {

class RecorderDir {
 public:
  RecorderDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "segsim-recorder-XXXXXX").string();
    EXPECT_NE(::mkdtemp(pattern.data()), nullptr) << std::strerror(errno);
    path_ = pattern;
  }
  ~RecorderDir() {
    flight_recorder::disable();
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  RecorderDir(const RecorderDir&) = delete;
  RecorderDir& operator=(const RecorderDir&) = delete;

  const std::string& path() const { return path_; }

  // Every report (`*.json`) in the directory, parsed.
  std::vector<nlohmann::json> reports() const {
    std::vector<nlohmann::json> out;
    for (const auto& entry : std::filesystem::directory_iterator(path_)) {
      if (entry.path().extension() != ".json") continue;
      std::ifstream in(entry.path());
      std::stringstream text;
      text << in.rdbuf();
      out.push_back(nlohmann::json::parse(text.str()));
    }
    return out;
  }

 private:
  std::string path_;
};

}  // namespace segsim::testing
