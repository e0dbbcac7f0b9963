#include "stockyard_redis.h"

#include <stdio.h>
#include <string.h>

// Every object the summary functions make is this one byte: hiredis only needs a non-NULL
// pointer, and there is nothing to free.
static char summary_object;

static stockyard_reply_summary *summary_of(const redisReadTask *task) {
    while (task->parent != NULL) task = task->parent;
    return (stockyard_reply_summary *)task->privdata;
}

static void *create_string(const redisReadTask *task, char *text, size_t length) {
    stockyard_reply_summary *summary = summary_of(task);
    if (task->parent == NULL) summary->type = task->type;
    if (task->type == REDIS_REPLY_ERROR) {
        if (summary->errors == 0) {
            size_t kept = length < sizeof(summary->error) - 1 ? length : sizeof(summary->error) - 1;
            memcpy(summary->error, text, kept);
            summary->error[kept] = 0;
            summary->error_length = kept;
        }
        summary->errors += 1;
    }
    return &summary_object;
}

static void *create_array(const redisReadTask *task, int elements) {
    stockyard_reply_summary *summary = summary_of(task);
    if (task->parent == NULL) {
        summary->type = REDIS_REPLY_ARRAY;
        summary->elements = elements;
    }
    return &summary_object;
}

static void *create_integer(const redisReadTask *task, long long value) {
    (void)value;
    stockyard_reply_summary *summary = summary_of(task);
    if (task->parent == NULL) summary->type = REDIS_REPLY_INTEGER;
    return &summary_object;
}

static void *create_nil(const redisReadTask *task) {
    stockyard_reply_summary *summary = summary_of(task);
    if (task->parent == NULL) summary->type = REDIS_REPLY_NIL;
    return &summary_object;
}

static void free_object(void *object) { (void)object; }

static redisReplyObjectFunctions summary_functions = {
    create_string, create_array, create_integer, create_nil, free_object,
};

int stockyard_redis_read_summary(redisContext *context, stockyard_reply_summary *summary) {
    summary->type = -1;
    summary->elements = 0;
    summary->errors = 0;
    summary->error_length = 0;
    summary->error[0] = 0;
    redisReader *reader = context->reader;
    // Replies are read whole, so no reply built with the usual functions is half done here;
    // should one be, read it the usual way rather than mix the two kinds of objects.
    if (reader->ridx != -1) {
        context->err = REDIS_ERR_OTHER;
        snprintf(context->errstr, sizeof(context->errstr), "a reply is half read");
        return REDIS_ERR;
    }
    redisReplyObjectFunctions *functions = reader->fn;
    void *privdata = reader->privdata;
    reader->fn = &summary_functions;
    reader->privdata = summary;
    void *reply = NULL;
    int status = redisGetReply(context, &reply);
    // Nothing the summary functions made may outlive this call: it is not a reply object.
    reader->reply = NULL;
    reader->fn = functions;
    reader->privdata = privdata;
    return status;
}
