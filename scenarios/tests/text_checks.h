// What the tests of the harness's text outputs (JSON, JUnit, SVG) check of them.
#pragma once

#include <string>

#include <gtest/gtest.h>

namespace segsim::scenarios::testing {

// How often `needle` occurs in `text`, overlaps included.
inline std::size_t count(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (std::size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

// Every '&' starts an entity and no markup character survives unescaped in
// a value: enough to know a JUnit consumer can parse it.
inline void expect_escaped(const std::string& xml) {
  for (std::size_t at = xml.find('&'); at != std::string::npos; at = xml.find('&', at + 1)) {
    const std::string rest = xml.substr(at, 6);
    const bool entity = rest.rfind("&amp;", 0) == 0 || rest.rfind("&lt;", 0) == 0 ||
                        rest.rfind("&gt;", 0) == 0 || rest.rfind("&quot;", 0) == 0 ||
                        rest.rfind("&apos;", 0) == 0 || rest.rfind("&#", 0) == 0;
    EXPECT_TRUE(entity) << "bare '&' at " << at << ": " << xml.substr(at, 20);
  }
  for (char c : xml) {
    const auto u = static_cast<unsigned char>(c);
    EXPECT_TRUE(u >= 0x20 || c == '\n' || c == '\t' || c == '\r') << "control character " << int(u);
  }
}

}  // namespace segsim::scenarios::testing
