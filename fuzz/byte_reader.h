// Reads a libFuzzer input byte by byte; every read past the end yields 0, so
// any input decodes to a valid sequence of operations.
#pragma once

#include <cstddef>
#include <cstdint>

namespace segsim::fuzzing {

class Reader {
 public:
  Reader(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}
  bool done() const { return pos_ >= size_; }
  std::uint8_t byte() { return pos_ < size_ ? data_[pos_++] : 0; }

 private:
  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t pos_ = 0;
};

}  // namespace segsim::fuzzing
