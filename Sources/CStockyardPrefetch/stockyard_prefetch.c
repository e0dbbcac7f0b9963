// The module is header-only; SwiftPM needs one source file to build it.
#include "stockyard_prefetch.h"
