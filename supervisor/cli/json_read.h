// Reading our own /status document back, for `supervisor status`.
//
// A small hand-written recursive-descent JSON reader: no JSON library is in
// our dependency list (Debian packages only: libev, toml++, GoogleTest), and
// the one document it must read is our own, so a few hundred lines beat a
// new dependency. It still accepts any valid JSON (nesting bounded, so
// hostile input cannot exhaust the stack), because `supervisor status` may
// talk to a newer supervisor that adds fields.
#pragma once

#include <optional>
#include <string>

#include "snapshot.h"

namespace sv {

// Parses the /status JSON into a Snapshot. Returns nullopt on malformed
// input or a field of the wrong type; unknown fields are ignored.
std::optional<Snapshot> parse_status_json(const std::string& json);

}  // namespace sv
