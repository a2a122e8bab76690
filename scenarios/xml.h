// XML escaping shared by the JUnit writer (sweep_junit.cpp) and the SVG plot.
#pragma once

#include <string>
#include <string_view>

namespace segsim::scenarios {

// XML 1.0 allows no control characters but tab, newline and carriage return;
// those three are kept in text and escaped as references in attributes.
inline std::string xml_escape(std::string_view text, bool attribute) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      case '\n': out += attribute ? "&#10;" : "\n"; break;
      case '\r': out += attribute ? "&#13;" : "\r"; break;
      case '\t': out += attribute ? "&#9;" : "\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
          out += '?';
        } else {
          out += c;
        }
    }
  }
  return out;
}

}  // namespace segsim::scenarios
