/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-engine-parallel.c: weft-parallel's regions, and the ops that split their work over
 * threads (convolution, pooling, merges): at two threads they give the results of one thread
 * (GEMMs split by rows or kernel rows may round differently: 1e-5 relative; element-wise
 * passes exactly), and the same results run after run. Sizes are large enough that the ops
 * really take their parallel path. */
#include <glib.h>
#include <math.h>
#include <pthread.h>
#include <string.h>

#include "weft-activation.h"
#include "weft-blas.h"
#include "weft-op.h"
#include "weft-parallel.h"

/* ---- the pool itself ---- */

typedef struct
{
  int       n;
  int       hits[64];
  pthread_t who[WEFT_PARALLEL_MAX];
  int       blas_threads[WEFT_PARALLEL_MAX];
  bool      nested;
} CountJob;

static void
count_part (void *data, int part, int n_parts)
{
  CountJob *j = data;
  long b, e;
  weft_parallel_range (j->n, part, n_parts, &b, &e);
  for (long i = b; i < e; i++)
    j->hits[i]++;
  j->who[part] = pthread_self ();
  j->blas_threads[part] = weft_blas_get_threads ();
}

static void
test_regions_cover_every_index_once (void)
{
  weft_blas_set_threads (2);
  for (int parts = 1; parts <= 4; parts++)
    for (int n = 0; n < 40; n += 7)
      {
        CountJob j = { .n = n };
        weft_parallel_run (parts, count_part, &j);
        for (int i = 0; i < n; i++)
          g_assert_cmpint (j.hits[i], ==, 1);
        if (parts >= 2)
          {
            g_assert_true (pthread_equal (j.who[0], pthread_self ()));
            g_assert_false (pthread_equal (j.who[1], pthread_self ()));
            /* BLAS at one thread inside a region */
            g_assert_cmpint (j.blas_threads[0], ==, 1);
          }
      }
  /* and restored after it */
  g_assert_cmpint (weft_blas_get_threads (), ==, 2);
  weft_blas_set_threads (1);
}

static void
test_ranges_are_balanced (void)
{
  for (int parts = 1; parts <= WEFT_PARALLEL_MAX; parts++)
    for (long n = 0; n < 50; n++)
      {
        long prev_end = 0;
        for (int p = 0; p < parts; p++)
          {
            long b, e;
            weft_parallel_range (n, p, parts, &b, &e);
            g_assert_cmpint (b, ==, prev_end);
            g_assert_cmpint (e - b, >=, n / parts);
            g_assert_cmpint (e - b, <=, n / parts + 1);
            prev_end = e;
          }
        g_assert_cmpint (prev_end, ==, n);
      }
  g_assert_cmpint (weft_parallel_parts (1, 1e12), ==, 1);
  g_assert_cmpint (weft_parallel_parts (2, 10), ==, 1);
  g_assert_cmpint (weft_parallel_parts (2, 1e9), ==, 2);
}

static void
nested_part (void *data, int part, int n_parts)
{
  CountJob *j = data;
  (void) n_parts;
  if (part == 0)
    {
      /* The workers are busy with this region: the inner one runs here, serially. */
      CountJob inner = { .n = 10 };
      weft_parallel_run (2, count_part, &inner);
      j->nested = pthread_equal (inner.who[0], pthread_self ())
                  && pthread_equal (inner.who[1], pthread_self ());
      for (int i = 0; i < 10; i++)
        g_assert_cmpint (inner.hits[i], ==, 1);
    }
}

/* Part p adds p + 1 to every element of its range, after a wait of `delay_us` on odd parts, so
 * that the caller sometimes finds its workers still busy and sleeps for them. */
typedef struct
{
  long n;
  int  delay_us;
  long sum[97];
} SumJob;

static void
sum_part (void *data, int part, int n_parts)
{
  SumJob *j = data;
  long b, e;
  weft_parallel_range (j->n, part, n_parts, &b, &e);
  if (part % 2 == 1 && j->delay_us > 0)
    g_usleep (j->delay_us);
  for (long i = b; i < e; i++)
    j->sum[i] += part + 1;
}

/* Regions back to back (workers still spinning), after pauses longer than the spin (workers
 * asleep and woken), and with slow parts (the caller waits asleep): every region's every
 * part runs exactly once and the caller sees its writes. */
