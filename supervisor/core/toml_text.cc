// The raw text around toml++: see toml_text.h.
#include "toml_text.h"

#include <cstdint>
#include <cstdio>

#include "config.h"

namespace sv {

namespace {

bool is_ascii(char c) {
    return static_cast<unsigned char>(c) < 0x80;
}

bool starts_code_point(char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
}

// The code point of the UTF-8 sequence at text[i], or the byte itself when
// the sequence is malformed (toml++ rejects those).
std::uint32_t code_point(std::string_view text, std::size_t i) {
    const auto b = static_cast<unsigned char>(text[i]);
    std::size_t n = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 1;
    if (i + n > text.size()) n = 1;
    std::uint32_t cp = n == 1 ? b : n == 2 ? (b & 0x1Fu) : n == 3 ? (b & 0x0Fu) : (b & 0x07u);
    for (std::size_t k = 1; k < n; ++k)
        cp = (cp << 6) | (static_cast<unsigned char>(text[i + k]) & 0x3Fu);
    return cp;
}

std::string code_text(std::uint32_t cp) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "U+%04X", static_cast<unsigned>(cp));
    return buf;
}

// Line and column (code points) of byte offset `at`.
SourcePos position_of(std::string_view text, std::size_t at) {
    SourcePos pos{1, 1};
    for (std::size_t i = 0; i < at && i < text.size(); ++i) {
        if (text[i] == '\n') {
            ++pos.line;
            pos.column = 1;
        } else if (starts_code_point(text[i])) {
            ++pos.column;
        }
    }
    return pos;
}

}  // namespace

void check_control_characters(std::string_view text, const std::string& file) {
    for (std::size_t i = 0; i < text.size(); ++i) {
        const auto c = static_cast<unsigned char>(text[i]);
        const bool crlf = c == '\r' && i + 1 < text.size() && text[i + 1] == '\n';
        if ((c < 0x20 && c != '\t' && c != '\n' && !crlf) || c == 0x7f)
            throw ConfigError(file, position_of(text, i),
                              "control character " + code_text(c) +
                                  " is not allowed in TOML (is this a text file?)");
    }
}

bool has_non_ascii(std::string_view text) {
    for (char c : text)
        if (!is_ascii(c)) return true;
    return false;
}

std::string mask_non_ascii(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
        if (is_ascii(c))
            out += c;
        else if (starts_code_point(c))
            out += '?';
    }
    return out;
}

std::string non_ascii_at(std::string_view text, int line, int column) {
    SourcePos pos{1, 1};
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (!starts_code_point(text[i])) continue;
        if (pos.line == line && pos.column == column)
            return is_ascii(text[i]) ? "" : code_text(code_point(text, i));
        if (text[i] == '\n') {
            ++pos.line;
            pos.column = 1;
        } else {
            ++pos.column;
        }
    }
    return "";
}

void check_escapes(std::string_view text, const std::string& file) {
    enum class State {
        Normal,
        Comment,
        Basic,
        Literal,
        MultiBasic,
        MultiLiteral
    } state = State::Normal;
    const auto refuse = [&](std::size_t at) {
        throw ConfigError(file, position_of(text, at),
                          "the character " + code_text(code_point(text, at)) +
                              " cannot follow a backslash in a string");
    };
    const auto opens = [&](std::size_t i, char q) {
        return i + 2 < text.size() && text[i + 1] == q && text[i + 2] == q;
    };
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        switch (state) {
            case State::Normal:
                if (c == '#') {
                    state = State::Comment;
                } else if (c == '"' || c == '\'') {
                    const bool multi = opens(i, c);
                    state = c == '"' ? (multi ? State::MultiBasic : State::Basic)
                                     : (multi ? State::MultiLiteral : State::Literal);
                    if (multi) i += 2;
                }
                break;
            case State::Comment:
                if (c == '\n') state = State::Normal;
                break;
            case State::Literal:
                if (c == '\'') state = State::Normal;
                break;
            case State::MultiLiteral:
            case State::MultiBasic: {
                const char q = state == State::MultiBasic ? '"' : '\'';
                if (c == q && opens(i, q)) {
                    // Up to two more quotes belong to the content.
                    std::size_t end = i + 3;
                    while (end < text.size() && text[end] == q && end < i + 5) ++end;
                    i = end - 1;
                    state = State::Normal;
                    break;
                }
                if (state == State::MultiLiteral || c != '\\') break;
                // A line-ending backslash trims the whitespace up to the
                // next other character; toml++ tests each for whitespace.
                const auto blank = [&](std::size_t k) {
                    return text[k] == ' ' || text[k] == '\t' || text[k] == '\r' || text[k] == '\n';
                };
                std::size_t j = i + 1;
                if (j < text.size() && !is_ascii(text[j])) refuse(j);
                if (j < text.size() && blank(j)) {
                    while (j < text.size() && blank(j)) ++j;
                    if (j < text.size() && !is_ascii(text[j])) refuse(j);
                    i = j - 1;  // text[j] is read afresh: a quote, another backslash…
                } else {
                    i = j;  // the escaped character
                }
                break;
            }
            case State::Basic:
                if (c == '\\' && i + 1 < text.size()) {
                    if (!is_ascii(text[i + 1])) refuse(i + 1);
                    ++i;
                } else if (c == '"') {
                    state = State::Normal;
                }
                break;
        }
    }
}

}  // namespace sv
