// fuzz_ceiling / fuzz_ceiling_linked: the exec/s libFuzzer itself allows in
// this build (docs/fuzzing.md, "Speed", round 5). The input is decoded as
// the stack targets decode theirs — an opcode byte per step, a branch per
// opcode — and nothing else runs, so what a run costs is libFuzzer's own
// work (mutating, copying the input, resetting and collecting the coverage
// counters, ASan's malloc of the input copy) plus a few instrumented edges.
// fuzz_ceiling links nothing else; fuzz_ceiling_linked links every library
// the stack targets link, whole, so its coverage tables are at least as
// large as theirs: the difference between the two is what the size of the
// instrumented code costs per input, whatever an input touches.
// Built with -DSEGSIM_FUZZ_CEILING=ON only (fuzz/CMakeLists.txt).
#include <cstddef>
#include <cstdint>

#include "fuzz/byte_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  segsim::fuzzing::Reader in(data, size);
  // Sixteen opcodes, each with its own edge; volatile so none is folded away.
  volatile std::uint64_t sink = 0;
  while (!in.done()) {
    switch (in.byte() % 16) {
      case 0: sink = sink + 1; break;
      case 1: sink = sink ^ in.byte(); break;
      case 2: sink = sink * 3; break;
      case 3: sink = sink - in.byte(); break;
      case 4: sink = sink << 1; break;
      case 5: sink = sink >> 1; break;
      case 6: sink = sink | in.byte(); break;
      case 7: sink = sink & 0xff; break;
      case 8: sink = sink + 7; break;
      case 9: sink = sink ^ 0x55; break;
      case 10: sink = sink * 5; break;
      case 11: sink = sink - 3; break;
      case 12: sink = sink + in.byte(); break;
      case 13: sink = sink ^ 0xaa; break;
      case 14: sink = sink | 0x10; break;
      default: sink = 0; break;
    }
  }
  return 0;
}
