#include "core/error.h"

#include <cstring>

#include <fmt/format.h>

#include "core/size_class.h"

namespace segsim {

std::string_view errc_name(Errc code) noexcept {
  switch (code) {
    case Errc::InvalidSize: return "invalid size";
    case Errc::OutOfBudget: return "out of budget";
    case Errc::OutOfMemory: return "out of memory";
    case Errc::DoubleFree: return "double free";
    case Errc::InvalidPointer: return "invalid pointer";
    case Errc::OsFailure: return "os failure";
    case Errc::InvalidConfig: return "invalid config";
    case Errc::InvalidPageFile: return "invalid page file";
    case Errc::SlotOutOfRange: return "slot out of range";
    case Errc::ValueTooLarge: return "value too large";
    case Errc::PageFull: return "page full";
    case Errc::PageReturned: return "page returned";
    case Errc::InUse: return "in use";
  }
  return "unknown error";
}

std::string Error::describe() const {
  std::string line{errc_name(code)};
  if (address != 0) line += fmt::format(": segment {:#x}", address);
  if (size_class >= 0 && size_class < static_cast<int>(kSizeClassCount)) {
    line += fmt::format(" (class {} KiB", class_bytes(size_class) / 1024);
    if (generation != 0) line += fmt::format(", generation {}", generation);
    if (code == Errc::DoubleFree) line += fmt::format(", slice generation now {}", live_generation);
    line += ")";
  }
  if (detail != nullptr && detail[0] != '\0') line += fmt::format(": {}", detail);
  if (os_errno != 0) line += fmt::format(" (errno {}: {})", os_errno, std::strerror(os_errno));
  return line;
}

}  // namespace segsim
