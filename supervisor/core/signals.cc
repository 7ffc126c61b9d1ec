// Signal names, both ways.
//
// Users write stop signals the way kill(1), Docker's STOPSIGNAL and systemd's
// KillSignal= do: "SIGTERM", "TERM", "sigterm", or a number. The table below
// uses the <csignal> macros rather than numbers so it stays right on every
// Linux architecture (SIGUSR1 is 10 on x86 but 30 on some others).
//
// Real-time signals are accepted as "RTMIN", "RTMIN+3", "SIGRTMAX-1" (the
// form systemd and kill(1) use), since an init replacement may be asked to
// stop a program that expects SIGRTMIN+3. signal_name() writes them back as
// kill -l does ("SIGRTMIN+3", "SIGRTMAX-1"); the few numbers glibc keeps
// below SIGRTMIN for itself have no name and come out as "SIG32".
#include "signals.h"

#include <csignal>
#include <cstdlib>

namespace sv {

namespace {

struct SignalName {
    const char* name;  // without "SIG"
    int number;
};

// Canonical names first: signal_name() returns the first match.
const SignalName kSignals[] = {
    {"HUP", SIGHUP},
    {"INT", SIGINT},
    {"QUIT", SIGQUIT},
    {"ILL", SIGILL},
    {"TRAP", SIGTRAP},
    {"ABRT", SIGABRT},
    {"BUS", SIGBUS},
    {"FPE", SIGFPE},
    {"KILL", SIGKILL},
    {"USR1", SIGUSR1},
    {"SEGV", SIGSEGV},
    {"USR2", SIGUSR2},
    {"PIPE", SIGPIPE},
    {"ALRM", SIGALRM},
    {"TERM", SIGTERM},
    {"CHLD", SIGCHLD},
    {"CONT", SIGCONT},
    {"STOP", SIGSTOP},
    {"TSTP", SIGTSTP},
    {"TTIN", SIGTTIN},
    {"TTOU", SIGTTOU},
    {"URG", SIGURG},
    {"XCPU", SIGXCPU},
    {"XFSZ", SIGXFSZ},
    {"VTALRM", SIGVTALRM},
    {"PROF", SIGPROF},
    {"WINCH", SIGWINCH},
    {"IO", SIGIO},
    {"SYS", SIGSYS},
#ifdef SIGSTKFLT
    {"STKFLT", SIGSTKFLT},
#endif
#ifdef SIGPWR
    {"PWR", SIGPWR},
#endif
    // Aliases, accepted when parsing only.
    {"IOT", SIGABRT},
    {"POLL", SIGIO},
    {"CLD", SIGCHLD},
};

#ifdef NSIG
constexpr int kMaxSignal = NSIG - 1;
#else
constexpr int kMaxSignal = 64;
#endif

std::string upper(std::string_view s) {
    std::string out(s);
    for (char& c : out)
        if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    return out;
}

// "123" -> 123; anything else (empty, sign, letters, too long) -> nullopt.
std::optional<int> small_number(std::string_view s) {
    if (s.empty() || s.size() > 3) return std::nullopt;
    int n = 0;
    for (char c : s) {
        if (c < '0' || c > '9') return std::nullopt;
        n = n * 10 + (c - '0');
    }
    return n;
}

std::optional<int> valid(int sig) {
    if (sig < 1 || sig > kMaxSignal) return std::nullopt;
    return sig;
}

// "RTMIN", "RTMIN+3", "RTMAX", "RTMAX-2" (already upper case, no "SIG").
std::optional<int> parse_realtime(std::string_view s) {
#if defined(SIGRTMIN) && defined(SIGRTMAX)
    const bool min = s.rfind("RTMIN", 0) == 0;
    const bool max = s.rfind("RTMAX", 0) == 0;
    if (!min && !max) return std::nullopt;
    std::string_view rest = s.substr(5);
    int offset = 0;
    if (!rest.empty()) {
        if (rest[0] != (min ? '+' : '-')) return std::nullopt;
        auto n = small_number(rest.substr(1));
        if (!n) return std::nullopt;
        offset = min ? *n : -*n;
    }
    int sig = (min ? SIGRTMIN : SIGRTMAX) + offset;
    if (sig < SIGRTMIN || sig > SIGRTMAX) return std::nullopt;
    return sig;
#else
    (void)s;
    return std::nullopt;
#endif
}

}  // namespace

std::optional<int> parse_signal(std::string_view name) {
    if (auto n = small_number(name)) return valid(*n);
    std::string s = upper(name);
    if (s.rfind("SIG", 0) == 0) s.erase(0, 3);
    if (auto n = small_number(s)) return valid(*n);  // "SIG37", as signal_name() writes it
    for (const auto& entry : kSignals)
        if (s == entry.name) return entry.number;
    return parse_realtime(s);
}

std::string signal_name(int sig) {
    for (const auto& entry : kSignals)
        if (entry.number == sig) return std::string("SIG") + entry.name;
#if defined(SIGRTMIN) && defined(SIGRTMAX)
    // The lower half counted from RTMIN, the upper from RTMAX, as kill -l.
    const int lo = SIGRTMIN, hi = SIGRTMAX;
    if (sig >= lo && sig <= hi) {
        if (sig - lo <= (hi - lo) / 2)
            return sig == lo ? "SIGRTMIN" : "SIGRTMIN+" + std::to_string(sig - lo);
        return sig == hi ? "SIGRTMAX" : "SIGRTMAX-" + std::to_string(hi - sig);
    }
#endif
    return "SIG" + std::to_string(sig);
}

}  // namespace sv
