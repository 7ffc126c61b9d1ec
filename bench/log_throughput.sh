#!/bin/bash
# Log throughput: one service writing 1 GiB (LOG_BYTES) of 80-byte lines,
#   baseline: linewriter | cat > /dev/null
#   inherit:  supervisor run (log = "inherit") | cat > /dev/null
#   prefix:   supervisor run (log = "prefix")  | cat > /dev/null
# interleaved run by run (ROUNDS, default 3), then a Markdown table of MB/s
# (median, min-max) and the ratios against the baseline. Every run is bounded
# by a timeout. Usage: bench/log_throughput.sh [PATH/TO/supervisor]
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(realpath "${1:-build-bench/supervisor}")
bytes=${LOG_BYTES:-1073741824}
rounds=${ROUNDS:-3}
[ -x "$bin" ] || { echo "no supervisor binary at $bin (build: cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DSUPERVISOR_TESTS=OFF && make -C build-bench supervisor_bin)" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cc -O2 -o "$work/linewriter" bench/linewriter.c
for mode in prefix inherit; do
    cat > "$work/$mode.toml" <<TOML
[supervisor]
health_listen = ""
[services.writer]
command = ["$work/linewriter", "$bytes"]
log = "$mode"
TOML
done

run_one() {  # prints seconds
    local start end
    start=$(date +%s.%N)
    case "$1" in
        baseline) timeout 300 "$work/linewriter" "$bytes" | cat > /dev/null ;;
        *) timeout 300 "$bin" run -c "$work/$1.toml" 2>/dev/null | cat > /dev/null ;;
    esac
    end=$(date +%s.%N)
    echo "$end - $start" | bc -l
}

declare -A results
for ((r = 1; r <= rounds; r++)); do
    for mode in baseline inherit prefix; do
        results[$mode]+="$(run_one $mode) "
    done
done

mb=$(echo "$bytes / 1000000" | bc -l)
python3 - "$mb" "${results[baseline]}" "${results[inherit]}" "${results[prefix]}" <<'PY'
import statistics, sys
mb = float(sys.argv[1])
names = ["baseline: writer into cat", "inherit", "prefix"]
rates = [[mb / float(t) for t in arg.split()] for arg in sys.argv[2:]]
base = statistics.median(rates[0])
print(f"| mode | MB/s median (min–max) | vs baseline |")
print(f"| --- | --- | --- |")
for name, r in zip(names, rates):
    m = statistics.median(r)
    print(f"| {name} | {m:.0f} ({min(r):.0f}–{max(r):.0f}) | {m / base:.2f} |")
PY
