// Resource limits: see rlimits.h.
#include "rlimits.h"

#include <sys/resource.h>

#include <cerrno>

namespace sv {

namespace {

std::uint64_t from_rlim(rlim_t v) {
    return v == RLIM_INFINITY ? kUnlimited : static_cast<std::uint64_t>(v);
}

}  // namespace

int rlimit_resource(Resource r) {
    switch (r) {
        case Resource::As:
            return RLIMIT_AS;
        case Resource::Core:
            return RLIMIT_CORE;
        case Resource::Cpu:
            return RLIMIT_CPU;
        case Resource::Data:
            return RLIMIT_DATA;
        case Resource::Fsize:
            return RLIMIT_FSIZE;
        case Resource::Locks:
            return RLIMIT_LOCKS;
        case Resource::Memlock:
            return RLIMIT_MEMLOCK;
        case Resource::Msgqueue:
            return RLIMIT_MSGQUEUE;
        case Resource::Nice:
            return RLIMIT_NICE;
        case Resource::Nofile:
            return RLIMIT_NOFILE;
        case Resource::Nproc:
            return RLIMIT_NPROC;
        case Resource::Rss:
            return RLIMIT_RSS;
        case Resource::Rtprio:
            return RLIMIT_RTPRIO;
        case Resource::Rttime:
            return RLIMIT_RTTIME;
        case Resource::Sigpending:
            return RLIMIT_SIGPENDING;
        case Resource::Stack:
            return RLIMIT_STACK;
    }
    return -1;
}

std::vector<Limit> raise_own_limits() {
    std::vector<Limit> changed;
    struct rlimit rl;
    if (::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != rl.rlim_max) {
        const Limit original{Resource::Nofile, from_rlim(rl.rlim_cur), from_rlim(rl.rlim_max)};
        rl.rlim_cur = rl.rlim_max;
        if (::setrlimit(RLIMIT_NOFILE, &rl) == 0) changed.push_back(original);
    }
    return changed;
}

std::string limit_hint(int error) {
    if (error != EMFILE) return "";
    struct rlimit rl;
    if (::getrlimit(RLIMIT_NOFILE, &rl) != 0) return "";
    return " (open files limit: " +
           (rl.rlim_cur == RLIM_INFINITY ? std::string("unlimited") : std::to_string(rl.rlim_cur)) +
           ")";
}

}  // namespace sv
