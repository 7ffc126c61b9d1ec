#include "probes.h"
// stub: to be written
