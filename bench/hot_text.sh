#!/bin/sh
# bench/hot_text.sh: regenerate cmake/hot-text.ld, the list of the code a
# running supervisor executes (see bench/hot_text.py for why).
#
# Builds the static MinSizeRel binary and the Release one, each without the
# list and with a linker map, runs each under callgrind through what a
# supervisor does in its life (one command stopped with SIGTERM; one command
# that ends by itself; a configuration of services with output on both
# streams, a dependency, a readiness probe, the HTTP endpoint and the control
# socket, then SIGTERM), and writes the list from the functions run.
# Needs valgrind and python3. Build folders: build-hot-static, build-hot-release.
set -eu
SRC=$(cd "$(dirname "$0")/.." && pwd)
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT

# Waits until process $1 has a child named $2, at most 60 s.
wait_child() {
  i=0
  until pgrep -P "$1" -x "$2" >/dev/null 2>&1; do
    i=$((i + 1))
    [ $i -lt 600 ] || { echo "hot_text: no $2 under $1" >&2; exit 1; }
    sleep 0.1
  done
}

# profile NAME BUILD_DIR: the three lives of the binary in BUILD_DIR, as
# $W/NAME-{one,exit,stack}.out (callgrind's pid is the supervisor's).
profile() {
  name=$1 bin=$2/supervisor
  cg="valgrind --tool=callgrind --demangle=no"
  $cg --callgrind-out-file="$W/$name-one.out" "$bin" run -- /bin/sleep 120 >/dev/null 2>&1 &
  vg=$!
  wait_child $vg sleep
  kill -TERM $vg
  wait $vg || true

  $cg --callgrind-out-file="$W/$name-exit.out" "$bin" run -- /bin/true >/dev/null 2>&1

  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  cat >"$W/stack.toml" <<CONF
[supervisor]
health_listen = "127.0.0.1:$port"
control_socket = "$W/control.sock"

[services.db]
command = ["/bin/sh", "-c", "echo db up; echo db warn >&2; exec sleep 120"]
ready = { exec = ["/bin/true"] }

[services.api]
command = ["/bin/sleep", "120"]
depends_on = ["db"]
CONF
  $cg --callgrind-out-file="$W/$name-stack.out" "$bin" run -c "$W/stack.toml" >/dev/null 2>&1 &
  vg=$!
  i=0
  until "$bin" wait --socket "$W/control.sock" --timeout 1s api >/dev/null 2>&1; do
    i=$((i + 1))
    [ $i -lt 120 ] || { echo "hot_text: the stack did not come up" >&2; exit 1; }
    sleep 0.5
  done
  for path in /livez /readyz /healthz "/readyz?verbose" /status /metrics; do
    python3 -c "import urllib.request,sys; urllib.request.urlopen(sys.argv[1], timeout=10).read()" \
      "http://127.0.0.1:$port$path" >/dev/null 2>&1 || true
  done
  "$bin" status --socket "$W/control.sock" >/dev/null
  kill -TERM $vg
  wait $vg || true
}

for kind in static release; do
  B=$SRC/build-hot-$kind
  if [ $kind = static ]; then
    opts="-DCMAKE_BUILD_TYPE=MinSizeRel -DSUPERVISOR_STATIC=ON"
  else
    opts="-DCMAKE_BUILD_TYPE=Release"
  fi
  # shellcheck disable=SC2086
  cmake -S "$SRC" -B "$B" $opts -DSUPERVISOR_TESTS=OFF -DSUPERVISOR_HOT_TEXT=OFF \
    -DSUPERVISOR_LINK_MAP=ON -DCMAKE_EXPORT_COMPILE_COMMANDS=ON >/dev/null
  flock "$SRC/build/.build.lock" cmake --build "$B" -j2 --target supervisor_bin
  profile $kind "$B"
done

# The child side of a spawn runs in a process Valgrind does not follow: every
# function of os/child.cc is taken, named from an object compiled without LTO.
python3 - "$SRC/build-hot-static/compile_commands.json" "$W/child.o" <<'PY'
import json, shlex, subprocess, sys
for c in json.load(open(sys.argv[1])):
    if c["file"].endswith("/os/child.cc"):
        argv = shlex.split(c["command"])
        argv[argv.index("-o") + 1] = sys.argv[2]
        subprocess.run(argv + ["-fno-lto"], cwd=c["directory"], check=True)
PY
python3 "$SRC/bench/hot_text.py" "$SRC/cmake/hot-text.ld" --object "$W/child.o" \
  --build "$SRC/build-hot-static/supervisor" "$SRC/build-hot-static/supervisor.map" \
  "$W/static-one.out" "$W/static-exit.out" "$W/static-stack.out" \
  --build "$SRC/build-hot-release/supervisor" "$SRC/build-hot-release/supervisor.map" \
  "$W/release-one.out" "$W/release-exit.out" "$W/release-stack.out"
