// Linked into the -DSUPERVISOR_STATIC=ON build only (cmake/Packaging.cmake).
//
// A statically linked glibc has the "files" and "dns" NSS sources built in
// but cannot load any other (libnss_systemd, libnss_ldap, mdns...): it tries
// to dlopen them, and a static program that dlopens a module linked against
// the shared libc crashes. Debian's own /etc/nsswitch.conf says
// "passwd: files systemd", so without this a `user = "x"` missing from
// /etc/passwd made the static supervisor segfault instead of reporting
// "unknown user". __nss_configure_lookup() (glibc's interface for exactly
// this case) pins every database the supervisor uses to the built-in
// sources, whatever nsswitch.conf says; docs/deploy.md tells users.
#include <nss.h>

namespace {

struct StaticNss {
    StaticNss() {
        (void)__nss_configure_lookup("passwd", "files");
        (void)__nss_configure_lookup("group", "files");
        (void)__nss_configure_lookup("initgroups", "files");
        (void)__nss_configure_lookup("hosts", "files dns");
        (void)__nss_configure_lookup("services", "files");
        (void)__nss_configure_lookup("protocols", "files");
    }
};

// Before main(): nothing can look a name up earlier.
const StaticNss static_nss;

}  // namespace
