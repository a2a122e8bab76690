#include "core/page_records.h"
#include "core/little_endian.h"
#include "core/probe.h"

#include <algorithm>
#include <cstring>

namespace segsim {

namespace {

constexpr std::uint32_t kFlagHasDewey = 1;

// Sorting a copy keeps the check O(n log n) with no hashing (determinism rule:
// nothing here may depend on unordered iteration).
bool has_duplicate_slot(std::vector<std::uint32_t> slots) {
  std::sort(slots.begin(), slots.end());
  return std::adjacent_find(slots.begin(), slots.end()) != slots.end();
}

// [offset, offset + bytes) inside [begin, end), computed in 64 bits so that
// u32 fields near their maximum cannot wrap.
bool inside(std::uint64_t offset, std::uint64_t bytes, std::uint64_t begin, std::uint64_t end) {
  return offset >= begin && offset <= end && bytes <= end - offset;
}

}  // namespace

Result<std::vector<std::byte>> encode_page_records(std::span<const PageRecordView> records,
                                                   std::size_t page_bytes) {
  if (page_bytes < kPageRecordsHeaderBytes || page_bytes > kMaxPageRecordsPageBytes) {
    SEGSIM_PROBE("records.encode.bad_page_bytes");
    return make_error(Errc::InvalidSize, "page_bytes outside 8 B..1 MiB");
  }
  // The table alone must fit before anything is summed: a huge record count
  // is refused without computing with it.
  if (records.size() > (page_bytes - kPageRecordsHeaderBytes) / kPageRecordEntryBytes) {
    SEGSIM_PROBE("records.encode.table_too_big");
    return make_error(Errc::InvalidSize, "record table does not fit the page");
  }
  const std::uint64_t table_end = kPageRecordsHeaderBytes + kPageRecordEntryBytes * records.size();
  std::uint64_t payload = 0;
  std::vector<std::uint32_t> slots;
  slots.reserve(records.size());
  for (const PageRecordView& r : records) {
    payload += r.value.size();
    if (r.dewey_id.has_value()) payload += r.dewey_id->size();
    // Checked per record: the running sum stays below 2 MiB + one span size.
    if (payload > page_bytes - table_end) {
      SEGSIM_PROBE("records.encode.payload_too_big");
      return make_error(Errc::InvalidSize, "records do not fit the page");
    }
    slots.push_back(r.slot);
  }
  if (has_duplicate_slot(std::move(slots))) {
    SEGSIM_PROBE("records.encode.duplicate_slot");
    return invalid_page_file("duplicate slot");
  }

  std::vector<std::byte> out(table_end + payload);
  little_endian::store32(out, 0, static_cast<std::uint32_t>(records.size()));
  little_endian::store32(out, 4, static_cast<std::uint32_t>(payload));
  std::uint64_t cursor = table_end;
  auto put = [&](std::span<const std::byte> bytes) {
    SEGSIM_ASSERT(cursor + bytes.size() <= out.size(), "payload sized before copying");
    const auto offset = static_cast<std::uint32_t>(cursor);
    if (!bytes.empty()) std::memcpy(out.data() + cursor, bytes.data(), bytes.size());
    cursor += bytes.size();
    return offset;
  };
  for (std::size_t i = 0; i < records.size(); ++i) {
    const PageRecordView& r = records[i];
    SEGSIM_ASSERT(kPageRecordsHeaderBytes + (i + 1) * kPageRecordEntryBytes <= table_end, "a record entry past the table");
    const std::span<std::byte> entry =
        std::span(out).subspan(kPageRecordsHeaderBytes + i * kPageRecordEntryBytes, kPageRecordEntryBytes);
    little_endian::store32(entry, 0, r.slot);
    little_endian::store32(entry, 4, r.dewey_id.has_value() ? kFlagHasDewey : 0);
    little_endian::store32(entry, 8, put(r.value));
    little_endian::store32(entry, 12, static_cast<std::uint32_t>(r.value.size()));
    if (r.dewey_id.has_value()) {
      little_endian::store32(entry, 16, put(*r.dewey_id));
      little_endian::store32(entry, 20, static_cast<std::uint32_t>(r.dewey_id->size()));
    }
  }
  SEGSIM_ASSERT(cursor == out.size(), "every payload byte written once");
  return out;
}

Result<std::vector<PageRecordView>> decode_page_records(std::span<const std::byte> page) {
  if (page.size() < kPageRecordsHeaderBytes) {
    SEGSIM_PROBE("records.decode.short");
    return invalid_page_file("page shorter than the record header");
  }
  const std::uint64_t page_bytes = page.size();
  const std::uint64_t count = little_endian::load32(page, 0);
  const std::uint64_t payload_bytes = little_endian::load32(page, 4);
  const std::uint64_t table_end = kPageRecordsHeaderBytes + kPageRecordEntryBytes * count;  // < 2^37
  if (table_end > page_bytes) {
    SEGSIM_PROBE("records.decode.table_past_end");
    return invalid_page_file("record table past the page end");
  }
  if (payload_bytes > page_bytes - table_end) {
    SEGSIM_PROBE("records.decode.payload_past_end");
    return invalid_page_file("record payload past the page end");
  }
  const std::uint64_t payload_end = table_end + payload_bytes;

  std::vector<PageRecordView> views;
  views.reserve(count);  // bounded: count <= page size / 24
  std::vector<std::uint32_t> slots;
  slots.reserve(count);
  for (std::uint64_t i = 0; i < count; ++i) {
    SEGSIM_ASSERT(kPageRecordsHeaderBytes + (i + 1) * kPageRecordEntryBytes <= table_end && table_end <= page_bytes,
                  "a record entry read past the table or the page");
    const std::span<const std::byte> entry =
        page.subspan(kPageRecordsHeaderBytes + i * kPageRecordEntryBytes, kPageRecordEntryBytes);
    const std::uint32_t flags = little_endian::load32(entry, 4);
    const std::uint64_t value_offset = little_endian::load32(entry, 8);
    const std::uint64_t value_bytes = little_endian::load32(entry, 12);
    const std::uint64_t dewey_offset = little_endian::load32(entry, 16);
    const std::uint64_t dewey_bytes = little_endian::load32(entry, 20);
    if ((flags & ~kFlagHasDewey) != 0) {
      SEGSIM_PROBE("records.decode.flags");
      return invalid_page_file("unknown record flags");
    }
    if (!inside(value_offset, value_bytes, table_end, payload_end)) {
      SEGSIM_PROBE("records.decode.value_outside");
      return invalid_page_file("record value outside the payload");
    }
    PageRecordView view;
    view.slot = little_endian::load32(entry, 0);
    SEGSIM_ASSERT(value_offset + value_bytes <= payload_end && payload_end <= page_bytes,
                  "a record value read past the payload (an outside value accepted)");
    view.value = page.subspan(value_offset, value_bytes);
    if ((flags & kFlagHasDewey) != 0) {
      if (!inside(dewey_offset, dewey_bytes, table_end, payload_end)) {
        SEGSIM_PROBE("records.decode.dewey_outside");
        return invalid_page_file("record DeweyID outside the payload");
      }
      SEGSIM_PROBE("records.decode.with_dewey");
      SEGSIM_ASSERT(dewey_offset + dewey_bytes <= payload_end, "a DeweyID read past the payload (an outside one accepted)");
      view.dewey_id = page.subspan(dewey_offset, dewey_bytes);
    } else if (dewey_offset != 0 || dewey_bytes != 0) {
      SEGSIM_PROBE("records.decode.dewey_fields_without_flag");
      return invalid_page_file("DeweyID fields set on a record without one");
    }
    slots.push_back(view.slot);
    views.push_back(view);
  }
  if (has_duplicate_slot(std::move(slots))) {
    SEGSIM_PROBE("records.decode.duplicate_slot");
    return invalid_page_file("duplicate slot");
  }
  SEGSIM_ASSERT(views.size() == count, "one view per table entry");
  return views;
}

}  // namespace segsim
