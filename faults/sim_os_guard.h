// Guard mode of SimOs (SimOsConfig::guard): a real fault that the system
// under test takes while a run is in progress is named, with the run's fiber
// and step, as the seed's failure (sim/fatal_failure.h) before the handler
// that was there before (ASan's, or the default action) gets it:
//   * SIGSEGV inside a registered reservation: "use-after-release" (its
//     memory was unmapped, the address as an offset: no raw address in a
//     signature);
//   * SIGSEGV in the null page or just below null: "null-dereference";
//   * SIGFPE of an integer division: "arithmetic-fault".
// Internal to faults/ (sim_os.cpp registers and unregisters).
#pragma once

#include <cstddef>

namespace segsim::faults::guard {

// [base, base + bytes) becomes a reservation whose faults are named; the
// first call installs the SIGSEGV and SIGFPE handlers, for the process's
// life. At most 64 at once: past that a reservation is still guarded by
// PROT_NONE, only its faults are reported anonymously.
void register_reservation(std::byte* base, std::size_t bytes);

// `base` (as registered) is no longer a reservation.
void unregister_reservation(std::byte* base);

}  // namespace segsim::faults::guard
