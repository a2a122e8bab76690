// The CLI's one way to refuse: one line on stderr, exit 2 (commands.h).
#include <cstdlib>
#include <iostream>

#include "scenarios/cli/commands.h"
#include "scenarios/safe_file.h"

namespace segsim::scenarios::cli {

void bad_input(const std::string& line) {
  std::cerr << "segsim: " << one_line(line) << "\n";
  std::exit(kExitBadInput);
}

void check_outputs(const std::vector<std::string>& paths) {
  for (const std::string& path : paths) {
    if (path.empty()) continue;
    std::string error;
    if (!check_output_path(path, &error).ok()) bad_input(error);
  }
}

}  // namespace segsim::scenarios::cli