static void
test_hand_over_spinning_and_sleeping (void)
{
  GRand *rng = g_rand_new_with_seed (11);
  for (int r = 0; r < 3000; r++)
    {
      int parts = g_rand_int_range (rng, 2, 5);
      SumJob j = { .n = g_rand_int_range (rng, parts, 97) };
      j.delay_us = r % 7 == 0 ? 300 : 0;
      if (r % 11 == 0)
        g_usleep (200);   /* past the spin: the workers go to sleep */
      weft_parallel_run (parts, sum_part, &j);
      for (long i = 0; i < j.n; i++)
        {
          /* index i belongs to exactly one part p, which added p + 1 */
          int p = 0;
          long b, e;
          for (; p < parts; p++)
            {
              weft_parallel_range (j.n, p, parts, &b, &e);
              if (i >= b && i < e)
                break;
            }
          g_assert_cmpint (j.sum[i], ==, p + 1);
        }
    }
  g_rand_free (rng);
}

static void
test_busy_pool_runs_serially (void)
{
  CountJob j = { 0 };
  weft_parallel_run (2, nested_part, &j);
  g_assert_true (j.nested);
}

/* ---- ops at one and two threads ---- */

typedef struct
{
  const char *op;
  int         rank;          /* of the sample shape */
  int         dims[3];
  int         n_in;
  int         batch;
  /* config: name = value (INTS take both numbers; -1 = unused) */
  struct { const char *name; double num; int ints[2]; int n; } set[6];
  double      tol;           /* 0: exact */
} OpCase;

typedef struct
{
  const WeftOpDesc *op;
  WeftValue         cfg[16];
  WeftShape         in_shape[WEFT_MAX_INPUTS], out_shape;
  int               n_in, n_w, batch;
  size_t            n_x, n_out, n_wt[WEFT_MAX_WEIGHTS], n_aux, n_scratch;
  float            *x[WEFT_MAX_INPUTS], *dx[WEFT_MAX_INPUTS], *out, *dout;
  float            *w[WEFT_MAX_WEIGHTS], *dw[WEFT_MAX_WEIGHTS], *aux, *scratch;
} Run;

static float
noise (guint32 *state)
{
  *state = *state * 1664525u + 1013904223u;
  return (float) ((*state >> 8) & 0xffff) / 32768.0f - 1.0f;
}

static void
run_setup (Run *r, const OpCase *c)
{
  char why[256];
  memset (r, 0, sizeof *r);
  r->op = weft_op_lookup (c->op);
  g_assert_nonnull (r->op);
  weft_op_defaults (r->op, r->cfg);
  for (int i = 0; i < 6 && c->set[i].name != NULL; i++)
    {
      int k = weft_op_param_index (r->op, c->set[i].name);
      g_assert_cmpint (k, >=, 0);
      r->cfg[k].num = c->set[i].num;
      if (c->set[i].n > 0)
        {
          r->cfg[k].n = c->set[i].n;
          r->cfg[k].ints[0] = c->set[i].ints[0];
          r->cfg[k].ints[1] = c->set[i].ints[1];
        }
    }
  r->n_in = c->n_in;
  r->batch = c->batch;
  for (int i = 0; i < c->n_in; i++)
    {
      r->in_shape[i].rank = c->rank;
      for (int d = 0; d < c->rank; d++)
        r->in_shape[i].dims[d] = c->dims[d];
    }
  WeftOpArgs args = { .cfg = r->cfg, .in = r->in_shape, .n_in = r->n_in };
  g_assert_true (r->op->infer (&args, &r->out_shape, why, sizeof why));
  args.out = &r->out_shape;
  WeftWeightSpec specs[WEFT_MAX_WEIGHTS];
  r->n_w = r->op->weights != NULL ? r->op->weights (&args, specs) : 0;
  r->n_aux = r->op->aux_size != NULL ? r->op->aux_size (&args, r->batch) : 0;
  r->n_scratch = r->op->scratch_size != NULL ? r->op->scratch_size (&args, r->batch) : 0;
  r->n_x = (size_t) r->batch * weft_shape_size (&r->in_shape[0]);
  r->n_out = (size_t) r->batch * weft_shape_size (&r->out_shape);

  guint32 seed = 12345;
  for (int i = 0; i < r->n_in; i++)
    {
      r->x[i] = g_new (float, r->n_x);
      r->dx[i] = g_new (float, r->n_x);
      for (size_t k = 0; k < r->n_x; k++)
        r->x[i][k] = noise (&seed);
    }
  r->out = g_new (float, r->n_out);
  r->dout = g_new (float, r->n_out);
  for (size_t k = 0; k < r->n_out; k++)
    r->dout[k] = noise (&seed);
  for (int k = 0; k < r->n_w; k++)
    {
      r->n_wt[k] = (size_t) weft_shape_size (&specs[k].shape);
      r->w[k] = g_new (float, r->n_wt[k]);
      r->dw[k] = g_new (float, r->n_wt[k]);
      for (size_t q = 0; q < r->n_wt[k]; q++)
        r->w[k][q] = 0.1f * noise (&seed);
    }
  r->aux = g_new0 (float, r->n_aux + 1);
  r->scratch = g_new0 (float, r->n_scratch + 1);
}

