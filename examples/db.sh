#!/bin/bash
# examples/db.sh: a stand-in database for supervisor.toml.example.
#
# A tiny line-oriented TCP server on 127.0.0.1:$DB_PORT: every line a client
# sends is appended to $DB_DIR/journal and answered with "OK <count>".
# bash cannot listen on a socket, so the server is a few lines of Perl:
# perl-base is "Essential: yes" in Debian, present on every installation,
# including the debian:12 container image. Readiness is the TCP port itself
# ([services.db.ready] tcp = ...).
set -euo pipefail

port="${DB_PORT:-15432}"
dir="${DB_DIR:-/tmp/supervisor-example}"
mkdir -p "$dir"
echo "db: listening on 127.0.0.1:$port, journal in $dir/journal"

# exec: perl becomes the service's process and gets its stop signal directly.
exec perl -e '
    use strict;
    use IO::Socket::INET;
    $| = 1;
    my ($port, $journal) = @ARGV;
    # SIGTERM is the stop signal: leave cleanly with status 0.
    $SIG{TERM} = sub { print "db: SIGTERM, closing the journal\n"; exit 0 };
    my $server = IO::Socket::INET->new(
        LocalAddr => "127.0.0.1", LocalPort => $port, Listen => 16, ReuseAddr => 1)
        or die "db: cannot listen on 127.0.0.1:$port: $!\n";
    my $count = 0;
    while (1) {
        my $client = $server->accept or next;   # probes connect and close: fine
        while (defined(my $line = <$client>)) {
            chomp $line;
            open(my $fh, ">>", $journal) or die "db: $journal: $!\n";
            print $fh "$line\n";
            close $fh;
            $count++;
            print "db: stored \"$line\" (#$count)\n";
            print $client "OK $count\n";
        }
        close $client;
    }
' "$port" "$dir/journal"
