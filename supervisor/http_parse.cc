#include "http_parse.h"
// stub: to be written
