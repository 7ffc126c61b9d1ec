#include "commands.h"
// stub: to be written (status)
namespace sv {
int run_status(const CliOptions&) { return 1; }
}  // namespace sv
