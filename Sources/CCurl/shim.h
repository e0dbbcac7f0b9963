#ifndef STOCKYARD_CCURL_SHIM_H
#define STOCKYARD_CCURL_SHIM_H
#include <curl/curl.h>
#endif
