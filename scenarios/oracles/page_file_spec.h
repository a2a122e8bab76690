// page-file-spec: MappedPageFile::open agrees with the harness's own reading
// of the format (workloads/page_file_spec.h) on every file it is shown —
// refused exactly when the reference says the file is invalid, with the
// reference's rule as the detail and nothing left mapped; accepted with the
// reference's layout, each page read back as the bytes at its offset.
#pragma once

#include <span>
#include <string>

#include "core/os.h"
#include "faults/sim_os.h"

namespace segsim::scenarios {

class Oracles;

// Opens `path` (whose contents are `file`) and compares. Under a fault plan
// an OS refusal is tolerated and the mapping counts are not judged.
void check_open_against_spec(Oracles& oracles, faults::SimOs& sim_os, Os& os, bool faults_active,
                             const std::string& path, std::span<const std::byte> file, const std::string& variant);

}  // namespace segsim::scenarios