static void
run_clear (Run *r)
{
  for (int i = 0; i < r->n_in; i++)
    {
      g_free (r->x[i]);
      g_free (r->dx[i]);
    }
  for (int k = 0; k < r->n_w; k++)
    {
      g_free (r->w[k]);
      g_free (r->dw[k]);
    }
  g_free (r->out);
  g_free (r->dout);
  g_free (r->aux);
  g_free (r->scratch);
}

/* Forward and backward at `threads`; gradients start at 0.25 (backward must add). */
static void
run_op (Run *r, int threads)
{
  WeftOpCtx ctx = { 0 };
  ctx.op = r->op;
  ctx.cfg = r->cfg;
  ctx.batch = r->batch;
  ctx.training = true;
  ctx.n_in = r->n_in;
  for (int i = 0; i < r->n_in; i++)
    {
      ctx.in[i] = r->x[i];
      ctx.din[i] = r->dx[i];
      ctx.in_shape[i] = r->in_shape[i];
      for (size_t k = 0; k < r->n_x; k++)
        r->dx[i][k] = 0.25f;
    }
  ctx.out = r->out;
  ctx.dout = r->dout;
  ctx.out_shape = r->out_shape;
  for (int k = 0; k < r->n_w; k++)
    {
      ctx.w[k] = r->w[k];
      ctx.dw[k] = r->dw[k];
      for (size_t q = 0; q < r->n_wt[k]; q++)
        r->dw[k][q] = 0.25f;
    }
  ctx.aux = r->aux;
  ctx.scratch = r->scratch;
  ctx.threads = threads;
  weft_blas_set_threads (threads);
  r->op->forward (&ctx);
  r->op->backward (&ctx);
  weft_blas_set_threads (1);
}

static void
assert_close (const char *what, const float *a, const float *b, size_t n, double tol)
{
  for (size_t k = 0; k < n; k++)
    {
      double d = fabs ((double) a[k] - b[k]);
      if (tol == 0 ? memcmp (&a[k], &b[k], sizeof (float)) != 0
                   : d > tol * fmax (1.0, fabs (b[k])))
        g_error ("%s[%zu]: %.9g at two threads, %.9g at one", what, k, a[k], b[k]);
    }
}

static float *
dup_floats (const float *p, size_t n)
{
  return g_memdup2 (p, n * sizeof *p);
}

static void
test_op_case (gconstpointer data)
{
  const OpCase *c = data;
  Run r;
  run_setup (&r, c);

  run_op (&r, 1);
  float *out1 = dup_floats (r.out, r.n_out);
  float *dx1[WEFT_MAX_INPUTS], *dw1[WEFT_MAX_WEIGHTS];
  for (int i = 0; i < r.n_in; i++)
    dx1[i] = dup_floats (r.dx[i], r.n_x);
  for (int k = 0; k < r.n_w; k++)
    dw1[k] = dup_floats (r.dw[k], r.n_wt[k]);

  for (int rep = 0; rep < 2; rep++)
    {
      run_op (&r, 2);
      if (rep == 0)
        {
          assert_close ("out", r.out, out1, r.n_out, c->tol);
          for (int i = 0; i < r.n_in; i++)
            assert_close ("dx", r.dx[i], dx1[i], r.n_x, c->tol);
          for (int k = 0; k < r.n_w; k++)
            assert_close ("dw", r.dw[k], dw1[k], r.n_wt[k], c->tol * 10);
          /* keep the first two-thread results for the run-to-run comparison */
          g_free (out1);
          out1 = dup_floats (r.out, r.n_out);
          for (int i = 0; i < r.n_in; i++)
            {
              g_free (dx1[i]);
              dx1[i] = dup_floats (r.dx[i], r.n_x);
            }
          for (int k = 0; k < r.n_w; k++)
            {
              g_free (dw1[k]);
              dw1[k] = dup_floats (r.dw[k], r.n_wt[k]);
            }
        }
      else
        {
          assert_close ("out (again)", r.out, out1, r.n_out, 0);
          for (int i = 0; i < r.n_in; i++)
            assert_close ("dx (again)", r.dx[i], dx1[i], r.n_x, 0);
          for (int k = 0; k < r.n_w; k++)
            assert_close ("dw (again)", r.dw[k], dw1[k], r.n_wt[k], 0);
        }
    }
  g_free (out1);
  for (int i = 0; i < r.n_in; i++)
    g_free (dx1[i]);
  for (int k = 0; k < r.n_w; k++)
    g_free (dw1[k]);
  run_clear (&r);
}

