#!/bin/bash
# examples/worker.sh: a background worker for supervisor.toml.example.
#
# Every few seconds it "processes a job" by writing a line to the db.
# On SIGTERM it finishes the job in hand, then exits 0: that is what its
# longer stop_grace in the example pays for. `sleep & wait` instead of a
# plain `sleep` lets bash run the trap at once instead of after the sleep.
set -uo pipefail

port="${DB_PORT:-15432}"
interval="${WORKER_INTERVAL:-5}"
stopping=0
trap 'stopping=1; echo "worker: SIGTERM, finishing the current job"' TERM

job=0
while (( ! stopping )); do
    job=$((job + 1))
    # The braces scope 2>/dev/null to the connect; fd 3 stays open after it.
    if { exec 3<>"/dev/tcp/127.0.0.1/$port"; } 2>/dev/null; then
        echo "JOB $job done" >&3
        read -r -t 5 reply <&3 || reply="(no answer)"
        exec 3>&-
        echo "worker: job $job stored: $reply"
    else
        echo "worker: db unreachable, will retry" >&2
    fi
    sleep "$interval" &
    wait $! || true
done
echo "worker: stopped after $job jobs"
exit 0
