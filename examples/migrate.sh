#!/bin/bash
# examples/migrate.sh: a oneshot for supervisor.toml.example.
#
# Runs once the db is ready, writes one "migration" through bash's
# /dev/tcp client, and exits 0; the api (which depends on it) starts only
# after that. Exiting non-zero would fail the start, as a real migration
# should.
set -euo pipefail

port="${DB_PORT:-15432}"
exec 3<>"/dev/tcp/127.0.0.1/$port"
echo "MIGRATE 001_create_tables" >&3
read -r -t 5 reply <&3
exec 3>&-
echo "migrate: db answered '$reply'"
[[ $reply == OK* ]]