/* Conv2D (dilation 1, linear or relu) by its definition, in double: the chunked im2col path
 * must give these numbers at one thread and at two. */
static void
test_conv2d_matches_definition (gconstpointer data)
{
  /* 128 channels: 1152-float column rows, chunks of 256 rows that cross images; 32 channels:
   * a narrow layer, whose chunks (182 rows) are sized for weft_sgemm's own kernel and whose
   * 288-wide column products go in pieces of 256 and 32 */
  const int B = 5, H = 19, W = 23, C = GPOINTER_TO_INT (data), F = 40, k = 3, st = 2;
  const OpCase c = {
    "Conv2D", 3, { H, W, C }, 1, B,
    { { "filters", F }, { "kernel_size", 0, { k, k }, 2 }, { "strides", 0, { st, st }, 2 },
      { "padding", 1 }, { "activation", WEFT_ACT_RELU } }, 0 };
  const int OH = (H + st - 1) / st, OW = (W + st - 1) / st;
  const int pad_t = ((OH - 1) * st + k - H) / 2, pad_l = ((OW - 1) * st + k - W) / 2;

  for (int threads = 1; threads <= 2; threads++)
    {
      Run r;
      run_setup (&r, &c);
      g_assert_cmpint (r.out_shape.dims[0], ==, OH);
      g_assert_cmpint (r.out_shape.dims[1], ==, OW);
      run_op (&r, threads);
      double *dz = g_new0 (double, r.n_out), *dx = g_new0 (double, r.n_x);
      double *dk = g_new0 (double, r.n_wt[0]), *db = g_new0 (double, F);
      for (int b = 0; b < B; b++)
        for (int oy = 0; oy < OH; oy++)
          for (int ox = 0; ox < OW; ox++)
            for (int f = 0; f < F; f++)
              {
                double z = r.w[1][f];
                for (int ky = 0; ky < k; ky++)
                  for (int kx = 0; kx < k; kx++)
                    {
                      int iy = oy * st - pad_t + ky, ix = ox * st - pad_l + kx;
                      if (iy < 0 || iy >= H || ix < 0 || ix >= W)
                        continue;
                      for (int ch = 0; ch < C; ch++)
                        z += (double) r.x[0][((b * H + iy) * W + ix) * C + ch]
                             * r.w[0][((ky * k + kx) * C + ch) * F + f];
                    }
                size_t o = (((size_t) b * OH + oy) * OW + ox) * F + f;
                double y = z > 0 ? z : 0;
                g_assert_cmpfloat (fabs (r.out[o] - y), <, 1e-4 * fmax (1.0, fabs (y)));
                dz[o] = z > 0 ? r.dout[o] : 0;
              }
      for (int b = 0; b < B; b++)
        for (int oy = 0; oy < OH; oy++)
          for (int ox = 0; ox < OW; ox++)
            for (int f = 0; f < F; f++)
              {
                double d = dz[(((size_t) b * OH + oy) * OW + ox) * F + f];
                db[f] += d;
                for (int ky = 0; ky < k; ky++)
                  for (int kx = 0; kx < k; kx++)
                    {
                      int iy = oy * st - pad_t + ky, ix = ox * st - pad_l + kx;
                      if (iy < 0 || iy >= H || ix < 0 || ix >= W)
                        continue;
                      for (int ch = 0; ch < C; ch++)
                        {
                          size_t xi = ((size_t) (b * H + iy) * W + ix) * C + ch;
                          size_t ki = ((size_t) (ky * k + kx) * C + ch) * F + f;
                          dx[xi] += d * r.w[0][ki];
                          dk[ki] += d * r.x[0][xi];
                        }
                    }
              }
      /* gradients started at 0.25 */
      for (size_t i = 0; i < r.n_x; i++)
        g_assert_cmpfloat (fabs (r.dx[0][i] - 0.25 - dx[i]), <, 1e-4);
      for (size_t i = 0; i < r.n_wt[0]; i++)
        g_assert_cmpfloat (fabs (r.dw[0][i] - 0.25 - dk[i]), <, 1e-3 * fmax (1.0, fabs (dk[i])));
      for (int f = 0; f < F; f++)
        g_assert_cmpfloat (fabs (r.dw[1][f] - 0.25 - db[f]), <, 1e-3 * fmax (1.0, fabs (db[f])));
      g_free (dz);
      g_free (dx);
      g_free (dk);
      g_free (db);
      run_clear (&r);
    }
}

