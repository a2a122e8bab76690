// page-file — pages loaded from a MappedPageFile (an in-memory SimOs file)
// into leaf pages through the pool, verified against the records written,
// and published in the cache.
#include <fmt/format.h>

#include "core/mapped_page_file.h"
#include "core/page_file_writer.h"
#include "core/page_records.h"
#include "scenarios/workloads/page_work.h"

namespace segsim::scenarios {

namespace {

constexpr const char* kPath = "/segsim/pages.db";
constexpr std::uint32_t kFilePageBytes = 4096;

std::uint8_t record_fill(std::uint64_t page, std::uint32_t slot) {
  return static_cast<std::uint8_t>(1 + (page * 7 + slot * 13) % 250);
}

}  // namespace

ScenarioDef page_file_scenario() {
  ScenarioDef def;
  def.info = {"page-file", "pages of a mapped page file loaded into leaf pages through the pool", 3, 1};
  def.configure = [](SegmentAllocatorConfig&, PageCacheConfig& cache, std::uint32_t, std::uint32_t) {
    cache.max_entries = 4;
  };
  def.prepare = [](Stack& stack) {
    PageFileWriter writer;
    if (!writer.set_page_size(kFilePageBytes).ok()) stack.oracles.fail("exception", "page size refused");
    const std::uint64_t pages = 16 * stack.size;
    for (std::uint64_t p = 0; p < pages; ++p) {
      std::vector<std::vector<std::byte>> values;
      std::vector<PageRecordView> records;
      for (std::uint32_t slot = 0; slot < 1 + p % 6; ++slot) {
        values.emplace_back(20 + slot * 100, std::byte{record_fill(p, slot)});
      }
      for (std::uint32_t slot = 0; slot < values.size(); ++slot) {
        records.push_back(PageRecordView{slot, values[slot], std::nullopt});
      }
      auto encoded = encode_page_records(records, kFilePageBytes);
      if (!encoded.ok() || !writer.add_page(encoded.value()).ok()) {
        stack.oracles.fail("exception", "building the page file failed");
      }
    }
    stack.sim_os.add_file(kPath, writer.to_bytes(), 1);
  };
  def.client = [](Stack& stack, std::uint32_t index) {
    sim::Rng rng = stack.simulation.stream(fmt::format("workload.page-file.{}", index));
    auto file = MappedPageFile::open(stack.os, kPath);
    if (!file.ok()) {
      // Only injected faults may stop a valid file from opening.
      if ((file.error().code == Errc::OsFailure || file.error().code == Errc::OutOfMemory) && stack.faults_active) return;
      stack.oracles.fail("exception", "opening the page file: " + file.error().describe());
    }
    for (std::uint32_t n = 0; n < 20 * stack.size; ++n) {
      const std::uint64_t file_page = rng.below(file->page_count());
      auto records = decode_page_records(file->page(file_page));
      if (!records.ok()) stack.oracles.fail("content", "a valid page file page failed to decode: " + records.error().describe());
      const std::uint64_t id = stack.next_page_id++;
      auto borrowed = stack.pool.borrow(id);
      if (!borrowed.ok()) {
        if (tolerated(stack, borrowed.error())) continue;
        stack.oracles.fail("exception", "borrow: " + borrowed.error().describe());
      }
      LeafPage* page = borrowed.value();
      std::map<std::size_t, SlotShadow> slots;
      bool loaded = true;
      for (const PageRecordView& record : records.value()) {
        Status set = page->set_slot(record.slot, record.value);
        if (!set.ok()) {
          if (!tolerated(stack, set.error())) stack.oracles.fail("exception", "load: " + set.error().describe());
          loaded = false;
          break;
        }
        slots[record.slot] = SlotShadow{record.value.size(), record_fill(file_page, record.slot)};
      }
      if (!loaded) {
        if (!stack.pool.give_back(page).ok()) stack.oracles.fail("double-free", "give_back refused");
        continue;
      }
      stack.shadow[id] = std::move(slots);
      stack.dewey_shadow[id] = {};
      verify_page(stack, id, *page);
      publish(stack, id, page);
      read_published(stack, rng, 1, 1);
      stack.oracles.check_cheap();
    }
    if (!file->close().ok() && !stack.faults_active) stack.oracles.fail("exception", "closing the page file failed");
  };
  return def;
}

}  // namespace segsim::scenarios
