// Looking up who a service runs as (NSS: /etc/passwd, /etc/group, …), once
// per configuration load; the rules are core/identity.h's.
#pragma once

#include "config.h"
#include "identity.h"

namespace sv {

// `user`/`group` of one service, looked up and decided. Unknown names give
// an Identity with `error` set ("unknown user 'app'"): the service then
// fails to start with that message, while the others run.
Identity lookup_identity(const ServiceConfig& service);

}  // namespace sv
