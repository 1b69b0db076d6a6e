/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "weft-parallel.h"

#include "weft-blas.h"

#include <pthread.h>
#include <stdint.h>
#include <time.h>

/* Waking a sleeping worker costs tens of microseconds on a loaded machine; below this much
 * work (multiply-adds, or about 8 per element for memory-bound passes) one thread is faster. */
#define MIN_WORK_PER_PART 1.0e6

/* How long a worker that finished its part, and a caller waiting for the workers, watch for
 * the next event before they sleep: the regions of one training step follow each other
 * within microseconds (a layer's products, its passes, the next layer), and a worker that is
 * still watching starts at once instead of being woken through the kernel. OpenBLAS's own
 * threads spin for about 2^28 cycles; this is a few thousand times shorter. */
#define SPIN_NS 60000

/* One worker's mailbox: the caller writes a job only while the worker has none (pending
 * counts it), so the worker never sees a half-written one. */
typedef struct
{
  unsigned long   generation;   /* atomic; bumped when a job is published */
  unsigned long   start;        /* the generation when the thread was created */
  int             sleeping;     /* atomic; the worker waits on wake */
  pthread_cond_t  wake;
  WeftParallelFn  fn;
  void           *data;
  int             n_parts;
} Slot;

typedef struct
{
  pthread_mutex_t region;    /* held by the caller that owns the workers for one region */
  pthread_mutex_t lock;      /* taken only to sleep and to wake a sleeper */
  pthread_cond_t  done;
  int             pending;          /* atomic; parts not finished by workers */
  int             caller_sleeping;  /* atomic; the caller waits on done */
  int             n_workers;
  int             atfork_set;
  Slot            slot[WEFT_PARALLEL_MAX];   /* [0] unused: part 0 runs on the caller */
} Pool;

static Pool pool = {
  .region = PTHREAD_MUTEX_INITIALIZER,
  .lock = PTHREAD_MUTEX_INITIALIZER,
  .done = PTHREAD_COND_INITIALIZER,
};

static inline void
cpu_relax (void)
{
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause ();
#endif
}

static uint64_t
now_ns (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
}

static bool
differs (const void *p, unsigned long from)
{
  return __atomic_load_n ((const unsigned long *) p, __ATOMIC_ACQUIRE) != from;
}

static bool
none_left (const void *p, unsigned long unused)
{
  (void) unused;
  return __atomic_load_n ((const int *) p, __ATOMIC_ACQUIRE) <= 0;
}

/* Polls ready (p, v) for SPIN_NS: true as soon as it holds, false when the time is up. */
static bool
spin_until (bool (*ready) (const void *p, unsigned long v), const void *p, unsigned long v)
{
  uint64_t t0 = 0;
  for (unsigned i = 0;; i++)
    {
      if (ready (p, v))
        return true;
      cpu_relax ();
      if ((i & 63) == 0)
        {
          uint64_t t = now_ns ();
          if (t0 == 0)
            t0 = t;
          else if (t - t0 > SPIN_NS)
            return false;
        }
    }
}

static void *
worker_main (void *arg)
{
  const int index = (int) (intptr_t) arg;
  Slot *s = &pool.slot[index];
  unsigned long seen = s->start;

  for (;;)
    {
      if (!spin_until (differs, &s->generation, seen))
        {
          /* sleeping is set before the generation is read again, and the caller bumps the
           * generation before it reads sleeping (both sequentially consistent): one of the
           * two sees the other, so no job is missed */
          pthread_mutex_lock (&pool.lock);
          __atomic_store_n (&s->sleeping, 1, __ATOMIC_SEQ_CST);
          while (__atomic_load_n (&s->generation, __ATOMIC_SEQ_CST) == seen)
            pthread_cond_wait (&s->wake, &pool.lock);
          __atomic_store_n (&s->sleeping, 0, __ATOMIC_RELAXED);
          pthread_mutex_unlock (&pool.lock);
        }
      seen = __atomic_load_n (&s->generation, __ATOMIC_ACQUIRE);
      s->fn (s->data, index, s->n_parts);
      if (__atomic_sub_fetch (&pool.pending, 1, __ATOMIC_SEQ_CST) == 0
          && __atomic_load_n (&pool.caller_sleeping, __ATOMIC_SEQ_CST))
        {
          pthread_mutex_lock (&pool.lock);
          pthread_cond_signal (&pool.done);
          pthread_mutex_unlock (&pool.lock);
        }
    }
  return NULL;
}

