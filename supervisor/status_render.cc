#include "status_render.h"
// stub: to be written
