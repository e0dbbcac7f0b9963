#ifndef STOCKYARD_REDIS_H
#define STOCKYARD_REDIS_H

#include <hiredis/hiredis.h>
#include <stddef.h>

/// What one reply came to, read without building hiredis reply objects: for replies that are
/// only checked, such as the `+QUEUED` and `EXEC` replies of a transaction.
typedef struct stockyard_reply_summary {
    /// `REDIS_REPLY_*` of the reply itself.
    int type;
    /// Elements of an array reply.
    long long elements;
    /// Error replies in it: the reply itself, or elements of an array.
    int errors;
    /// The first error's text (cut to fit), and its length.
    size_t error_length;
    char error[256];
} stockyard_reply_summary;

/// Reads the next reply on a blocking context into `summary`. Returns `REDIS_OK`, or
/// `REDIS_ERR` with the context's `err` and `errstr` set, as `redisGetReply` does. The
/// context's reply functions are the usual ones again when it returns.
int stockyard_redis_read_summary(redisContext *context, stockyard_reply_summary *summary);

#endif
