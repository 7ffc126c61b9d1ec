// The state table (core/service_state.h) that the state machine, /status,
// /readyz, /metrics and `supervisor status` all read: names that round
// trip, and which states count as ready or final.
#include "service_state.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace sv {
namespace {

TEST(ServiceState, NamesAsDocumented) {
    // The names are an interface (/status, /metrics, `status`): pinned.
    EXPECT_STREQ(state_name(ServiceState::Pending), "pending");
    EXPECT_STREQ(state_name(ServiceState::Starting), "starting");
    EXPECT_STREQ(state_name(ServiceState::Ready), "ready");
    EXPECT_STREQ(state_name(ServiceState::Unhealthy), "unhealthy");
    EXPECT_STREQ(state_name(ServiceState::Stopping), "stopping");
    EXPECT_STREQ(state_name(ServiceState::Backoff), "backoff");
    EXPECT_STREQ(state_name(ServiceState::Completed), "completed");
    EXPECT_STREQ(state_name(ServiceState::Exited), "exited");
    EXPECT_STREQ(state_name(ServiceState::Failed), "failed");
}

TEST(ServiceState, EveryNameRoundTrips) {
    std::set<std::string> seen;
    for (ServiceState s : kAllStates) {
        const std::string name = state_name(s);
        EXPECT_TRUE(seen.insert(name).second) << "duplicate name " << name;
        const auto back = parse_state_name(name);
        ASSERT_TRUE(back.has_value()) << name;
        EXPECT_EQ(*back, s) << name;
    }
    EXPECT_EQ(seen.size(), 10u);
}

TEST(ServiceState, UnknownNamesAreRefused) {
    EXPECT_FALSE(parse_state_name("").has_value());
    EXPECT_FALSE(parse_state_name("unknown").has_value());
    EXPECT_FALSE(parse_state_name("Ready").has_value());  // names are lower case
    EXPECT_FALSE(parse_state_name("ready ").has_value());
}

TEST(ServiceState, CountsAsReadyOnlyForReadyAndCompleted) {
    // A completed oneshot counts, as Kubernetes counts a finished init
    // container; nothing else does, not even a service being restarted.
    for (ServiceState s : kAllStates) {
        const bool expected = s == ServiceState::Ready || s == ServiceState::Completed;
        EXPECT_EQ(counts_as_ready(s), expected) << state_name(s);
    }
}

TEST(ServiceState, FinalStates) {
    for (ServiceState s : kAllStates) {
        const bool expected =
            s == ServiceState::Completed || s == ServiceState::Exited || s == ServiceState::Failed;
        EXPECT_EQ(is_final(s), expected) << state_name(s);
    }
}

TEST(ServiceState, FailReasonTexts) {
    EXPECT_STREQ(fail_reason_text(FailReason::None), "");
    for (FailReason r :
         {FailReason::SpawnFailed, FailReason::ExecFailed, FailReason::ReadyTimeout,
          FailReason::TooManyRestarts, FailReason::DependencyFailed, FailReason::ExitedWithError})
        EXPECT_STRNE(fail_reason_text(r), "");
    EXPECT_STREQ(fail_reason_text(FailReason::ReadyTimeout), "not ready within start_timeout");
}

}  // namespace
}  // namespace sv
