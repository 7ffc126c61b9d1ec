// What `supervisor --help` and `supervisor <subcommand> --help` print.
#pragma once

#include <string>

#include "cli.h"

namespace sv {

std::string main_usage();
std::string subcommand_usage(Subcommand c);

}  // namespace sv
