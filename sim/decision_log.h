// The scheduling decisions of a run, kept compactly as the run goes.
//
// A decision is the id of the fiber chosen at a step: a small integer. Each is
// written as an unsigned LEB128 varint (one byte below 128) into a pending
// buffer; every kBlockRawBytes the buffer is deflated (zlib) into a block, so
// a run of N steps holds about N * (entropy of a choice) bits plus one block,
// not 4 bytes per step. Random choices among 5 fibers deflate to ~0.37 byte
// per decision; a fiber that keeps the CPU costs almost nothing.
//
// Encoded form (what a repro stores, base64'd): a sequence of blocks, each
//   varint raw_bytes, varint deflated_bytes, deflated_bytes of zlib data
// whose inflated bytes are whole varints. from_encoded() checks all of it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/result.h"

namespace segsim::sim {

class DecisionLog {
 public:
  static constexpr std::size_t kBlockRawBytes = std::size_t{1} << 20;
  // Ten billion decisions: hours of simulation. Checking an encoding costs time
  // linear in its count, so a hostile file cannot ask for more.
  static constexpr std::uint64_t kMaxDecisions = 10'000'000'000;

  DecisionLog() = default;
  static DecisionLog from_vector(const std::vector<std::uint32_t>& decisions);
  // Refuses (InvalidConfig, `error_line`) anything from_encoded's format
  // does not describe, or a count other than `count`.
  static Result<DecisionLog> from_encoded(std::string encoded, std::uint64_t count, std::string* error_line);

  // Inline: one per scheduling point. A small id with room in the block is a
  // byte appended; the rest (a longer varint, a full block) is out of line.
  void push_back(std::uint32_t fiber) {
    if (fiber < 0x80 && pending_.size() + 1 + kMaxVarintBytes <= kBlockRawBytes) [[likely]] {
      pending_.push_back(static_cast<char>(fiber));  // a small id's varint is the id
      ++count_;
      return;
    }
    push_back_slow(fiber);
  }
  std::uint64_t size() const { return count_; }
  bool empty() const { return count_ == 0; }
  // The encoded form (complete: the pending tail as a last block).
  std::string encoded() const;
  // Deflates the pending tail into a block: then sealed_bytes() is the encoded
  // form without a copy. More decisions may follow.
  void seal() { flush_block(); }
  bool sealed() const { return pending_.empty(); }
  std::string_view sealed_bytes() const;
  // Bytes held now: deflated blocks plus the pending tail.
  std::size_t bytes_held() const { return blocks_.size() + pending_.size(); }
  // Every decision (for shrinking and tests: 4 bytes per decision).
  std::vector<std::uint32_t> to_vector() const;
  // The first `count` decisions (count <= size()).
  DecisionLog prefix(std::uint64_t count) const;

  bool operator==(const DecisionLog& other) const;

  // Reads the decisions in order, one block inflated at a time.
  class Reader {
   public:
    explicit Reader(const DecisionLog& log) : log_(&log) {}
    // False at the end.
    bool next(std::uint32_t& fiber);

   private:
    bool load_block();
    const DecisionLog* log_;
    std::size_t block_offset_ = 0;  // into log_->blocks_
    std::string raw_;               // the current block, inflated
    std::size_t position_ = 0;      // into raw_
    bool in_pending_ = false;
  };

 private:
  static constexpr std::size_t kMaxVarintBytes = 5;  // a uint32
  void push_back_slow(std::uint32_t fiber);
  void flush_block();
  std::string blocks_;
  std::vector<char> pending_;  // not a std::string: push_back is a third of the instructions
  std::uint64_t count_ = 0;
};

}  // namespace segsim::sim
