/* SPDX-License-Identifier: GPL-3.0-or-later */
/* weft-parallel.h: splits one op's work over a few threads. The ops call it for the work that
 * OpenBLAS cannot thread for them (im2col, col2im, bias and activation passes, pooling) by
 * giving each thread a fixed part of the batch, GEMMs included, so one parallel region covers
 * a whole op. Plain pthreads; nothing here knows GLib. */
#pragma once

#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

#define WEFT_PARALLEL_MAX 8

/* One part of a region: part is in [0, n_parts). */
typedef void (*WeftParallelFn) (void *data, int part, int n_parts);

/* Runs fn (data, p, n_parts) for every p in [0, n_parts) and returns when all have finished.
 * Part 0 runs on the calling thread, the others on persistent worker threads (created on
 * first use, at most WEFT_PARALLEL_MAX - 1). While a region runs, BLAS calls use one thread
 * each, and the previous BLAS thread count is restored afterwards. When n_parts < 2, or
 * another thread's region holds the workers, the parts run one after the other on the
 * caller: a part's work must depend only on (p, n_parts), so results are identical either
 * way. Never call it from inside a part. */
void weft_parallel_run (int n_parts, WeftParallelFn fn, void *data);

/* [*begin, *end) of [0, n) that part p of n_parts takes: contiguous, sizes differ by <= 1. */
static inline void
weft_parallel_range (long n, int part, int n_parts, long *begin, long *end)
{
  long q = n / n_parts, r = n % n_parts;
  *begin = part * q + (part < r ? part : r);
  *end = *begin + q + (part < r ? 1 : 0);
}

/* Parts worth using for `work` multiply-adds (or element touches) at `threads`: 1 when the
 * work is too small to pay for waking a thread. */
int  weft_parallel_parts (int threads, double work);

#ifdef __cplusplus
}
#endif
