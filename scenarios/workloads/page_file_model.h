// The page-file scenario's model: what each page of the valid file holds,
// and the files it starts from (the valid one, one invalid variant per
// validation rule). Internal to the page-file workload.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "scenarios/stack.h"

namespace segsim::scenarios::page_file {

inline constexpr const char* kPath = "/segsim/pages.db";

// What page `p` of the file holds: a deterministic function of the page, so
// every fiber knows the model without sharing it. Some pages are empty, some
// have DeweyIDs, some are filled to their last byte.
struct RecordModel {
  std::uint32_t slot;
  std::size_t bytes;
  std::uint8_t fill;
  std::optional<std::size_t> dewey_bytes;
};

std::vector<RecordModel> records_of(std::uint64_t page, std::uint32_t page_bytes);

// Corrupted copies of a records page, each with the rule decode must name.
std::vector<std::pair<std::vector<std::byte>, const char*>> bad_record_pages(std::span<const std::byte> page);

// Builds the files (checking the writer's and the encoder's refusals on the
// way): the valid one at kPath, and /segsim/bad-N.db with stack.page_file_rules[N].
void build_files(Stack& stack);

// Shows open() the reference's own small file and ~150 edits of it (every
// header byte, each field's boundaries, lengths around each boundary), each
// judged by the page-file-spec oracle. Called at quiescence.
void open_spec_variants(Stack& stack);

}  // namespace segsim::scenarios::page_file
