// Resource limits on the OS side: the core's Resource as RLIMIT_*, the
// supervisor's own descriptor limit, and what to say when a limit is hit.
#pragma once

#include <string>
#include <vector>

#include "resource_limits.h"

namespace sv {

// RLIMIT_NOFILE for Resource::Nofile, …
int rlimit_resource(Resource r);

// Raises our soft RLIMIT_NOFILE to the hard limit: the supervisor holds
// pipes and sockets for every service, and the soft limit that containers
// and shells hand over (often 1024) runs out at a few hundred services.
// Returns the limits as they were, for those it changed, so that services
// get them back (as Go and systemd do).
std::vector<Limit> raise_own_limits();

// " (open files limit: 1024)" after an EMFILE, "" for other errors: which
// limit, with its value, so that "Too many open files" says what to raise.
std::string limit_hint(int error);

}  // namespace sv
