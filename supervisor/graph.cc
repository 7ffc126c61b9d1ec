#include "graph.h"
// stub: to be written