#define RELU WEFT_ACT_RELU
static const OpCase op_cases[] = {
  /* 3x3 same, several im2col chunks of an even number of images, relu */
  { "Conv2D", 3, { 32, 32, 32 }, 1, 37,
    { { "filters", 32 }, { "kernel_size", 0, { 3, 3 }, 2 }, { "padding", 1 },
      { "activation", RELU } }, 1e-5 },
  /* strided, valid, linear: dz is dout itself */
  { "Conv2D", 3, { 33, 31, 16 }, 1, 16,
    { { "filters", 24 }, { "kernel_size", 0, { 3, 3 }, 2 }, { "strides", 0, { 2, 2 }, 2 } },
    1e-5 },
  /* pointwise: the GEMM reads the input directly */
  { "Conv2D", 3, { 16, 16, 64 }, 1, 9,
    { { "filters", 48 }, { "kernel_size", 0, { 1, 1 }, 2 }, { "activation", RELU } }, 1e-5 },
  { "Conv1D", 2, { 200, 64 }, 1, 11,
    { { "filters", 96 }, { "kernel_size", 0, { 5 }, 1 }, { "padding", 1 },
      { "activation", RELU } }, 1e-5 },
  { "MaxPooling2D", 3, { 32, 32, 70 }, 1, 13,
    { { "pool_size", 0, { 3, 3 }, 2 }, { "strides", 0, { 2, 2 }, 2 }, { "padding", 1 } }, 0 },
  { "AveragePooling2D", 3, { 32, 32, 64 }, 1, 13,
    { { "pool_size", 0, { 3, 3 }, 2 }, { "strides", 0, { 2, 2 }, 2 }, { "padding", 1 } }, 0 },
  { "MaxPooling1D", 2, { 265, 128 }, 1, 21, { { "pool_size", 0, { 5 }, 1 } }, 0 },
  { "GlobalMaxPooling1D", 2, { 300, 130 }, 1, 17, { { NULL } }, 0 },
  { "GlobalAveragePooling2D", 3, { 32, 32, 64 }, 1, 17, { { NULL } }, 0 },
  { "Add", 3, { 32, 32, 32 }, 2, 19, { { NULL } }, 0 },
  { "Average", 3, { 32, 32, 32 }, 3, 19, { { NULL } }, 0 },
};

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/engine/parallel/regions-cover-every-index-once",
                   test_regions_cover_every_index_once);
  g_test_add_func ("/engine/parallel/ranges-are-balanced", test_ranges_are_balanced);
  g_test_add_func ("/engine/parallel/busy-pool-runs-serially", test_busy_pool_runs_serially);
  g_test_add_func ("/engine/parallel/hand-over-spinning-and-sleeping",
                   test_hand_over_spinning_and_sleeping);
  g_test_add_data_func ("/engine/parallel/Conv2D/matches-its-definition/wide",
                        GINT_TO_POINTER (128), test_conv2d_matches_definition);
  g_test_add_data_func ("/engine/parallel/Conv2D/matches-its-definition/narrow",
                        GINT_TO_POINTER (32), test_conv2d_matches_definition);
  for (size_t i = 0; i < G_N_ELEMENTS (op_cases); i++)
    {
      char *path = g_strdup_printf ("/engine/parallel/%s/%zu/two-threads-match-one",
                                    op_cases[i].op, i);
      g_test_add_data_func (path, &op_cases[i], test_op_case);
      g_free (path);
    }
  return g_test_run ();
}
