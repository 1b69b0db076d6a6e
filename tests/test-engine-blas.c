/* SPDX-License-Identifier: GPL-3.0-or-later */
/* weft_sgemm against a double-precision reference over random shapes, layouts, padded
 * leading dimensions, alpha and beta: the small-product kernel, its packing of B and the
 * hand-over to OpenBLAS must all give the same products. */
#include <glib.h>
#include <math.h>
#include <stdint.h>

#include "weft-blas.h"

#define SGEMM_TOL 1e-4   /* absolute, for sums of up to ~300 products of values in [-0.5, 0.5] */

static void
reference (bool ta, bool tb, int m, int n, int k, float alpha, const float *a, int lda,
           const float *b, int ldb, float beta, float *c, int ldc)
{
  for (int i = 0; i < m; i++)
    for (int j = 0; j < n; j++)
      {
        double s = 0;
        for (int p = 0; p < k; p++)
          s += (double) (ta ? a[(size_t) p * lda + i] : a[(size_t) i * lda + p])
               * (tb ? b[(size_t) j * ldb + p] : b[(size_t) p * ldb + j]);
        float *cij = &c[(size_t) i * ldc + j];
        *cij = (float) (alpha * s + (beta != 0.0f ? (double) beta * *cij : 0.0));
      }
}

/* Random shapes up to max_m x max_n x max_k with at least min_macs multiply-adds. */
static void
check_shapes_from (int64_t min_macs, int max_m, int max_n, int max_k, int cases)
{
  GRand *rng = g_rand_new_with_seed (3);
  const float betas[3] = { 0.0f, 1.0f, 0.25f };
  for (int t = 0; t < cases; t++)
    {
      int m = g_rand_int_range (rng, 1, max_m + 1), n = g_rand_int_range (rng, 1, max_n + 1);
      int k = g_rand_int_range (rng, 1, max_k + 1);
      if ((int64_t) m * n * k < min_macs)
        {
          t--;
          continue;
        }
      bool ta = g_rand_boolean (rng), tb = g_rand_boolean (rng);
      int lda = (ta ? m : k) + g_rand_int_range (rng, 0, 5);
      int ldb = (tb ? k : n) + g_rand_int_range (rng, 0, 5);
      int ldc = n + g_rand_int_range (rng, 0, 5);
      float alpha = g_rand_int_range (rng, 0, 3) == 0 ? 0.5f : 1.0f;
      float beta = betas[g_rand_int_range (rng, 0, 3)];
      size_t na = (size_t) (ta ? k : m) * lda, nb = (size_t) (tb ? n : k) * ldb;
      size_t nc = (size_t) m * ldc;
      float *a = g_new (float, na), *b = g_new (float, nb);
      float *c = g_new (float, nc), *want = g_new (float, nc);
      for (size_t i = 0; i < na; i++)
        a[i] = (float) g_rand_double_range (rng, -0.5, 0.5);
      for (size_t i = 0; i < nb; i++)
        b[i] = (float) g_rand_double_range (rng, -0.5, 0.5);
      for (size_t i = 0; i < nc; i++)
        c[i] = want[i] = (float) g_rand_double_range (rng, -0.5, 0.5);
      /* beta 0 must not read C (gradients assigned by their first writer hold garbage);
       * the padding past n must stay untouched */
      if (beta == 0.0f)
        for (size_t i = 0; i < nc; i++)
          if (i % (size_t) ldc < (size_t) n)
            c[i] = NAN;
      weft_sgemm (ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
      reference (ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, want, ldc);
      for (size_t i = 0; i < nc; i++)
        {
          if (!(fabsf (c[i] - want[i]) <= SGEMM_TOL))
            g_test_message ("case %d: %dx%dx%d ta %d tb %d lda %d ldb %d ldc %d alpha %g "
                            "beta %g: C[%zu]", t, m, n, k, ta, tb, lda, ldb, ldc, alpha, beta, i);
          g_assert_cmpfloat_with_epsilon (c[i], want[i], SGEMM_TOL);
        }
      g_free (a);
      g_free (b);
      g_free (c);
      g_free (want);
    }
  g_rand_free (rng);
}

static void
check_shapes (int max_m, int max_n, int max_k, int cases)
{
  check_shapes_from (0, max_m, max_n, max_k, cases);
}

static void
test_small_products (void)
{
  /* the shapes of small Dense layers: all of them run on the small kernel where it exists */
  check_shapes (70, 140, 90, 1500);
}

static void
test_narrow_products (void)
{
  /* at most 16 columns: A^T B runs on the kernel that vectorises along C's rows (a weight
   * gradient of a layer with few units), row counts on and off whole vectors */
  check_shapes (70, 16, 300, 400);
}

/* C = A B + bias, relu or not, from the small kernel's own stores: against the reference
 * plus the bias; where the kernel does not take the product, C is left as it was. */
static void
test_bias_epilogue (void)
{
  GRand *rng = g_rand_new_with_seed (5);
  int fused = 0;
  for (int t = 0; t < 400; t++)
    {
      int m = g_rand_int_range (rng, 1, 71), n = g_rand_int_range (rng, 1, 141);
      int k = g_rand_int_range (rng, 1, 91), lda = k + g_rand_int_range (rng, 0, 5);
      int ldb = n + g_rand_int_range (rng, 0, 5), ldc = n + g_rand_int_range (rng, 0, 5);
      bool relu = g_rand_boolean (rng);
      float *a = g_new (float, (size_t) m * lda), *b = g_new (float, (size_t) k * ldb);
      float *c = g_new (float, (size_t) m * ldc), *want = g_new (float, (size_t) m * ldc);
      float *bias = g_new (float, n);
      for (size_t i = 0; i < (size_t) m * lda; i++)
        a[i] = (float) g_rand_double_range (rng, -0.5, 0.5);
      for (size_t i = 0; i < (size_t) k * ldb; i++)
        b[i] = (float) g_rand_double_range (rng, -0.5, 0.5);
      for (int j = 0; j < n; j++)
        bias[j] = (float) g_rand_double_range (rng, -0.5, 0.5);
      for (size_t i = 0; i < (size_t) m * ldc; i++)
        c[i] = want[i] = NAN;   /* beta 0: never read */
      reference (false, false, m, n, k, 1.0f, a, lda, b, ldb, 0.0f, want, ldc);
      for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++)
          {
            float v = want[(size_t) i * ldc + j] + bias[j];
            want[(size_t) i * ldc + j] = relu && v < 0.0f ? 0.0f : v;
          }
      if (weft_sgemm_bias (m, n, k, a, lda, b, ldb, c, ldc, bias, relu))
        {
          fused++;
          for (size_t i = 0; i < (size_t) m * ldc; i++)
            if (i % (size_t) ldc < (size_t) n)
              g_assert_cmpfloat_with_epsilon (c[i], want[i], SGEMM_TOL);
            else
              g_assert_true (isnan (c[i]));   /* the padding stays untouched */
        }
      else
        for (size_t i = 0; i < (size_t) m * ldc; i++)
          g_assert_true (isnan (c[i]));
      g_free (a);
      g_free (b);
      g_free (c);
      g_free (want);
      g_free (bias);
    }
  /* where the CPU has AVX-512 the small kernel takes most of these shapes */
  if (weft_cpu_has_avx512 ())
    g_assert_cmpint (fused, >, 300);
  g_test_message ("%d of 400 products fused", fused);
  g_rand_free (rng);
}

