// Reporting the unexpected: see oops.h.
#include "oops.h"

#include <unistd.h>

#include <exception>
#include <string>

namespace sv {

namespace {

Logger* g_logger = nullptr;

// Without allocating: the usual cause is that memory ran out.
void write_stderr(const char* where, const char* what) noexcept {
    const char* parts[] = {"supervisor: error: internal error in ", where, ": ", what, "\n"};
    for (const char* p : parts) {
        std::size_t n = 0;
        while (p[n]) ++n;
        ssize_t ignored = ::write(STDERR_FILENO, p, n);
        (void)ignored;
    }
}

}  // namespace

void set_oops_logger(Logger* logger) noexcept {
    g_logger = logger;
}

void oops(const char* where) noexcept {
    const char* what = "unknown exception";
    std::string text;
    try {
        throw;
    } catch (const std::exception& e) {
        what = e.what();
    } catch (...) {
    }
    try {
        if (!g_logger) throw 0;
        g_logger->log(Level::Error, "", "internal",
                      std::string("internal error in ") + where + ": " + what);
    } catch (...) {
        write_stderr(where, what);
    }
}

}  // namespace sv
