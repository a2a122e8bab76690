// Failure signatures: what replay, shrink and reproduce compare.
//
// A failure's human text may name raw addresses ("double free: segment
// 0x7f3a…"), which move with ASLR and between processes. The signature is the
// same text with every address rewritten to a stable name — the slice that
// holds it ("region #3 slice 0"), an offset in the simulated OS, or
// "<foreign address>" — so the same failure has the same signature in every
// process (DESIGN.md, determinism rules). Addresses stay in the human text.
// So do allocator ids: they are process-wide and never repeat, so a sweep
// worker's later seed names other ids than its replay in a fresh process;
// the signature names each "allocator N" by its order of first mention in
// the text ("allocator #1", "allocator #2": the same or another).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace segsim::scenarios {

// The stable name of `address`, or nullopt when it is not an address at all
// (a small number printed in hex: an offset, a size).
using AddressNamer = std::function<std::optional<std::string>(std::uintptr_t address)>;

// The end of the hexadecimal number ("0x" and at least one hex digit) that
// starts at `at` in `text`, or `at` when none starts there.
std::size_t hex_token_end(std::string_view text, std::size_t at);

// `text` with each hexadecimal token ("0x" followed by hex digits) that
// `name_address` recognises replaced by its stable name, and each
// "allocator N" by "allocator #k", k its order of first mention.
std::string stable_text(std::string_view text, const AddressNamer& name_address);

}  // namespace segsim::scenarios
