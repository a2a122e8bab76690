// Structure-aware mutation of fuzz_scenario's inputs (fuzz_input.h): one
// field at a time, the others kept. libFuzzer's own mutations see a flat
// byte string: an insertion or erasure in the head shifts every later field
// (the client count becomes a seed byte, the fault rules shift into the
// schedule), and a change of a rule bit re-reads every rate after it — so
// mutating an input that nearly fails mostly threw away what made it near.
// Here a mutation is one of:
//   seed      a new seed (the workload's every draw; seeds are hashed into
//             streams, so no seed is nearer another — a new one is the step)
//   schedule  libFuzzer's own mutation of the schedule bytes alone
//   faults    the mode, one rule or fault point switched on or off (its
//             rate byte inserted or removed with it), or one rate changed
//   clients   the client-count byte
//   scenario  the scenario byte (rare: it changes what everything means)
//   anything  libFuzzer's own mutation of the whole input (rare)
// Every result is a valid input (any bytes are); the same (input, seed)
// always gives the same result.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

namespace segsim::scenarios {

// libFuzzer's LLVMFuzzerMutate: mutates data[0, size) in place within
// max_size bytes and returns the new size.
using ByteMutator = std::function<std::size_t(std::uint8_t* data, std::size_t size, std::size_t max_size)>;

// `input` mutated as above, at most max_bytes long (a longer result drops
// schedule bytes from its end).
std::string mutate_fuzz_input(const std::string& input, std::size_t max_bytes, std::uint64_t seed,
                              const ByteMutator& mutate_bytes);

}  // namespace segsim::scenarios
