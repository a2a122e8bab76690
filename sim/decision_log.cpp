#include "sim/decision_log.h"

#include <zlib.h>

#include <fmt/format.h>

namespace segsim::sim {

namespace {

// Z_BEST_SPEED: ~50 MB/s on decision varints (level 6: ~6 MB/s, a tenth of a run's
// time) for ~10 % more bytes.
constexpr int kDeflateLevel = 1;

template <typename Bytes>  // std::string (blocks) or std::vector<char> (the pending tail)
void put_varint(Bytes& out, std::uint64_t value) {
  while (value >= 0x80) {
    out.push_back(static_cast<char>((value & 0x7f) | 0x80));
    value >>= 7;
  }
  out.push_back(static_cast<char>(value));
}

// Reads a varint of at most `max_bytes` bytes from `in` at `at`.
bool get_varint(std::string_view in, std::size_t& at, std::size_t max_bytes, std::uint64_t& value) {
  value = 0;
  for (std::size_t i = 0; i < max_bytes; ++i) {
    if (at >= in.size()) return false;
    const auto byte = static_cast<std::uint8_t>(in[at++]);
    value |= std::uint64_t{byte & 0x7fu} << (7 * i);
    if ((byte & 0x80) == 0) return true;
  }
  return false;
}

std::string deflate_block(std::string_view raw) {
  uLongf size = compressBound(static_cast<uLong>(raw.size()));
  std::string out(size, '\0');
  const int rc = compress2(reinterpret_cast<Bytef*>(out.data()), &size, reinterpret_cast<const Bytef*>(raw.data()),
                           static_cast<uLong>(raw.size()), kDeflateLevel);
  SEGSIM_ASSERT(rc == Z_OK, "deflating a decision block");
  out.resize(size);
  return out;
}

void append_block(std::string& blocks, std::string_view raw) {
  const std::string deflated = deflate_block(raw);
  put_varint(blocks, raw.size());
  put_varint(blocks, deflated.size());
  blocks += deflated;
}

// Inflates the block at `at` of `blocks` into `raw`. False (with a line)
// when the bytes are not a block of ours.
bool inflate_block(std::string_view blocks, std::size_t& at, std::string& raw, std::string* error_line) {
  const auto refuse = [&](const char* why) {
    if (error_line != nullptr) *error_line = fmt::format("decision block at byte {}: {}", at, why);
    return false;
  };
  std::uint64_t raw_bytes = 0, deflated_bytes = 0;
  if (!get_varint(blocks, at, 10, raw_bytes) || !get_varint(blocks, at, 10, deflated_bytes)) {
    return refuse("truncated header");
  }
  if (raw_bytes == 0 || raw_bytes > DecisionLog::kBlockRawBytes) return refuse("size out of range");
  if (deflated_bytes > blocks.size() - at) return refuse("truncated data");
  raw.assign(raw_bytes, '\0');
  uLongf size = static_cast<uLongf>(raw_bytes);
  const int rc = uncompress(reinterpret_cast<Bytef*>(raw.data()), &size,
                            reinterpret_cast<const Bytef*>(blocks.data() + at), static_cast<uLong>(deflated_bytes));
  if (rc != Z_OK || size != raw_bytes) return refuse("not deflate data of the recorded size");
  at += deflated_bytes;
  return true;
}

}  // namespace

DecisionLog DecisionLog::from_vector(const std::vector<std::uint32_t>& decisions) {
  DecisionLog log;
  for (std::uint32_t fiber : decisions) log.push_back(fiber);
  log.seal();
  return log;
}

Result<DecisionLog> DecisionLog::from_encoded(std::string encoded, std::uint64_t count, std::string* error_line) {
  const auto refuse = [&](std::string line) -> Result<DecisionLog> {
    if (error_line != nullptr) *error_line = std::move(line);
    return make_error(Errc::InvalidConfig, "bad decision log");
  };
  if (count > kMaxDecisions) return refuse(fmt::format("{} decisions is more than the {} allowed", count, kMaxDecisions));
  std::uint64_t seen = 0;
  std::string raw;
  std::string why;
  for (std::size_t at = 0; at < encoded.size();) {
    if (!inflate_block(encoded, at, raw, &why)) return refuse(why);
    std::uint64_t value = 0;
    for (std::size_t i = 0; i < raw.size();) {
      if (!get_varint(raw, i, kMaxVarintBytes, value) || value > UINT32_MAX) {
        return refuse(fmt::format("decision {} is not a fiber id", seen));
      }
      if (++seen > count) return refuse(fmt::format("more decisions than the {} recorded", count));
    }
  }
  if (seen != count) return refuse(fmt::format("{} decisions where {} were recorded", seen, count));
  DecisionLog log;
  log.blocks_ = std::move(encoded);
  log.count_ = count;
  return log;
}

// The block boundaries are those of a push of the varint followed by a flush
// once fewer than kMaxVarintBytes bytes are left: the encoded form (repro
// files) does not depend on which path a decision took.
void DecisionLog::push_back_slow(std::uint32_t fiber) {
  put_varint(pending_, fiber);
  ++count_;
  if (pending_.size() + kMaxVarintBytes > kBlockRawBytes) flush_block();
}

void DecisionLog::flush_block() {
  if (pending_.empty()) return;
  append_block(blocks_, std::string_view(pending_.data(), pending_.size()));
  pending_.clear();
}

std::string DecisionLog::encoded() const {
  std::string out = blocks_;
  if (!pending_.empty()) append_block(out, std::string_view(pending_.data(), pending_.size()));
  return out;
}

std::string_view DecisionLog::sealed_bytes() const {
  SEGSIM_ASSERT(sealed(), "sealed_bytes() of a sealed decision log");
  return blocks_;
}

std::vector<std::uint32_t> DecisionLog::to_vector() const {
  std::vector<std::uint32_t> out;
  out.reserve(count_);
  Reader reader(*this);
  for (std::uint32_t fiber = 0; reader.next(fiber);) out.push_back(fiber);
  return out;
}

DecisionLog DecisionLog::prefix(std::uint64_t count) const {
  DecisionLog out;
  Reader reader(*this);
  for (std::uint32_t fiber = 0; out.size() < count && reader.next(fiber);) out.push_back(fiber);
  return out;
}

bool DecisionLog::operator==(const DecisionLog& other) const {
  if (count_ != other.count_) return false;
  Reader mine(*this), theirs(other);
  for (std::uint32_t a = 0, b = 0; mine.next(a);) {
    if (!theirs.next(b) || a != b) return false;
  }
  return true;
}

bool DecisionLog::Reader::load_block() {
  if (block_offset_ < log_->blocks_.size()) {
    std::string why;
    SEGSIM_ASSERT(inflate_block(log_->blocks_, block_offset_, raw_, &why), "a checked decision block inflates");
  } else if (!in_pending_) {
    in_pending_ = true;
    raw_.assign(log_->pending_.begin(), log_->pending_.end());
  } else {
    return false;
  }
  position_ = 0;
  return true;
}

bool DecisionLog::Reader::next(std::uint32_t& fiber) {
  while (position_ >= raw_.size()) {
    if (!load_block()) return false;
  }
  std::uint64_t value = 0;
  SEGSIM_ASSERT(get_varint(raw_, position_, kMaxVarintBytes, value), "a checked decision decodes");
  fiber = static_cast<std::uint32_t>(value);
  return true;
}

}  // namespace segsim::sim
