#ifndef STOCKYARD_CURL_H
#define STOCKYARD_CURL_H

#include <curl/curl.h>
#include <stddef.h>

/// Typed wrappers around the variadic `curl_easy_setopt` and `curl_easy_getinfo`,
/// which Swift cannot call directly.

typedef size_t (*stockyard_curl_data_callback)(char *ptr, size_t size, size_t nmemb, void *userdata);

CURLcode stockyard_curl_setopt_long(CURL *handle, CURLoption option, long value);
CURLcode stockyard_curl_setopt_string(CURL *handle, CURLoption option, const char *value);
CURLcode stockyard_curl_setopt_pointer(CURL *handle, CURLoption option, void *value);
CURLcode stockyard_curl_setopt_slist(CURL *handle, CURLoption option, struct curl_slist *value);
CURLcode stockyard_curl_setopt_data_callback(CURL *handle, CURLoption option, stockyard_curl_data_callback callback);
CURLcode stockyard_curl_setopt_postfields(CURL *handle, const void *data, long length);

CURLcode stockyard_curl_getinfo_long(CURL *handle, CURLINFO info, long *value);
CURLcode stockyard_curl_getinfo_double(CURL *handle, CURLINFO info, double *value);

#endif