/* A forked child has only the forking thread: it starts again without workers. */
static void
atfork_child (void)
{
  pthread_mutex_init (&pool.region, NULL);
  pthread_mutex_init (&pool.lock, NULL);
  pthread_cond_init (&pool.done, NULL);
  pool.n_workers = 0;
  pool.pending = 0;
  pool.caller_sleeping = 0;
}

/* Called with pool.region held; returns the number of parts the workers can take. */
static int
ensure_workers (int n_parts)
{
  if (!pool.atfork_set)
    {
      pthread_atfork (NULL, NULL, atfork_child);
      pool.atfork_set = 1;
    }
  while (pool.n_workers < n_parts - 1)
    {
      Slot *s = &pool.slot[pool.n_workers + 1];
      pthread_t thread;
      pthread_attr_t attr;
      pthread_cond_init (&s->wake, NULL);
      s->sleeping = 0;
      /* the job published after this counts as new however late the thread starts */
      s->start = s->generation;
      pthread_attr_init (&attr);
      pthread_attr_setdetachstate (&attr, PTHREAD_CREATE_DETACHED);
      int rc = pthread_create (&thread, &attr, worker_main,
                               (void *) (intptr_t) (pool.n_workers + 1));
      pthread_attr_destroy (&attr);
      if (rc != 0)
        break;
      pool.n_workers++;
    }
  return pool.n_workers + 1 < n_parts ? pool.n_workers + 1 : n_parts;
}

static void
run_serial (int n_parts, WeftParallelFn fn, void *data)
{
  for (int p = 0; p < n_parts; p++)
    fn (data, p, n_parts);
}

void
weft_parallel_run (int n_parts, WeftParallelFn fn, void *data)
{
  if (n_parts > WEFT_PARALLEL_MAX)
    n_parts = WEFT_PARALLEL_MAX;
  if (n_parts < 2 || pthread_mutex_trylock (&pool.region) != 0)
    {
      run_serial (n_parts < 1 ? 1 : n_parts, fn, data);
      return;
    }
  if (ensure_workers (n_parts) < n_parts)
    {
      /* Fewer threads than parts: the split must not change, so run it here. */
      pthread_mutex_unlock (&pool.region);
      run_serial (n_parts, fn, data);
      return;
    }

  const int blas_threads = weft_blas_get_threads ();
  if (blas_threads != 1)
    weft_blas_set_threads (1);

  __atomic_store_n (&pool.pending, n_parts - 1, __ATOMIC_RELAXED);
  for (int p = 1; p < n_parts; p++)
    {
      Slot *s = &pool.slot[p];
      s->fn = fn;
      s->data = data;
      s->n_parts = n_parts;
      __atomic_add_fetch (&s->generation, 1, __ATOMIC_SEQ_CST);
      if (__atomic_load_n (&s->sleeping, __ATOMIC_SEQ_CST))
        {
          pthread_mutex_lock (&pool.lock);
          pthread_cond_signal (&s->wake);
          pthread_mutex_unlock (&pool.lock);
        }
    }

  fn (data, 0, n_parts);

  if (!spin_until (none_left, &pool.pending, 0))
    {
      pthread_mutex_lock (&pool.lock);
      __atomic_store_n (&pool.caller_sleeping, 1, __ATOMIC_SEQ_CST);
      while (__atomic_load_n (&pool.pending, __ATOMIC_SEQ_CST) > 0)
        pthread_cond_wait (&pool.done, &pool.lock);
      __atomic_store_n (&pool.caller_sleeping, 0, __ATOMIC_RELAXED);
      pthread_mutex_unlock (&pool.lock);
    }
  /* the workers' writes are visible here: pending was read as 0 with acquire (spinning) or
   * under the lock (after sleeping), after their releasing decrements */

  if (blas_threads != 1)
    weft_blas_set_threads (blas_threads);
  pthread_mutex_unlock (&pool.region);
}

int
weft_parallel_parts (int threads, double work)
{
  if (threads < 2)
    return 1;
  if (threads > WEFT_PARALLEL_MAX)
    threads = WEFT_PARALLEL_MAX;
  int n = (int) (work / MIN_WORK_PER_PART);
  if (n < 1)
    n = 1;
  return n < threads ? n : threads;
}
