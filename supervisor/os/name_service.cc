// Name service set-up: see name_service.h. SUPERVISOR_STATIC_NSS is defined
// for the -DSUPERVISOR_STATIC=ON build only (cmake/Packaging.cmake).
#include "name_service.h"

#ifdef SUPERVISOR_STATIC_NSS
#include <nss.h>
#endif

namespace sv {

void prepare_name_service() {
#ifdef SUPERVISOR_STATIC_NSS
    // Without this, Debian's "passwd: files systemd" made a static supervisor
    // segfault on a `user` missing from /etc/passwd instead of reporting
    // "unknown user". __nss_configure_lookup() is glibc's interface for
    // exactly this case. The loop is single-threaded: a plain flag is enough.
    static bool done = false;
    if (done) return;
    done = true;
    (void)__nss_configure_lookup("passwd", "files");
    (void)__nss_configure_lookup("group", "files");
    (void)__nss_configure_lookup("initgroups", "files");
    (void)__nss_configure_lookup("hosts", "files dns");
    (void)__nss_configure_lookup("services", "files");
    (void)__nss_configure_lookup("protocols", "files");
#endif
}

}  // namespace sv
