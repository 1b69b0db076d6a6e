/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "weft-blas.h"

#include <cblas.h>
#include <stddef.h>

/* OpenBLAS extensions; declared here so that the engine also builds against other CBLAS
 * implementations' headers that lack them (cblas.h of OpenBLAS declares them too). */
extern char *openblas_get_corename (void);
extern void  openblas_set_num_threads (int num_threads);
extern int   openblas_get_num_threads (void);

/* 0 = not set yet: OpenBLAS starts with one thread per CPU, so the first call must reach it */
static int blas_threads = 0;

void
weft_sgemm (bool trans_a, bool trans_b, int m, int n, int k,
            float alpha, const float *a, int lda, const float *b, int ldb,
            float beta, float *c, int ldc)
{
  if (m <= 0 || n <= 0)
    return;
  cblas_sgemm (CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
               trans_b ? CblasTrans : CblasNoTrans, m, n, k, alpha, a, lda, b, ldb,
               beta, c, ldc);
}

void
weft_blas_set_threads (int threads)
{
  if (threads < 1)
    threads = 1;
  if (threads != blas_threads)
    openblas_set_num_threads (threads);
  blas_threads = threads;
}

int
weft_blas_get_threads (void)
{
  return blas_threads > 0 ? blas_threads : 1;
}

const char *
weft_blas_core_name (void)
{
  const char *name = openblas_get_corename ();
  return name != NULL ? name : "unknown";
}

const char *
weft_blas_best_core (void)
{
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init ();
  if (__builtin_cpu_supports ("avx512f") && __builtin_cpu_supports ("avx512bw")
      && __builtin_cpu_supports ("avx512vl") && __builtin_cpu_supports ("avx512dq"))
    return "SkylakeX";
  if (__builtin_cpu_supports ("avx2") && __builtin_cpu_supports ("fma"))
    return "Haswell";
  if (__builtin_cpu_supports ("avx"))
    return "Sandybridge";
  return NULL;
#else
  return NULL;
#endif
}
