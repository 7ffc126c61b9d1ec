#include <gtest/gtest.h>

#include "exit_status.h"

TEST(ExitStatus, ShellConvention) {
    EXPECT_EQ(sv::ExitStatus::exited(3).code(), 3);
    EXPECT_EQ(sv::ExitStatus::killed(9).code(), 137);
}
