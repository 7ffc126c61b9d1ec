// The compose `.env` format: see env_file.h.
#include "env_file.h"

#include "config.h"

namespace sv {

namespace {

bool blank(char c) {
    return c == ' ' || c == '\t';
}

class LineParser {
  public:
    LineParser(std::string_view line, int number, const std::string& file)
        : l_(line), number_(number), file_(file) {}

    // False for a blank or comment line.
    bool parse(std::string& key, std::string& value) {
        skip_blanks();
        if (i_ == l_.size() || l_[i_] == '#') return false;
        if (l_.substr(i_, 7) == "export " || l_.substr(i_, 7) == "export\t") {
            i_ += 7;
            skip_blanks();
        }
        const std::size_t start = i_;
        while (i_ < l_.size() && l_[i_] != '=' && !blank(l_[i_])) ++i_;
        key = std::string(l_.substr(start, i_ - start));
        if (key.empty()) fail(start, "expected KEY=VALUE");
        for (char c : key)
            if (static_cast<unsigned char>(c) < 0x20) fail(start, "invalid variable name");
        skip_blanks();
        if (i_ == l_.size() || l_[i_] != '=')
            fail(i_, "expected '=' after '" + key + "' (KEY=VALUE)");
        ++i_;
        skip_blanks();
        value.clear();
        if (i_ < l_.size() && l_[i_] == '\'') {
            const std::size_t close = l_.find('\'', i_ + 1);
            if (close == std::string_view::npos) fail(i_, "unterminated single quote");
            value = std::string(l_.substr(i_ + 1, close - i_ - 1));
            i_ = close + 1;
            rest_is_comment();
        } else if (i_ < l_.size() && l_[i_] == '"') {
            const std::size_t open = i_++;
            for (;; ++i_) {
                if (i_ == l_.size()) fail(open, "unterminated double quote");
                const char c = l_[i_];
                if (c == '"') break;
                if (c != '\\') {
                    value += c;
                    continue;
                }
                if (++i_ == l_.size()) fail(open, "unterminated double quote");
                switch (l_[i_]) {
                    case 'n':
                        value += '\n';
                        break;
                    case 't':
                        value += '\t';
                        break;
                    case '"':
                    case '\\':
                    case '$':
                        value += l_[i_];
                        break;
                    default:
                        // As compose: an unknown escape keeps its backslash.
                        value += '\\';
                        value += l_[i_];
                }
            }
            ++i_;
            rest_is_comment();
        } else {
            // Unquoted: up to a " #" comment, blanks trimmed.
            std::size_t end = l_.size();
            for (std::size_t k = i_; k < l_.size(); ++k)
                if (l_[k] == '#' && k > i_ && blank(l_[k - 1])) {
                    end = k;
                    break;
                }
            while (end > i_ && blank(l_[end - 1])) --end;
            value = std::string(l_.substr(i_, end - i_));
        }
        return true;
    }

  private:
    void skip_blanks() {
        while (i_ < l_.size() && blank(l_[i_])) ++i_;
    }
    void rest_is_comment() {
        skip_blanks();
        if (i_ < l_.size() && l_[i_] != '#') fail(i_, "unexpected text after the quoted value");
    }
    [[noreturn]] void fail(std::size_t at, const std::string& message) const {
        throw ConfigError(file_, {number_, static_cast<int>(at) + 1}, message);
    }

    std::string_view l_;
    int number_;
    const std::string& file_;
    std::size_t i_ = 0;
};

}  // namespace

std::vector<std::pair<std::string, std::string>> parse_env_file(std::string_view text,
                                                                const std::string& file) {
    std::vector<std::pair<std::string, std::string>> out;
    int number = 0;
    while (!text.empty()) {
        const std::size_t nl = text.find('\n');
        std::string_view line = text.substr(0, nl);
        text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
        ++number;
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        std::string key, value;
        if (LineParser(line, number, file).parse(key, value))
            out.emplace_back(std::move(key), std::move(value));
    }
    return out;
}

}  // namespace sv
