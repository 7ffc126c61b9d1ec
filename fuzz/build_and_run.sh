#!/bin/sh
# Builds a libFuzzer target with Debian's clang (libFuzzer, ASan, UBSan)
# straight from the core's sources and runs it for a bounded time.
#   fuzz/build_and_run.sh [http|config|control|ring] [SECONDS]   (default: http, 30)
#   http     the HTTP request parser (core/http_parse.cc)
#   config   the configuration loader, graph and check report (core/)
#   control  the control socket's protocol (core/control_protocol.cc)
#   ring     service output: the line splitter and the in-memory log rings
#            against simple models (core/line_buffer.cc, core/log_ring.cc)
# Needs: clang (Debian's clang-14 or later ships libFuzzer) and, for config,
# libtomlplusplus-dev. Exit status is libFuzzer's: 0 when no crash was found.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
case "${1:-http}" in
    http|config|control|ring) target=${1:-http}; shift 2>/dev/null || true ;;
    *) target=http ;;
esac
seconds=${1:-30}
out=${FUZZ_OUT:-$root/build-fuzz}
mkdir -p "$out/corpus_$target"
CXX=${CXX:-clang++}
flags="-std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined"
if [ "$target" = http ]; then
    # shellcheck disable=SC2086
    "$CXX" $flags -I"$root/supervisor/core" "$here/http_parse_fuzz.cc" \
        "$root/supervisor/core/http_parse.cc" -o "$out/http_parse_fuzz"
    binary=$out/http_parse_fuzz
    max_len=9000
elif [ "$target" = ring ]; then
    # shellcheck disable=SC2086
    "$CXX" $flags -I"$root/supervisor/core" "$here/log_ring_fuzz.cc" \
        "$root/supervisor/core/line_buffer.cc" "$root/supervisor/core/log_ring.cc" \
        -o "$out/log_ring_fuzz"
    binary=$out/log_ring_fuzz
    max_len=65536
elif [ "$target" = control ]; then
    # shellcheck disable=SC2086
    "$CXX" $flags -I"$root/supervisor/core" "$here/control_fuzz.cc" \
        "$root/supervisor/core/control_protocol.cc" "$root/supervisor/core/suggest.cc" \
        -o "$out/control_fuzz"
    binary=$out/control_fuzz
    max_len=70000
else
    # The whole pure core: the loader pulls in most of it, and it is small.
    # shellcheck disable=SC2086
    "$CXX" $flags -I"$root/supervisor/core" "$here/config_fuzz.cc" \
        "$root"/supervisor/core/*.cc -o "$out/config_fuzz"
    binary=$out/config_fuzz
    max_len=4096
fi
# New inputs go to the scratch corpus in the build dir; the seeds in
# fuzz/corpus_* stay as checked in.
exec "$binary" -max_total_time="$seconds" -max_len=$max_len -timeout=10 \
    -artifact_prefix="$out/$target-" "$out/corpus_$target" "$here/corpus_$target"
