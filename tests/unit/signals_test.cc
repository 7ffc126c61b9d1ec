// Signal names both ways, in every spelling the configuration accepts.
#include "signals.h"

#include <gtest/gtest.h>

#include <csignal>

namespace sv {
namespace {

TEST(SignalNames, ParsesNamesInAnySpelling) {
    EXPECT_EQ(parse_signal("SIGTERM"), SIGTERM);
    EXPECT_EQ(parse_signal("TERM"), SIGTERM);
    EXPECT_EQ(parse_signal("sigterm"), SIGTERM);
    EXPECT_EQ(parse_signal("term"), SIGTERM);
    EXPECT_EQ(parse_signal("SigInt"), SIGINT);
    EXPECT_EQ(parse_signal("HUP"), SIGHUP);
    EXPECT_EQ(parse_signal("QUIT"), SIGQUIT);
    EXPECT_EQ(parse_signal("KILL"), SIGKILL);
    EXPECT_EQ(parse_signal("USR1"), SIGUSR1);
    EXPECT_EQ(parse_signal("SIGUSR2"), SIGUSR2);
    EXPECT_EQ(parse_signal("WINCH"), SIGWINCH);
    EXPECT_EQ(parse_signal("PWR"), SIGPWR);
}

TEST(SignalNames, ParsesAliases) {
    EXPECT_EQ(parse_signal("IOT"), SIGABRT);
    EXPECT_EQ(parse_signal("SIGPOLL"), SIGIO);
    EXPECT_EQ(parse_signal("CLD"), SIGCHLD);
}

TEST(SignalNames, ParsesNumbers) {
    EXPECT_EQ(parse_signal("15"), 15);
    EXPECT_EQ(parse_signal("1"), 1);
    EXPECT_EQ(parse_signal("SIG37"), 37);
    EXPECT_EQ(parse_signal(std::to_string(NSIG - 1)), NSIG - 1);
}

TEST(SignalNames, ParsesRealtime) {
    EXPECT_EQ(parse_signal("RTMIN"), SIGRTMIN);
    EXPECT_EQ(parse_signal("SIGRTMIN+3"), SIGRTMIN + 3);
    EXPECT_EQ(parse_signal("rtmax-1"), SIGRTMAX - 1);
    EXPECT_EQ(parse_signal("RTMAX"), SIGRTMAX);
    EXPECT_FALSE(parse_signal("RTMIN-1"));
    EXPECT_FALSE(parse_signal("RTMAX+1"));
    EXPECT_FALSE(parse_signal("RTMIN+999"));
}

TEST(SignalNames, RejectsUnknown) {
    for (const char* bad : {"", "SIG", "TERMX", "SIGFOO", "0", "-15", "+15", "65", "999", "1000",
                            "15x", " TERM", "TERM ", "SIG-1", "SIGSIGTERM"})
        EXPECT_FALSE(parse_signal(bad)) << "'" << bad << "'";
}

TEST(SignalNames, Names) {
    EXPECT_EQ(signal_name(SIGTERM), "SIGTERM");
    EXPECT_EQ(signal_name(SIGKILL), "SIGKILL");
    EXPECT_EQ(signal_name(SIGINT), "SIGINT");
    EXPECT_EQ(signal_name(SIGABRT), "SIGABRT");  // not the alias IOT
    EXPECT_EQ(signal_name(SIGIO), "SIGIO");      // not the alias POLL
    // Real-time signals as kill -l names them (systemd-nspawn stops with
    // SIGRTMIN+3: the log says so, not "SIG37").
    EXPECT_EQ(signal_name(SIGRTMIN), "SIGRTMIN");
    EXPECT_EQ(signal_name(SIGRTMIN + 3), "SIGRTMIN+3");
    EXPECT_EQ(signal_name(SIGRTMAX - 1), "SIGRTMAX-1");
    EXPECT_EQ(signal_name(SIGRTMAX), "SIGRTMAX");
    EXPECT_EQ(signal_name(SIGRTMIN - 1), "SIG" + std::to_string(SIGRTMIN - 1));  // glibc's own
}

TEST(SignalNames, NamesRoundTrip) {
    for (int sig = 1; sig < NSIG; ++sig) EXPECT_EQ(parse_signal(signal_name(sig)), sig) << sig;
}

}  // namespace
}  // namespace sv
