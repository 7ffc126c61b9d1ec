// "Did you mean …?" (core/suggest.h): the nearest known word within two
// edits, for keys, enumerated values and service names.
// (edit_distance itself is tested in config_test.cc.)
#include "suggest.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sv {
namespace {

using Words = std::vector<std::string_view>;

TEST(ClosestWord, PicksTheClosestNotTheFirstWithinTwo) {
    // "stop_gr" comes first and is within two edits, but "stop_grace" is
    // one edit away: the user meant that one.
    ASSERT_EQ(edit_distance("stop_grac", "stop_gr"), 2u);
    ASSERT_EQ(edit_distance("stop_grac", "stop_grace"), 1u);
    EXPECT_EQ(closest_word("stop_grac", Words{"stop_gr", "stop_grace"}), "stop_grace");
}

TEST(ClosestWord, TiesGoToTheFirst) {
    EXPECT_EQ(closest_word("ab", Words{"ax", "ay"}), "ax");
    EXPECT_EQ(closest_word("ab", Words{"ay", "ax"}), "ay");
}

TEST(ClosestWord, AdjacentSwapIsOneEdit) {
    EXPECT_EQ(closest_word("stop_garce", Words{"stop_signal", "stop_grace"}), "stop_grace");
}

TEST(ClosestWord, NothingBeyondTwoEdits) {
    EXPECT_EQ(closest_word("abcd", Words{"ab"}), "ab");  // exactly two
    EXPECT_EQ(closest_word("abcd", Words{"a"}), std::nullopt);
    EXPECT_EQ(closest_word("xyz", Words{"abc", "restart"}), std::nullopt);
    EXPECT_EQ(closest_word("abcd", Words{"ab"}, 1), std::nullopt);  // a tighter limit
}

TEST(ClosestWord, NoKnownWords) {
    EXPECT_EQ(closest_word("api", Words{}), std::nullopt);
}

TEST(ClosestWord, TheWordItselfIsNeverSuggested) {
    // "unknown service 'api' (did you mean 'api'?)" would be nonsense.
    EXPECT_EQ(closest_word("api", Words{"api"}), std::nullopt);
    EXPECT_EQ(closest_word("api", Words{"api", "apk"}), "apk");
}

TEST(DidYouMean, Text) {
    EXPECT_EQ(did_you_mean("web1", Words{"api", "web"}), " (did you mean 'web'?)");
    EXPECT_EQ(did_you_mean("worker", Words{"api", "web"}), "");
    EXPECT_EQ(did_you_mean("web", Words{"web"}), "");
}

}  // namespace
}  // namespace sv
