// page_file_model.h: the valid file, its invalid variants, and the refusals
// of the writer and the record encoder met on the way.
#include "scenarios/workloads/page_file_model.h"

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>

#include <fmt/format.h>

#include "core/mapped_page_file.h"
#include "core/page_file_writer.h"
#include "core/page_records.h"
#include "scenarios/oracles/error_text.h"
#include "scenarios/workloads/page_file_write.h"
#include "scenarios/workloads/swarm.h"

namespace segsim::scenarios::page_file {

std::vector<RecordModel> records_of(std::uint64_t page, std::uint32_t page_bytes) {
  std::vector<RecordModel> out;
  const auto count = static_cast<std::uint32_t>(page % 7);
  std::size_t used = kPageRecordsHeaderBytes + kPageRecordEntryBytes * count;
  for (std::uint32_t i = 0; i < count; ++i) {
    // Slots below 61, but the third record's near the top of the u32 range:
    // every byte of a stored slot counts (a page refuses it when loading it).
    const std::uint32_t slot = i == 2 ? UINT32_MAX - static_cast<std::uint32_t>(page % 61)
                                      : (i * 5 + static_cast<std::uint32_t>(page)) % 61;
    RecordModel r{slot, i == 0 ? 0 : 20 + i * 100, static_cast<std::uint8_t>(1 + (page * 7 + i * 13) % 250),
                  std::nullopt};
    if (i % 2 == 1) r.dewey_bytes = 1 + i;
    used += r.bytes + r.dewey_bytes.value_or(0);
    out.push_back(r);
  }
  if (page % 5 == 4 && count > 0) out.back().bytes += page_bytes - used;  // exactly full
  return out;
}

namespace {

std::vector<std::byte> encode_page(std::uint64_t page, std::uint32_t page_bytes) {
  const std::vector<RecordModel> model = records_of(page, page_bytes);
  std::vector<std::vector<std::byte>> store;
  store.reserve(2 * model.size());  // no reallocation: views point into it
  std::vector<PageRecordView> views;
  for (const RecordModel& r : model) {
    store.emplace_back(r.bytes, std::byte{r.fill});
    PageRecordView view{r.slot, store.back(), std::nullopt};
    if (r.dewey_bytes) {
      store.emplace_back(*r.dewey_bytes, std::byte{static_cast<std::uint8_t>(r.fill ^ 0xff)});
      view.dewey_id = store.back();
    }
    views.push_back(view);
  }
  auto encoded = encode_page_records(views, page_bytes);
  SEGSIM_ASSERT(encoded.ok(), "the model's pages fit");
  return encoded.value();
}

// One variant of `good` per validation rule (mapped_page_file.h), with the
// rule MappedPageFile::open must name.
std::vector<std::pair<std::string, std::vector<std::byte>>> bad_variants(const std::vector<std::byte>& good,
                                                                      std::uint32_t page_bytes, std::uint64_t pages,
                                                                      std::uint64_t root_index) {
  std::vector<std::pair<std::string, std::vector<std::byte>>> out;
  auto with_header = [&](PageFileHeader header) {
    std::vector<std::byte> file = good;
    const auto bytes = encode_page_file_header(header);
    std::memcpy(file.data(), bytes.data(), bytes.size());
    return file;
  };
  PageFileHeader valid{kPageFileVersion, page_bytes, pages, (root_index + 1) * page_bytes, 0};
  auto add = [&](const char* name, const char* detail, std::vector<std::byte> file) {
    (void)name;  // names the variant where it is made
    out.push_back({detail, std::move(file)});
  };
  add("empty", "file shorter than the 64-byte header", {});
  add("short", "file shorter than the 64-byte header", std::vector<std::byte>(good.begin(), good.begin() + 63));
  std::vector<std::byte> magic = good;
  magic[0] ^= std::byte{0x20};
  add("magic", "bad magic", magic);
  PageFileHeader version = valid;
  version.format_version = 2;
  add("version", "unsupported format_version", with_header(version));
  PageFileHeader odd_size = valid;
  odd_size.page_size = page_bytes + 1;
  add("page-size", "page_size not a power of two in 4 KiB..1 MiB", with_header(odd_size));
  PageFileHeader reserved = valid;
  reserved.reserved = 1;
  add("reserved", "reserved field not zero", with_header(reserved));
  std::vector<std::byte> padding = good;
  padding[kPageFileHeaderBytes - 1] = std::byte{1};
  add("padding", "header bytes 48..63 not zero", padding);
  std::vector<std::byte> checksum = good;
  checksum[16] ^= std::byte{1};  // page_count, checksum left as it was
  add("checksum", "header checksum mismatch", checksum);
  PageFileHeader no_pages = valid;
  no_pages.page_count = 0;
  add("no-pages", "page_count is zero (no root page)", with_header(no_pages));
  add("truncated", "file length does not match page_count x page_size",
      std::vector<std::byte>(good.begin(), good.end() - page_bytes));
  std::vector<std::byte> padded = good;
  padded.push_back(std::byte{0});
  add("padded", "file length does not match page_count x page_size", padded);
  PageFileHeader root_range = valid;
  root_range.root_offset = (pages + 1) * page_bytes;
  add("root-range", "root offset out of range", with_header(root_range));
  PageFileHeader root_align = valid;
  root_align.root_offset = page_bytes + 8;
  add("root-align", "root offset not page aligned", with_header(root_align));
  return out;
}

// The record encoder's refusals, each with its code and the text of the rule
// that refused (a later rule refusing instead hides a wrong earlier one).
void check_encoder_refusals(Stack& stack) {
  const std::vector<std::byte> value(64, std::byte{1});
  auto expect = [&](Result<std::vector<std::byte>> encoded, Errc code, std::string_view rule, const char* what) {
    if (encoded.ok() || encoded.error().code != code || encoded.error().detail != rule) {
      stack.oracles.fail("page-records", fmt::format("encoding {}: {}; the model says '{}: {}'", what,
                                                     outcome_text(encoded, "accepted"), errc_name(code), rule));
    }
  };
  constexpr std::string_view kBadPageBytes = "page_bytes outside 8 B..1 MiB";
  constexpr std::string_view kTableTooBig = "record table does not fit the page";
  constexpr std::string_view kPayloadTooBig = "records do not fit the page";
  const PageRecordView one{0, value, std::nullopt};
  expect(encode_page_records(std::span(&one, 1), kPageRecordsHeaderBytes - 1), Errc::InvalidSize, kBadPageBytes,
         "into a 7-byte page");
  expect(encode_page_records(std::span(&one, 1), kMaxPageRecordsPageBytes + 1), Errc::InvalidSize, kBadPageBytes,
         "into a page over 1 MiB");
  // The table's bound: as many empty records as entries fit, then one more.
  constexpr std::size_t kPage = 4096;
  const std::size_t table_fits = (kPage - kPageRecordsHeaderBytes) / kPageRecordEntryBytes;
  std::vector<PageRecordView> many;
  for (std::uint32_t slot = 0; slot < table_fits; ++slot) many.push_back(PageRecordView{slot, {}, std::nullopt});
  auto table_full = encode_page_records(many, kPage);
  if (!table_full.ok() || table_full->size() != kPageRecordsHeaderBytes + table_fits * kPageRecordEntryBytes) {
    stack.oracles.fail("page-records", fmt::format("encoding {} empty records, as many as the table of a {}-byte page "
                                                   "holds: {}",
                                                   table_fits, kPage, outcome_text(table_full, "a wrong size")));
  }
  many.push_back(PageRecordView{static_cast<std::uint32_t>(table_fits), {}, std::nullopt});
  expect(encode_page_records(many, kPage), Errc::InvalidSize, kTableTooBig, "one record more than the table holds");
  const std::vector<std::byte> big(kPage, std::byte{2});
  const PageRecordView too_big{0, big, std::nullopt};
  expect(encode_page_records(std::span(&too_big, 1), kPage), Errc::InvalidSize, kPayloadTooBig,
         "a value longer than the page");
  const PageRecordView twice[] = {{3, value, std::nullopt}, {3, value, std::nullopt}};
  expect(encode_page_records(twice, kPage), Errc::InvalidPageFile, "duplicate slot", "two records of one slot");
  // Exactly full: header, one entry and a value up to the last byte; a byte
  // more is refused.
  std::vector<std::byte> exact(kPage - kPageRecordsHeaderBytes - kPageRecordEntryBytes, std::byte{3});
  const PageRecordView full{0, exact, std::nullopt};
  auto encoded = encode_page_records(std::span(&full, 1), kPage);
  if (!encoded.ok() || encoded->size() != kPage) stack.oracles.fail("page-records", "an exactly full page was refused");
  exact.push_back(std::byte{3});
  const PageRecordView over{0, exact, std::nullopt};
  expect(encode_page_records(std::span(&over, 1), kPage), Errc::InvalidSize, kPayloadTooBig,
         "a value one byte longer than a full page holds");
  // The page-size bounds are sizes a page may have: a page of exactly the
  // header holds no record (and decodes as empty), the largest page one.
  auto header_only = encode_page_records({}, kPageRecordsHeaderBytes);
  if (!header_only.ok() || header_only->size() != kPageRecordsHeaderBytes ||
      !decode_page_records(*header_only).ok() || !decode_page_records(*header_only)->empty()) {
    stack.oracles.fail("page-records", fmt::format("a page of exactly the {}-byte header: {}", kPageRecordsHeaderBytes,
                                                   outcome_text(header_only, "does not decode as empty")));
  }
  auto largest = encode_page_records(std::span(&one, 1), kMaxPageRecordsPageBytes);
  if (!largest.ok()) stack.oracles.fail("page-records", "a record in the largest page: " + largest.error().describe());
}

}  // namespace

// Corrupted copies of a records page, each with the rule decode must name.
std::vector<std::pair<std::vector<std::byte>, const char*>> bad_record_pages(std::span<const std::byte> page) {
  auto put32 = [](std::vector<std::byte>& p, std::size_t at, std::uint32_t v) {
    for (int i = 0; i < 4; ++i) p[at + i] = static_cast<std::byte>(v >> (8 * i));
  };
  const std::vector<std::byte> base(page.begin(), page.end());
  std::vector<std::pair<std::vector<std::byte>, const char*>> out;
  out.push_back({std::vector<std::byte>(base.begin(), base.begin() + 7), "page shorter than the record header"});
  auto variant = [&](std::size_t at, std::uint32_t v, const char* rule) {
    std::vector<std::byte> p = base;
    put32(p, at, v);
    out.push_back({std::move(p), rule});
  };
  variant(0, 0x7fffffff, "record table past the page end");
  variant(4, 0x7fffffff, "record payload past the page end");
  variant(8 + 4, 4, "unknown record flags");
  variant(8 + 8, 0x7ffffff0, "record value outside the payload");
  variant(8 + 16, 1, "DeweyID fields set on a record without one");
  auto get32 = [&](std::size_t at) {
    std::uint32_t v = 0;
    for (int i = 3; i >= 0; --i) v = (v << 8) | std::to_integer<std::uint32_t>(base[at + i]);
    return v;
  };
  {  // the table, then the payload, ending one byte (one entry) past the page: each bound at its edge
    const std::uint64_t page_bytes = base.size();
    const auto entries_past_page = static_cast<std::uint32_t>((page_bytes - 8) / kPageRecordEntryBytes + 1);
    variant(0, entries_past_page, "record table past the page end");
    const std::uint64_t table_end = 8 + std::uint64_t{kPageRecordEntryBytes} * get32(0);
    if (table_end <= page_bytes) {
      variant(4, static_cast<std::uint32_t>(page_bytes - table_end + 1), "record payload past the page end");
    }
  }
  if (base.size() >= 8 + kPageRecordEntryBytes && get32(0) >= 1) {  // the first value a byte past the payload
    const std::uint64_t payload_end = 8 + std::uint64_t{kPageRecordEntryBytes} * get32(0) + get32(4);
    const std::uint64_t value_offset = get32(8 + 8);
    if (value_offset <= payload_end) {
      variant(8 + 12, static_cast<std::uint32_t>(payload_end - value_offset + 1), "record value outside the payload");
    }
  }
  {  // the first record claims a DeweyID far outside the payload
    std::vector<std::byte> p = base;
    put32(p, 8 + 4, 1);
    put32(p, 8 + 16, 0x7ffffff0);
    put32(p, 8 + 20, 4);
    out.push_back({std::move(p), "record DeweyID outside the payload"});
  }
  if (base.size() >= 8 + 2 * kPageRecordEntryBytes && (std::to_integer<std::uint32_t>(base[0]) >= 2)) {
    std::vector<std::byte> p = base;  // the second record takes the first one's slot
    std::memcpy(p.data() + 8 + kPageRecordEntryBytes, p.data() + 8, 4);
    out.push_back({std::move(p), "duplicate slot"});
  }
  return out;
}

// The writer's refusals, each with its code; then the file itself.
void build_files(Stack& stack) {
  sim::Rng rng(sim::derive_seed(stack.seed, "workload.page-file.files"));
  auto refused = [&](bool ok, const char* what) {
    if (ok) stack.oracles.fail("page-file-writer", fmt::format("{} was accepted", what));
  };
  PageFileWriter writer;
  const std::uint32_t page_bytes = draw_one<std::uint32_t>(rng, {4096, 8192, 65536});
  refused(writer.set_page_size(draw_one<std::uint32_t>(rng, {0, 4095, 3 * 4096, 2 << 20})).ok(), "a bad page size");
  if (!writer.set_page_size(page_bytes).ok()) stack.oracles.fail("page-file-writer", "a valid page size refused");
  // The documented bounds (4 KiB..1 MiB) themselves accepted, the powers of two just past them refused.
  for (const std::uint32_t edge : {kMinPageFileBytesPerPage, kMaxPageFileBytesPerPage}) {
    if (!PageFileWriter().set_page_size(edge).ok()) {
      stack.oracles.fail("page-file-writer", fmt::format("the documented page size bound {} B refused", edge));
    }
  }
  refused(PageFileWriter().set_page_size(kMinPageFileBytesPerPage / 2).ok(), "a page size half the least");
  refused(PageFileWriter().set_page_size(kMaxPageFileBytesPerPage * 2).ok(), "a page size twice the largest");
  refused(writer.set_root_page(0).ok(), "a root page before any page");
  const std::uint64_t pages = 1 + rng.below(16 * stack.size);
  for (std::uint64_t p = 0; p < pages; ++p) {
    auto added = writer.add_page(encode_page(p, page_bytes));
    if (!added.ok() || added.value() != p) stack.oracles.fail("page-file-writer", "add_page of a page that fits refused");
  }
  refused(writer.add_page(std::vector<std::byte>(page_bytes + 1)).ok(), "a page longer than page_size");
  refused(writer.set_page_size(page_bytes).ok(), "a page size after the first page");
  refused(writer.set_root_page(pages).ok(), "a root page past the last page");
  PageFileWriter small(3 * std::uint64_t{page_bytes});
  const bool two_fit = small.set_page_size(page_bytes).ok() && small.add_page({}).ok() && small.add_page({}).ok();
  refused(!two_fit || small.add_page({}).ok(), "a page past the writer's size limit (or one within it refused)");
  check_encoder_refusals(stack);
  const std::uint64_t root = rng.below(pages);
  if (!writer.set_root_page(root).ok()) stack.oracles.fail("page-file-writer", "a valid root refused");
  if (writer.page_size() != page_bytes || writer.page_count() != pages) {
    stack.oracles.fail("page-file-writer", fmt::format("the writer reports {} pages of {} B; {} of {} B were added",
                                                       writer.page_count(), writer.page_size(), pages, page_bytes));
  }
  check_writer_writes(stack, writer, rng);
  std::vector<std::byte> good = writer.to_bytes();
  stack.counters["page-file.pages"] = pages;
  stack.counters["page-file.page_bytes"] = page_bytes;
  stack.counters["page-file.root"] = root;
  auto variants = bad_variants(good, page_bytes, pages, root);
  for (std::size_t i = 0; i < variants.size(); ++i) {
    stack.sim_os.add_file(fmt::format("/segsim/bad-{}.db", i), std::move(variants[i].second), 1);
    stack.page_file_rules.push_back(variants[i].first);
  }
  stack.counters["page-file.bad"] = variants.size();
  stack.sim_os.add_file(kPath, std::move(good), 1);
}

}  // namespace segsim::scenarios::page_file
