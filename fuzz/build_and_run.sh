#!/bin/sh
# Builds the parse_request fuzzer with Debian's clang (libFuzzer, ASan,
# UBSan) straight from supervisor/core/http_parse.cc and runs it for a bounded
# time. Usage: fuzz/build_and_run.sh [SECONDS]   (default 30)
# Needs: clang (Debian's clang-14 or later ships libFuzzer). Exit status is
# libFuzzer's: 0 when no crash was found.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
seconds=${1:-30}
out=${FUZZ_OUT:-$root/build-fuzz}
mkdir -p "$out/corpus"
CXX=${CXX:-clang++}
"$CXX" -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
    -I"$root/supervisor/core" "$here/http_parse_fuzz.cc" "$root/supervisor/core/http_parse.cc" \
    -o "$out/http_parse_fuzz"
# New inputs go to the scratch corpus in the build dir; the seeds in
# fuzz/corpus stay as checked in.
exec "$out/http_parse_fuzz" -max_total_time="$seconds" -max_len=9000 -timeout=10 \
    -artifact_prefix="$out/" "$out/corpus" "$here/corpus"
