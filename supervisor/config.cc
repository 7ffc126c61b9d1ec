#include "config.h"
// stub: to be written
