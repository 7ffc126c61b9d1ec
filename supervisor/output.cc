#include "output.h"
// stub: to be written
