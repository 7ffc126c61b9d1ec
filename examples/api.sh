#!/bin/bash
# examples/api.sh: a stand-in HTTP API for supervisor.toml.example.
#
# Serves HTTP/1.0 on 127.0.0.1:$API_PORT with Perl (perl-base is Essential
# in Debian, see db.sh):
#   GET /ready    200 "ready"   (the readiness probe)
#   GET /healthz  200 "ok"      (the liveness probe)
#   GET /         200 a greeting and the request count
#   anything else 404
# One request per connection, handled in turn; a client that sends nothing
# is dropped after 2 seconds so it cannot wedge the loop.
set -euo pipefail

port="${API_PORT:-18080}"
echo "api: listening on http://127.0.0.1:$port/"

exec perl -e '
    use strict;
    use IO::Socket::INET;
    $| = 1;
    my ($port) = @ARGV;
    $SIG{TERM} = sub { print "api: SIGTERM, bye\n"; exit 0 };
    my $server = IO::Socket::INET->new(
        LocalAddr => "127.0.0.1", LocalPort => $port, Listen => 64, ReuseAddr => 1)
        or die "api: cannot listen on 127.0.0.1:$port: $!\n";
    my $requests = 0;
    while (1) {
        my $client = $server->accept or next;
        eval {
            local $SIG{ALRM} = sub { die "timeout\n" };
            alarm 2;
            my $request = <$client> // "";
            while (defined(my $header = <$client>)) { last if $header =~ /^\r?\n$/ }
            alarm 0;
            my ($method, $path) = split / /, $request;
            $path //= "";
            $requests++;
            my ($status, $body) =
                $path eq "/ready"   ? ("200 OK", "ready\n") :
                $path eq "/healthz" ? ("200 OK", "ok\n") :
                $path eq "/"        ? ("200 OK", "hello from api ($requests requests)\n") :
                                      ("404 Not Found", "not found\n");
            print $client "HTTP/1.0 $status\r\nContent-Type: text/plain\r\n",
                "Content-Length: ", length($body), "\r\nConnection: close\r\n\r\n",
                ($method // "") eq "HEAD" ? "" : $body;
            print "api: $method $path -> $status\n" unless $path eq "/ready" || $path eq "/healthz";
        };
        alarm 0;
        close $client;
    }
' "$port"
