// "Did you mean …?": the nearest of a few known words to what the user typed.
//
// Configuration keys, enumerated values and service names all get the same
// help: when a word is unknown, the closest known one within two edits is
// suggested. Edits are counted as a typist would: an insertion, a deletion,
// a substitution, or a swap of two adjacent letters ("stop_garce" is one
// edit from "stop_grace").
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sv {

// Optimal string alignment distance (Levenshtein plus adjacent swaps).
std::size_t edit_distance(std::string_view a, std::string_view b);

// The first of `known` within `max_distance` edits of `word` that is closest
// to it, or nullopt. `word` itself never suggests itself.
std::optional<std::string> closest_word(std::string_view word,
                                        const std::vector<std::string_view>& known,
                                        std::size_t max_distance = 2);

// " (did you mean 'api'?)" or "".
std::string did_you_mean(std::string_view word, const std::vector<std::string_view>& known);

}  // namespace sv
