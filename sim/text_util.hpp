// Small text helpers used for error messages (did-you-mean) and formatting.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace tilesim {

/// Optimal-string-alignment edit distance (Levenshtein plus adjacent transpositions), case-insensitive.
std::size_t edit_distance(std::string_view a, std::string_view b);

/// The candidates closest to `word` (distance <= max(2, len/3)), best first, at most `limit`.
std::vector<std::string> closest_matches(std::string_view word, const std::vector<std::string>& candidates,
                                         std::size_t limit = 3);

/// " (did you mean 'x'?)" / " (did you mean 'x' or 'y'?)" or "" when nothing is close.
std::string did_you_mean(std::string_view word, const std::vector<std::string>& candidates);

/// Shortest decimal text that reads back as `v` within 6 significant digits ("1.83", "228", "0.5").
std::string format_number(double v, int significant_digits = 6);

std::vector<std::string> split(std::string_view text, char sep);
std::string_view trim(std::string_view text);

}  // namespace tilesim
