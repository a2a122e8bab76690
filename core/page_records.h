// The record codec for one page of a page file: what a page holds so that it
// can later be loaded into a LeafPage (slot → value, optional DeweyID).
//
// Page layout (every integer little-endian u32; offsets from the page start):
//
//   0                  record_count
//   4                  payload_bytes
//   8                  record_count entries of 24 bytes each:
//                        slot, flags (bit 0: has a DeweyID; other bits 0),
//                        value_offset, value_bytes, dewey_offset, dewey_bytes
//   table_end          payload: values and DeweyIDs, payload_bytes long,
//                      table_end = 8 + 24 * record_count
//   table_end + payload_bytes .. page end: zero padding (not read)
//
// Every value and DeweyID lies inside the payload; a record without a DeweyID
// has dewey_offset = dewey_bytes = 0; slots are unique (any order). An
// all-zero page is a valid page with no records, so zero-padded pages of a
// page file decode as empty.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "core/result.h"

namespace segsim {

inline constexpr std::size_t kPageRecordsHeaderBytes = 8;
inline constexpr std::size_t kPageRecordEntryBytes = 24;
// Encoding refuses pages larger than a page file's largest page.
inline constexpr std::size_t kMaxPageRecordsPageBytes = 1024 * 1024;

// One record; the spans point into the caller's buffers (encode) or into the
// page (decode), so a view lives no longer than what it points into.
struct PageRecordView {
  std::uint32_t slot = 0;
  std::span<const std::byte> value;
  std::optional<std::span<const std::byte>> dewey_id;
};

// The encoded page, trimmed after its payload (the writer zero-pads it to
// the page size). Errors: Errc::InvalidSize when page_bytes is below the
// header or above 1 MiB, or the records do not fit in page_bytes;
// Errc::InvalidPageFile "duplicate slot" when two records share a slot.
Result<std::vector<std::byte>> encode_page_records(std::span<const PageRecordView> records,
                                                   std::size_t page_bytes);

// Views into `page`, in table order. Every count, offset and length is
// checked against the page bounds before it is used; any violation (and a
// duplicate slot) is Errc::InvalidPageFile with a detail naming the rule.
Result<std::vector<PageRecordView>> decode_page_records(std::span<const std::byte> page);

}  // namespace segsim