static void
test_large_products (void)
{
  /* past the small kernel's limits (more than 256 columns, or B^T too big to pack) */
  check_shapes (40, 400, 300, 40);
}

static int
count_threads (void)
{
  GDir *d = g_dir_open ("/proc/self/task", 0, NULL);
  int n = 0;
  if (d == NULL)
    return -1;
  while (g_dir_read_name (d) != NULL)
    n++;
  g_dir_close (d);
  return n;
}

/* At two threads, products from 2M multiply-adds are shared: bands of C's rows or columns on
 * the pool's threads (the larger side is split; bands of whole vectors), the biggest on
 * OpenBLAS's threads. Every way gives the reference's product, transposes, leading
 * dimensions, alpha and beta included. */
static void
test_shared_products (void)
{
  int before = count_threads ();
  weft_blas_set_threads (2);
  /* one product that is shared on the pool: its worker thread appears */
  check_shapes_from (3000000, 200, 200, 200, 1);
  if (before > 0)
    g_assert_cmpint (count_threads (), >, before);
  check_shapes_from (2000000, 80, 600, 300, 12);     /* few rows: split by columns */
  check_shapes_from (2000000, 600, 80, 300, 12);     /* few columns: split by rows */
  check_shapes_from (2000000, 300, 300, 300, 12);
  check_shapes_from (17000000, 400, 400, 400, 3);    /* OpenBLAS's own threads */
  weft_blas_set_threads (1);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/engine/blas/sgemm/small-products-match-reference", test_small_products);
  g_test_add_func ("/engine/blas/sgemm/narrow-products-match-reference",
                   test_narrow_products);
  g_test_add_func ("/engine/blas/sgemm/bias-and-relu-in-the-stores", test_bias_epilogue);
  g_test_add_func ("/engine/blas/sgemm/large-products-match-reference", test_large_products);
  g_test_add_func ("/engine/blas/sgemm/shared-products-match-reference",
                   test_shared_products);
  return g_test_run ();
}
