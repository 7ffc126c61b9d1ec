// Suggestions for mistyped words: see suggest.h.
#include "suggest.h"

#include <algorithm>

namespace sv {

std::size_t edit_distance(std::string_view a, std::string_view b) {
    const std::size_t n = a.size(), m = b.size();
    // Three rows suffice: the swap looks two rows back.
    std::vector<std::size_t> prev2(m + 1), prev(m + 1), row(m + 1);
    for (std::size_t j = 0; j <= m; ++j) prev[j] = j;
    for (std::size_t i = 1; i <= n; ++i) {
        row[0] = i;
        for (std::size_t j = 1; j <= m; ++j) {
            const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
            row[j] = std::min({prev[j] + 1, row[j - 1] + 1, prev[j - 1] + cost});
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                row[j] = std::min(row[j], prev2[j - 2] + 1);
        }
        prev2.swap(prev);
        prev.swap(row);
    }
    return prev[m];
}

std::optional<std::string> closest_word(std::string_view word,
                                        const std::vector<std::string_view>& known,
                                        std::size_t max_distance) {
    std::optional<std::string> best;
    std::size_t best_distance = max_distance + 1;
    for (std::string_view k : known) {
        if (k == word) continue;
        const std::size_t d = edit_distance(word, k);
        if (d < best_distance) {
            best_distance = d;
            best = std::string(k);
        }
    }
    return best;
}

std::string did_you_mean(std::string_view word, const std::vector<std::string_view>& known) {
    if (auto w = closest_word(word, known)) return " (did you mean '" + *w + "'?)";
    return "";
}

}  // namespace sv
