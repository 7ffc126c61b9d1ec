// Name service set-up: what must happen before the first user, group or host
// name lookup through glibc (getpwnam, getgrnam, getgrouplist, getaddrinfo).
//
// A statically linked glibc has the "files" and "dns" NSS sources built in
// but cannot load any other (libnss_systemd, libnss_ldap, mdns...): it tries
// to dlopen them, and a static program that dlopens a module linked against
// the shared libc crashes. So the static build pins every database the
// supervisor uses to the built-in sources, whatever /etc/nsswitch.conf says
// (docs/deploy.md tells users). The dynamic build loads modules normally and
// needs nothing.
//
// It is done on first use rather than in a static constructor: pinning reads
// /etc/nsswitch.conf, and a supervisor that never looks a name up (tini's job:
// `run -- cmd`) should not pay for it before its child starts.
#pragma once

namespace sv {

// Idempotent and cheap after the first call; call it before every NSS lookup.
void prepare_name_service();

}  // namespace sv
