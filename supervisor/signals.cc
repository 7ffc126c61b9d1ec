#include "signals.h"
// stub: to be written
