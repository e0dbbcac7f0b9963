#ifndef STOCKYARD_PREFETCH_H
#define STOCKYARD_PREFETCH_H

/// Starts loading the cache line holding `address` for reading, without waiting for it.
/// The ledger uses it to fetch the table slots of events a few places ahead in a batch, so that
/// the cache misses of several events overlap instead of queueing one after another.
static inline void stockyard_prefetch(const void *address) {
    __builtin_prefetch(address, 0, 3);
}

#endif
