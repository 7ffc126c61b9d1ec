#include "duration.h"
// stub: to be written
