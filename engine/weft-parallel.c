/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "weft-parallel.h"

#include "weft-blas.h"

#include <pthread.h>
#include <stdint.h>

/* Waking a sleeping worker costs tens of microseconds on a loaded machine; below this much
 * work (multiply-adds, or about 8 per element for memory-bound passes) one thread is faster. */
#define MIN_WORK_PER_PART 1.0e6

typedef struct
{
  pthread_mutex_t region;    /* held by the caller that owns the workers for one region */
  pthread_mutex_t lock;      /* guards everything below */
  pthread_cond_t  wake;
  pthread_cond_t  done;
  unsigned long   generation;
  int             n_workers;
  int             pending;
  WeftParallelFn  fn;
  void           *data;
  int             n_parts;
  int             atfork_set;
  unsigned long   start_generation[WEFT_PARALLEL_MAX]; /* per worker, set before it starts */
} Pool;

static Pool pool = {
  .region = PTHREAD_MUTEX_INITIALIZER,
  .lock = PTHREAD_MUTEX_INITIALIZER,
  .wake = PTHREAD_COND_INITIALIZER,
  .done = PTHREAD_COND_INITIALIZER,
};

static void *
worker_main (void *arg)
{
  const int index = (int) (intptr_t) arg;

  pthread_mutex_lock (&pool.lock);
  unsigned long seen = pool.start_generation[index];
  for (;;)
    {
      while (pool.generation == seen)
        pthread_cond_wait (&pool.wake, &pool.lock);
      seen = pool.generation;
      WeftParallelFn fn = pool.fn;
      void *data = pool.data;
      int n = pool.n_parts;
      pthread_mutex_unlock (&pool.lock);
      if (index < n)
        fn (data, index, n);
      pthread_mutex_lock (&pool.lock);
      if (index < n && --pool.pending == 0)
        pthread_cond_signal (&pool.done);
    }
  return NULL;
}

/* A forked child has only the forking thread: it starts again without workers. */
static void
atfork_child (void)
{
  pthread_mutex_init (&pool.region, NULL);
  pthread_mutex_init (&pool.lock, NULL);
  pthread_cond_init (&pool.wake, NULL);
  pthread_cond_init (&pool.done, NULL);
  pool.n_workers = 0;
  pool.pending = 0;
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
      pthread_t thread;
      pthread_attr_t attr;
      pthread_attr_init (&attr);
      pthread_attr_setdetachstate (&attr, PTHREAD_CREATE_DETACHED);
      /* The job published after this counts as new however late the thread starts. */
      pthread_mutex_lock (&pool.lock);
      pool.start_generation[pool.n_workers + 1] = pool.generation;
      pthread_mutex_unlock (&pool.lock);
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

  pthread_mutex_lock (&pool.lock);
  pool.fn = fn;
  pool.data = data;
  pool.n_parts = n_parts;
  pool.pending = n_parts - 1;
  pool.generation++;
  pthread_cond_broadcast (&pool.wake);
  pthread_mutex_unlock (&pool.lock);

  fn (data, 0, n_parts);

  pthread_mutex_lock (&pool.lock);
  while (pool.pending > 0)
    pthread_cond_wait (&pool.done, &pool.lock);
  pthread_mutex_unlock (&pool.lock);

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
