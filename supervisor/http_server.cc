#include "http_server.h"
// stub: to be written
