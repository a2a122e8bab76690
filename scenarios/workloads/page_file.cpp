// page-file — the page-file stack end to end, from a per-seed swarm of
// operations: PageFileWriter builds a file (its refusals exercised too);
// MappedPageFile opens it with drawn options, and opens invalid variants —
// one per validation rule, truncated, padded, empty, missing — each of which
// must be refused with exactly its rule; pages are decoded (and corrupted
// copies must be refused by the codec's exact rule), loaded into leaf pages
// through the pool, verified and published; files are moved, refreshed after
// being touched, and closed twice.
#include <cerrno>
#include <cstring>
#include <optional>

#include <fmt/format.h>

#include "core/mapped_page_file.h"
#include "core/page_file_writer.h"
#include "core/page_records.h"
#include "scenarios/oracles/error_text.h"
#include "scenarios/workloads/page_work.h"
#include "scenarios/workloads/swarm.h"

namespace segsim::scenarios {

namespace {

constexpr const char* kPath = "/segsim/pages.db";
constexpr const char* kMissingPath = "/segsim/missing.db";
constexpr std::uint32_t kOpsPerSize = 40;

// What page `p` of the file holds: a deterministic function of the page, so
// every fiber knows the model without sharing it. Some pages are empty, some
// have DeweyIDs, some are filled to their last byte.
struct RecordModel {
  std::uint32_t slot;
  std::size_t bytes;
  std::uint8_t fill;
  std::optional<std::size_t> dewey_bytes;
};

std::vector<RecordModel> records_of(std::uint64_t page, std::uint32_t page_bytes) {
  std::vector<RecordModel> out;
  const auto count = static_cast<std::uint32_t>(page % 7);
  std::size_t used = kPageRecordsHeaderBytes + kPageRecordEntryBytes * count;
  for (std::uint32_t i = 0; i < count; ++i) {
    RecordModel r{(i * 5 + static_cast<std::uint32_t>(page)) % 61, i == 0 ? 0 : 20 + i * 100,
                  static_cast<std::uint8_t>(1 + (page * 7 + i * 13) % 250), std::nullopt};
    if (i % 2 == 1) r.dewey_bytes = 1 + i;
    used += r.bytes + r.dewey_bytes.value_or(0);
    out.push_back(r);
  }
  if (page % 5 == 4 && count > 0) out.back().bytes += page_bytes - used;  // exactly full
  return out;
}

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

class Client {
 public:
  Client(Stack& stack, std::uint32_t index, const OpMix& mix)
      : stack_(stack), mix_(mix), rng_(stack.simulation.stream(fmt::format("workload.page-file.{}", index))) {}
  void run();

 private:
  enum Op : std::size_t { kLoad, kOpenBad, kOpenMissing, kDecodeBad, kRefresh, kTouch, kMove, kReopen, kOpCount };
  void open_good();
  void load_page();
  void check_open_refused(const std::string& path, const char* detail);
  std::uint64_t touches() const { return stack_.counters["page-file.touches"]; }

