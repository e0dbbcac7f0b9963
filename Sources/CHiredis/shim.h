#ifndef STOCKYARD_CHIREDIS_SHIM_H
#define STOCKYARD_CHIREDIS_SHIM_H
#include <hiredis/hiredis.h>
#endif
