#include "line_buffer.h"
// stub: to be written