  Stack& stack_;
  const OpMix& mix_;
  sim::Rng rng_;
  std::optional<MappedPageFile> file_;
  std::uint64_t touches_at_open_ = 0;
};

void Client::check_open_refused(const std::string& path, const char* detail) {
  auto opened = MappedPageFile::open(stack_.os, path);
  if (opened.ok()) stack_.oracles.fail("page-file", fmt::format("{} opened; the model says '{}'", path, detail));
  const Error& error = opened.error();
  check_error_text(stack_.oracles, error);
  if ((error.code == Errc::OsFailure || error.code == Errc::OutOfMemory) && stack_.faults_active) return;
  const bool missing = detail == nullptr;
  if (missing ? error.code != Errc::OsFailure : (error.code != Errc::InvalidPageFile || std::string(error.detail) != detail)) {
    stack_.oracles.fail("page-file", fmt::format("opening {} refused with '{}'; the model says '{}'", path,
                                                 error.describe(), missing ? "os failure (ENOENT)" : detail));
  }
}

void Client::open_good() {
  OpenOptions options;
  options.access = draw_one(rng_, {AccessHint::None, AccessHint::Sequential, AccessHint::WillNeed});
  options.populate_on_open = rng_.chance(0.3);
  auto opened = MappedPageFile::open(stack_.os, kPath, options);
  if (!opened.ok()) {
    // Only injected faults may stop a valid file from opening.
    if ((opened.error().code == Errc::OsFailure || opened.error().code == Errc::OutOfMemory) && stack_.faults_active) return;
    stack_.oracles.fail("page-file", "opening the valid page file: " + opened.error().describe());
  }
  file_.emplace(std::move(opened.value()));
  touches_at_open_ = touches();
  const std::uint64_t pages = stack_.counters["page-file.pages"];
  const auto page_bytes = static_cast<std::uint32_t>(stack_.counters["page-file.page_bytes"]);
  const std::uint64_t root = stack_.counters["page-file.root"];
  if (file_->page_count() != pages || file_->page_size() != page_bytes || file_->root_page_index() != root ||
      file_->root_offset() != (root + 1) * page_bytes || file_->file_bytes() != (pages + 1) * page_bytes ||
      file_->path() != kPath || file_->status_at_open().bytes != file_->file_bytes() || !file_->is_open() ||
      file_->root_page().data() != file_->page(root).data()) {
    stack_.oracles.fail("page-file", fmt::format("opened file reports {} pages of {} B, root {}; the writer made {} "
                                                 "of {} B, root {}",
                                                 file_->page_count(), file_->page_size(), file_->root_page_index(),
                                                 pages, page_bytes, root));
  }
  if (options.populate_on_open && file_->populated_os_pages() == 0) stack_.oracles.fail("page-file", "populate touched nothing");
  // A refused hint is counted with its errno; no hint, or no fault, refuses nothing.
  const bool hinted = options.access != AccessHint::None;
  if ((file_->advise_failures() == 0) != (file_->last_advise_errno() == 0) ||
      (file_->advise_failures() != 0 && (!hinted || !stack_.faults_active))) {
    stack_.oracles.fail("page-file", fmt::format("open with hint {} reports {} refused hints, last errno {}",
                                                 static_cast<int>(options.access), file_->advise_failures(),
                                                 file_->last_advise_errno()));
  }
}

void Client::load_page() {
  if (!file_) return;
  const std::uint64_t file_page = rng_.below(file_->page_count());
  auto records = decode_page_records(file_->page(file_page));
  if (!records.ok()) stack_.oracles.fail("content", "a valid page failed to decode: " + records.error().describe());
  const std::vector<RecordModel> model = records_of(file_page, file_->page_size());
  if (records->size() != model.size()) {
    stack_.oracles.fail("content", fmt::format("file page {} decodes to {} records; {} were written", file_page,
                                               records->size(), model.size()));
  }
  const std::uint64_t id = stack_.next_page_id++;
  auto borrowed = stack_.pool.borrow(id);
  if (!borrowed.ok()) {
    if (tolerated(stack_, borrowed.error())) return;
    stack_.oracles.fail("exception", "borrow: " + borrowed.error().describe());
  }
  LeafPage* page = borrowed.value();
  std::map<std::size_t, SlotShadow> slots;
  std::map<std::size_t, SlotShadow> dewey;
  for (std::size_t i = 0; i < model.size(); ++i) {
    const PageRecordView& record = records.value()[i];
    if (record.slot != model[i].slot || record.dewey_id.has_value() != model[i].dewey_bytes.has_value()) {
      stack_.oracles.fail("content", fmt::format("file page {} record {}: slot {} / DeweyID {}; the model says {} / {}",
                                                 file_page, i, record.slot, record.dewey_id.has_value(), model[i].slot,
                                                 model[i].dewey_bytes.has_value()));
    }
    stack_.oracles.check_content(id, record.slot, record.value, SlotShadow{model[i].bytes, model[i].fill}, nullptr);
    Status set = page->set_slot(record.slot, record.value);
    if (set.ok() && record.dewey_id) set = page->set_dewey_id(record.slot, *record.dewey_id);
    if (!set.ok()) {
      // The pool's pages hold 64 slots of at most 64 KiB: a refusal is allowed only as the model says.
      const Errc code = set.error().code;
      const bool allowed = tolerated(stack_, set.error()) || (code == Errc::SlotOutOfRange && record.slot >= page->slot_count()) ||
                           (code == Errc::ValueTooLarge && record.value.size() > 64 * 1024);
      if (!allowed) stack_.oracles.fail("page-write", "loading a record: " + set.error().describe());
      continue;
    }
    slots[record.slot] = SlotShadow{model[i].bytes, model[i].fill};
    if (record.dewey_id) dewey[record.slot] = SlotShadow{*model[i].dewey_bytes, static_cast<std::uint8_t>(model[i].fill ^ 0xff)};
  }
  stack_.shadow[id] = std::move(slots);
  stack_.dewey_shadow[id] = std::move(dewey);
  verify_page(stack_, id, *page);
  publish(stack_, id, page);
  read_published(stack_, rng_, 1, 1);
}

void Client::run() {
  open_good();
  for (std::uint32_t n = 0; n < kOpsPerSize * stack_.size; ++n) {
    switch (static_cast<Op>(mix_.pick(rng_))) {
      case kLoad: load_page(); break;
      case kOpenBad: {
        const auto count = stack_.counters["page-file.bad"];
        const std::uint64_t i = rng_.below(count);
        check_open_refused(fmt::format("/segsim/bad-{}.db", i), stack_.page_file_rules.at(i).c_str());
        break;
      }
      case kOpenMissing: check_open_refused(kMissingPath, nullptr); break;
      case kDecodeBad:
        if (file_) {
          const std::uint64_t p = rng_.below(file_->page_count());
          if (records_of(p, file_->page_size()).empty()) break;  // the corruptions need a first record
          for (const auto& [bytes, rule] : bad_record_pages(file_->page(p))) {
            auto decoded = decode_page_records(bytes);
            if (decoded.ok() || std::string(decoded.error().detail) != rule) {
              stack_.oracles.fail("page-records", fmt::format("a corrupted page decoded as '{}'; the rule is '{}'",
                                                              decoded.ok() ? "valid" : decoded.error().detail, rule));
            }
          }
        }
        break;
      case kRefresh:
        if (file_) {
          auto changed = file_->refresh();
          if (!changed.ok()) {
            if (!stack_.faults_active) stack_.oracles.fail("page-file", "refresh: " + changed.error().describe());
          } else if (changed.value() != (touches() != touches_at_open_)) {
            stack_.oracles.fail("page-file", fmt::format("refresh says changed={}; the file was touched {} times since "
                                                         "open",
                                                         changed.value(), touches() - touches_at_open_));
          }
        }
        break;
      case kTouch: {  // the same bytes with a new mtime: open mappings keep what they mapped
        auto bytes = stack_.sim_os.map_file(kPath);
        if (!bytes.ok()) break;
        std::vector<std::byte> copy(bytes->data, bytes->data + bytes->bytes);
        if (!stack_.sim_os.unmap(const_cast<std::byte*>(bytes->data), bytes->bytes).ok()) stack_.oracles.fail("exception", "unmap");
        stack_.sim_os.add_file(kPath, std::move(copy), static_cast<std::int64_t>(++stack_.counters["page-file.touches"]) + 1);
        break;
      }
      case kMove:
        if (file_) {
          MappedPageFile moved(std::move(*file_));
          if (file_->is_open() || !moved.is_open()) stack_.oracles.fail("page-file", "a moved-from file is still open");
          *file_ = std::move(moved);
        }
        break;
      case kReopen:
        if (file_) {
          const std::uint64_t unmap_failures = MappedPageFile::unmap_failures();
          const Status closed = file_->close();
          if (!closed.ok() && !stack_.faults_active) stack_.oracles.fail("page-file", "close: " + closed.error().describe());
          // Process-wide: other fibers' closes may add to it, never take away.
          if (MappedPageFile::unmap_failures() < unmap_failures + (closed ? 0 : 1)) {
            stack_.oracles.fail("page-file", fmt::format("close {}; unmap_failures() went from {} to {}",
                                                         closed ? "succeeded" : "failed", unmap_failures,
                                                         MappedPageFile::unmap_failures()));
          }
          if (file_->is_open() || !file_->close().ok()) stack_.oracles.fail("page-file", "a second close did not succeed");
          file_.reset();
        }
        open_good();
        break;
      case kOpCount: break;
    }
    stack_.oracles.check_cheap();
  }
  if (file_ && !file_->close().ok() && !stack_.faults_active) stack_.oracles.fail("exception", "closing the page file failed");
}

// The record encoder's refusals, each with its code.
void check_encoder_refusals(Stack& stack) {
  const std::vector<std::byte> value(64, std::byte{1});
  auto expect = [&](Result<std::vector<std::byte>> encoded, Errc code, const char* what) {
    if (encoded.ok() || encoded.error().code != code) {
      stack.oracles.fail("page-records", fmt::format("encoding {}: {}; the model says '{}'", what,
                                                     encoded.ok() ? "accepted" : encoded.error().describe(),
                                                     errc_name(code)));
    }
  };
  const PageRecordView one{0, value, std::nullopt};
  expect(encode_page_records(std::span(&one, 1), kPageRecordsHeaderBytes - 1), Errc::InvalidSize, "into a 7-byte page");
  expect(encode_page_records(std::span(&one, 1), kMaxPageRecordsPageBytes + 1), Errc::InvalidSize, "into a page over 1 MiB");
  std::vector<PageRecordView> many;
  for (std::uint32_t slot = 0; slot < 200; ++slot) many.push_back(PageRecordView{slot, {}, std::nullopt});
  expect(encode_page_records(many, 4096), Errc::InvalidSize, "more records than the table holds");
  const std::vector<std::byte> big(4096, std::byte{2});
  const PageRecordView too_big{0, big, std::nullopt};
  expect(encode_page_records(std::span(&too_big, 1), 4096), Errc::InvalidSize, "a value longer than the page");
  const PageRecordView twice[] = {{3, value, std::nullopt}, {3, value, std::nullopt}};
  expect(encode_page_records(twice, 4096), Errc::InvalidPageFile, "two records of one slot");
  // Exactly full: header, one entry and a value up to the last byte.
  const std::vector<std::byte> exact(4096 - kPageRecordsHeaderBytes - kPageRecordEntryBytes, std::byte{3});
  const PageRecordView full{0, exact, std::nullopt};
  auto encoded = encode_page_records(std::span(&full, 1), 4096);
  if (!encoded.ok() || encoded->size() != 4096) stack.oracles.fail("page-records", "an exactly full page was refused");
}

// write(2) outside the Os seam: only its refusals run under the simulator
// (no page yet; a path under a regular file, which no file system accepts),
// so no sweep touches the real file system.
void check_writer_write_refusals(Stack& stack, const PageFileWriter& writer) {
  const Status empty = PageFileWriter{}.write("/dev/null/segsim-empty.db");
  if (empty || empty.error().code != Errc::InvalidConfig) {
    stack.oracles.fail("page-file-writer", "writing a file without pages was not refused as an invalid config");
  }
  check_error_text(stack.oracles, empty.error());
  const Status unwritable = writer.write("/dev/null/segsim-pages.db");
  if (unwritable || unwritable.error().code != Errc::OsFailure || unwritable.error().os_errno != ENOTDIR) {
    stack.oracles.fail("page-file-writer", "writing under /dev/null was not refused with ENOTDIR");
  }
  check_error_text(stack.oracles, unwritable.error());
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
  check_writer_write_refusals(stack, writer);
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

}  // namespace

ScenarioDef page_file_scenario() {
  ScenarioDef def;
  def.info = {"page-file",
              "a page file written, opened (valid, invalid per rule, truncated, missing), decoded (and corrupted "
              "pages refused), moved, refreshed, closed, its pages loaded into leaf pages through the pool",
              3, 1};
  def.configure = [](SegmentAllocatorConfig&, PageCacheConfig& cache, std::uint32_t, std::uint32_t) {
    cache.max_entries = 4;
  };
  def.prepare = [](Stack& stack) { build_files(stack); };
  def.client = [](Stack& stack, std::uint32_t index) {
    sim::Rng mix_rng(sim::derive_seed(stack.seed, "workload.page-file.mix"));
    OpMix mix(mix_rng, 8, {0});
    Client client(stack, index, mix);
    client.run();
  };
  return def;
}

}  // namespace segsim::scenarios
