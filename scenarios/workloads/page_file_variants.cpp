// page_file_model.h: open_spec_variants — every header byte and boundary of
// the format, each shown to MappedPageFile::open and judged by the
// page-file-spec oracle against the reference (page_file_spec.h), and the
// header page's reserved padding, which a reader must ignore.
//
// The variants are edits of a small file the reference writes itself (pages
// of 4-64 KiB, 1-3 of them). Each seed shows a drawn kVariantsPerSeed of the
// ~150 (an open costs ~0.1 ms of SimOs mapping): the campaign's 80 runs of a
// scenario miss a given variant with odds of about 1e-4, and a seed costs
// ~2 ms more, not 15. The largest page (1 MiB) is shown in one seed of four.
// Run at quiescence: no scheduling point and no draw of the simulation's
// streams is added, so the traces of the scenario are those without the drill.
#include <functional>

#include <fmt/format.h>

#include "scenarios/oracles/page_file_spec.h"
#include "scenarios/workloads/page_file_model.h"
#include "scenarios/workloads/page_file_spec.h"
#include "scenarios/workloads/swarm.h"

namespace segsim::scenarios::page_file {

namespace {

constexpr const char* kVariantPath = "/segsim/variant.db";
constexpr std::size_t kVariantsPerSeed = 16;

// An edit of the good file, made only if the variant is drawn.
struct Variant {
  std::string name;
  std::function<void(std::vector<std::byte>&)> edit;
};

// Pages filled so that each byte names its page and offset: a page read at
// the wrong offset never matches.
std::vector<std::byte> spec_file(const SpecHeader& header, std::uint64_t pages) {
  std::vector<std::byte> file(header.page_size * (pages + 1));
  for (std::size_t at = header.page_size; at < file.size(); ++at) {
    file[at] = static_cast<std::byte>((at / header.page_size * 31 + at * 7 + 1) & 0xff);
  }
  write_spec_header(file, header);
  return file;
}

void put_field(std::vector<std::byte>& file, std::size_t at, std::size_t width_bytes, std::uint64_t v) {
  for (std::size_t i = 0; i < width_bytes; ++i) file[at + i] = static_cast<std::byte>((v >> (8 * i)) & 0xff);
}

// Each byte of the header flipped by a drawn mask — once with the checksum as
// it was, once (for the checksummed bytes) resealed so the field's own rule,
// or none, decides.
void byte_flips(std::vector<Variant>& out, sim::Rng& rng) {
  for (std::size_t at = 0; at < kSpecHeaderBytes; ++at) {
    const auto mask = static_cast<std::byte>(1 + rng.below(255));
    const int shown = std::to_integer<int>(mask);
    out.push_back({fmt::format("byte {} ^ {:#x}", at, shown), [at, mask](auto& file) { file[at] ^= mask; }});
    if (at < kSpecChecksummedBytes) {
      out.push_back({fmt::format("byte {} ^ {:#x}, resealed", at, shown), [at, mask](auto& file) {
                       file[at] ^= mask;
                       reseal_spec_header(file);
                     }});
    }
  }
  for (std::size_t at = 32; at < 40; ++at) {  // the reserved field non-zero, one byte at a time
    out.push_back({fmt::format("reserved byte {} = 1", at - 32), [at](auto& file) {
                     file[at] = std::byte{1};
                     reseal_spec_header(file);
                   }});
  }
}

// Each field at its boundaries and with a bit set in each of its bytes.
void field_values(std::vector<Variant>& out, const SpecHeader& header, std::uint64_t pages) {
  auto with = [&](const char* name, std::size_t at, std::size_t width_bytes, std::uint64_t v) {
    out.push_back({fmt::format("{} = {:#x}", name, v), [at, width_bytes, v](auto& file) {
                     put_field(file, at, width_bytes, v);
                     reseal_spec_header(file);
                   }});
  };
  const std::uint64_t p = header.page_size;
  for (int byte = 0; byte < 4; ++byte) {
    with("format_version", 8, 4, 1 | (std::uint64_t{1} << (8 * byte + 1)));
    with("page_size", 12, 4, p ^ (std::uint64_t{1} << (8 * byte)));
  }
  for (std::uint64_t v : {std::uint64_t{0}, std::uint64_t{0xffffffff}, std::uint64_t{1} << 24, (std::uint64_t{1} << 24) - 1,
                          std::uint64_t{1} << 16, std::uint64_t{2048}, std::uint64_t{1} << 21, p - 1, p + 1}) {
    with("page_size", 12, 4, v);
  }
  with("format_version", 8, 4, 0);
  // page_count: off by one, and so large that page_size * (count + 1) wraps to the file length.
  for (std::uint64_t v : {std::uint64_t{0}, pages - 1, pages + 1, pages + (~std::uint64_t{0} / p + 1), ~std::uint64_t{0}}) {
    with("page_count", 16, 8, v);
  }
  const std::uint64_t end = p * (pages + 1);
  for (std::uint64_t v : {std::uint64_t{0}, p - 1, p, p + 1, p + p / 2, end - p, end - 1, end, end + p,
                          p | (std::uint64_t{1} << 56), ~std::uint64_t{0}}) {
    with("root_offset", 24, 8, v);
  }
  for (int byte = 0; byte < 8; ++byte) with("root_offset", 24, 8, p ^ (std::uint64_t{1} << (8 * byte + 7)));
}

// The header page past the 64-byte header is reserved: writers zero it,
// readers ignore it (mapped_page_file.h), so a file whose padding holds other
// bytes (a later writer's) stays valid — its first byte, its last, all of it.
void header_page_padding(std::vector<Variant>& out, sim::Rng& rng, const SpecHeader& header) {
  const std::size_t p = header.page_size;
  const auto mask = static_cast<std::byte>(1 + rng.below(255));
  for (std::size_t at : {kSpecHeaderBytes, p - 1}) {
    out.push_back({fmt::format("header-page padding byte {} = {:#x}", at, std::to_integer<int>(mask)),
                   [at, mask](auto& file) { file[at] = mask; }});
  }
  const std::uint64_t fill_seed = rng.next();
  out.push_back({"header-page padding filled", [p, fill_seed](auto& file) {
                   sim::Rng fill(fill_seed);
                   for (std::size_t at = kSpecHeaderBytes; at < p; ++at) file[at] = static_cast<std::byte>(fill.below(256));
                 }});
}

// The file cut or grown around each length that matters.
void lengths(std::vector<Variant>& out, const SpecHeader& header, std::uint64_t pages) {
  const std::size_t p = header.page_size;
  const std::size_t whole = p * (pages + 1);
  for (std::size_t keep : {std::size_t{0}, std::size_t{1}, kSpecHeaderBytes - 1, kSpecHeaderBytes,
                           kSpecHeaderBytes + 1, p - 1, p, p + 1, whole - p, whole - 1}) {
    out.push_back({fmt::format("cut to {} B", keep), [keep](auto& file) { file.resize(keep); }});
  }
  for (std::size_t grow : {std::size_t{1}, p - 1, p}) {
    out.push_back({fmt::format("grown by {} B", grow), [grow](auto& file) { file.resize(file.size() + grow, std::byte{0x5a}); }});
  }
  SpecHeader counted = header;  // one page more, counted: valid again
  counted.page_count = pages + 1;
  out.push_back({"grown by a counted page", [counted, p](auto& file) {
                   file.resize(file.size() + p, std::byte{0x5a});
                   write_spec_header(file, counted);
                 }});
}

void show(Stack& stack, const std::string& name, const std::vector<std::byte>& file) {
  stack.sim_os.add_file(kVariantPath, file, 1);
  check_open_against_spec(stack.oracles, stack.sim_os, stack.os, stack.faults_active, kVariantPath, file, name);
  stack.sim_os.remove_file(kVariantPath);
}

}  // namespace

void open_spec_variants(Stack& stack) {
  sim::Rng rng(sim::derive_seed(stack.seed, "workload.page-file.spec-variants"));
  SpecHeader header;
  header.page_size = draw_one<std::uint32_t>(rng, {4096, 8192, 16384, 65536});
  const std::uint64_t pages = 1 + rng.below(3);
  header.page_count = pages;
  header.root_offset = header.page_size * (1 + rng.below(pages));
  const std::vector<std::byte> good = spec_file(header, pages);
  std::vector<Variant> variants{{"valid", [](auto&) {}}};
  byte_flips(variants, rng);
  header_page_padding(variants, rng, header);
  field_values(variants, header, pages);
  lengths(variants, header, pages);
  for (std::size_t i = 0; i < kVariantsPerSeed && i < variants.size(); ++i) {  // a drawn sample, no repeats
    std::swap(variants[i], variants[i + rng.below(variants.size() - i)]);
    std::vector<std::byte> file = good;
    variants[i].edit(file);
    show(stack, fmt::format("{} ({} pages of {} B)", variants[i].name, pages, header.page_size), file);
  }
  if (rng.below(4) == 0) {  // the largest page: valid, a byte short, and twice as large
    SpecHeader largest{1, 1024 * 1024, 1, 1024 * 1024, 0};
    std::vector<std::byte> big = spec_file(largest, 1);
    show(stack, "1 MiB pages", big);
    put_field(big, 12, 4, 2 * 1024 * 1024);
    reseal_spec_header(big);
    show(stack, "2 MiB pages", big);
    big.pop_back();
    put_field(big, 12, 4, 1024 * 1024);
    reseal_spec_header(big);
    show(stack, "1 MiB pages, cut by 1 B", big);
  }
}

}  // namespace segsim::scenarios::page_file
