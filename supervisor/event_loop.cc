#include "event_loop.h"
// stub: to be written
namespace sv {
int run_command(const CliOptions&) { return 1; }
}  // namespace sv
