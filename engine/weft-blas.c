/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "weft-blas.h"

#include "weft-parallel.h"

#include <cblas.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* OpenBLAS extensions; declared here so that the engine also builds against other CBLAS
 * implementations' headers that lack them (cblas.h of OpenBLAS declares them too). */
extern char *openblas_get_corename (void);
extern void  openblas_set_num_threads (int num_threads);
extern int   openblas_get_num_threads (void);

/* Threads the trainer allows; 0 = not set yet (one). */
static int blas_threads = 0;

/* Threads: a product big enough to share (weft_parallel_parts decides from its multiply-adds)
 * is split into bands of C's rows or columns, one band per thread of Weft's pool, each on one
 * thread's kernel: the small kernel below or OpenBLAS at one thread. Products of at least
 * OPENBLAS_THREADS_MACS run on OpenBLAS's own threads instead: it packs the shared operand
 * once for all of them, which bands cannot. Below that OpenBLAS stays at one thread: its
 * threads spin for about 2^28 cycles after every product it shares, taking the second CPU
 * from the pool, and it shares products from 262,144 multiply-adds on, where waking a thread
 * costs more than it saves (a 256x64x32 Dense product ran at a third of its one-thread
 * speed on two shared vCPUs). */
#define OPENBLAS_THREADS_MACS ((int64_t) 1 << 24)

/* ---- small products ----
 * OpenBLAS packs both operands into its own layout before every product; at the shapes of
 * small Dense layers (32x64x32) the packing, the buffer locks and the call overhead cost more
 * than the arithmetic. Products up to SMALL_MAX_MACS with at most SMALL_MAX_N columns run on
 * an AVX-512 kernel of our own that reads A and B in place: four rows of C in registers, B
 * streamed row by row, one broadcast of A per row and step. */
#define SMALL_MAX_MACS WEFT_SGEMM_SMALL_MACS
#define SMALL_MAX_N    WEFT_SGEMM_SMALL_N
#define PACK_FLOATS    16384            /* B^T, k * n padded to whole vectors */

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define HAVE_SMALL_KERNEL 1
#pragma GCC diagnostic ignored "-Wpsabi"
#include <immintrin.h>
typedef float V16 __attribute__ ((vector_size (64)));

static _Thread_local float pack_buf[PACK_FLOATS] __attribute__ ((aligned (64)));

/* The first `lanes` floats at p, zeros after (masked: never reads past them). */
__attribute__ ((target ("avx512f"), always_inline)) static inline V16
v_load_part (const float *p, int lanes)
{
  return (V16) _mm512_maskz_loadu_ps ((__mmask16) ((1u << lanes) - 1), p);
}

__attribute__ ((target ("avx512f"), always_inline)) static inline void
v_store_part (float *p, V16 v, int lanes)
{
  _mm512_mask_storeu_ps (p, (__mmask16) ((1u << lanes) - 1), (__m512) v);
}

/* C[i0..i0+MR, 16*v0 .. 16*(v0+NV)) = alpha * sum_p A(i, p) B[p, :] (+ beta C).
 * B rows are ldb apart; `lanes_last` valid lanes in the last vector of B's rows and C's
 * (masked loads and stores: nothing past them is touched). */
#define SMALL_BLOCK(MR, NV)                                                                \
  do                                                                                       \
    {                                                                                      \
      V16 acc[MR][NV];                                                                     \
      __mmask16 bmask[NV];                                                                 \
      _Pragma ("GCC unroll 16") for (int v = 0; v < NV; v++)                                \
        bmask[v] = (__mmask16) (v0 + v == nv - 1 ? (1u << lanes_last) - 1 : 0xffffu);      \
      _Pragma ("GCC unroll 16") for (int r = 0; r < MR; r++)                                \
        _Pragma ("GCC unroll 16") for (int v = 0; v < NV; v++)                              \
          acc[r][v] = (V16) { 0 };                                                         \
      for (int p = 0; p < k; p++)                                                          \
        {                                                                                  \
          const float *bp = b + (size_t) p * ldb + (size_t) 16 * v0;                       \
          V16 bv[NV];                                                                      \
          _Pragma ("GCC unroll 16") for (int v = 0; v < NV; v++)                            \
            bv[v] = (V16) _mm512_maskz_loadu_ps (bmask[v], bp + 16 * v);                   \
          _Pragma ("GCC unroll 16") for (int r = 0; r < MR; r++)                            \
            {                                                                              \
              float av = trans_a ? a[(size_t) p * lda + i0 + r]                            \
                                 : a[(size_t) (i0 + r) * lda + p];                         \
              _Pragma ("GCC unroll 16") for (int v = 0; v < NV; v++)                        \
                acc[r][v] += av * bv[v];                                                   \
            }                                                                              \
        }                                                                                  \
      _Pragma ("GCC unroll 16") for (int r = 0; r < MR; r++)                                \
        _Pragma ("GCC unroll 16") for (int v = 0; v < NV; v++)                              \
          {                                                                                \
            float *cp = c + (size_t) (i0 + r) * ldc + (size_t) 16 * (v0 + v);              \
            int lanes = v0 + v == nv - 1 ? lanes_last : 16;                                \
            V16 res = alpha * acc[r][v];                                                   \
            if (beta != 0.0f)                                                              \
              {                                                                            \
                res += beta * v_load_part (cp, lanes);                                     \
              }                                                                            \
            if (epi != EPI_NONE)                                                           \
              res += v_load_part (bias + 16 * (v0 + v), lanes);                            \
            if (epi == EPI_BIAS_RELU)                                                      \
              res = (V16) _mm512_max_ps ((__m512) res, _mm512_setzero_ps ());              \
            v_store_part (cp, res, lanes);                                                 \
          }                                                                                \
    }                                                                                      \
  while (0)

/* The same for NV vectors of columns, every row block: MR rows at a time, then 4, then 1. */
#define SMALL_COLUMNS(NV, MR)                                                              \
  do                                                                                       \
    {                                                                                      \
      int i0 = 0;                                                                          \
      for (; i0 + MR <= m; i0 += MR)                                                       \
        SMALL_BLOCK (MR, NV);                                                              \
      for (; i0 + 4 <= m; i0 += 4)                                                         \
        SMALL_BLOCK (4, NV);                                                               \
      for (; i0 < m; i0++)                                                                 \
        SMALL_BLOCK (1, NV);                                                               \
    }                                                                                      \
  while (0)

/* What the kernel applies to C's values before it stores them (a Dense output pass). */
enum { EPI_NONE, EPI_BIAS, EPI_BIAS_RELU };

__attribute__ ((target ("avx512f"), always_inline)) static inline void
small_gemm_body (const bool trans_a, const int epi, int m, int n, int k, float alpha,
                 const float *a, int lda, const float *b, int ldb, float beta, float *c,
                 int ldc, const float *bias)
{
  int nv = (n + 15) / 16;
  int lanes_last = n - 16 * (nv - 1);
  int v0 = 0;
  /* 16 accumulators hide the FMA latency and leave room for B and the broadcast in the 32
   * registers: 4 rows x 4 vectors, 8 x 2 or 16 x 1 */
  for (; v0 + 4 <= nv; v0 += 4)
    SMALL_COLUMNS (4, 4);
  switch (nv - v0)
    {
    case 3:
      SMALL_COLUMNS (3, 5);
      break;
    case 2:
      SMALL_COLUMNS (2, 8);
      break;
    case 1:
      SMALL_COLUMNS (1, 16);
      break;
    default:
      break;
    }
}

/* One copy per layout of A and per epilogue, so that the inner loops do not test them. */
__attribute__ ((target ("avx512f"))) static void
small_gemm (bool trans_a, int m, int n, int k, float alpha, const float *a, int lda,
            const float *b, int ldb, float beta, float *c, int ldc)
{
  if (trans_a)
    small_gemm_body (true, EPI_NONE, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, NULL);
  else
    small_gemm_body (false, EPI_NONE, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, NULL);
}

/* C = A B + bias (each row), then max(., 0) with relu: the forward pass of a Dense layer. */
__attribute__ ((target ("avx512f"))) static void
small_gemm_bias (bool relu, int m, int n, int k, const float *a, int lda, const float *b,
                 int ldb, float *c, int ldc, const float *bias)
{
  if (relu)
    small_gemm_body (false, EPI_BIAS_RELU, m, n, k, 1.0f, a, lda, b, ldb, 0.0f, c, ldc, bias);
  else
    small_gemm_body (false, EPI_BIAS, m, n, k, 1.0f, a, lda, b, ldb, 0.0f, c, ldc, bias);
}


/* C = alpha A^T B (+ beta C) with few columns (n <= 16; a weight gradient X^T G of a layer
 * with few units): vectors run along C's rows, which A^T holds contiguously in each row of
 * A, so every lane is used (the general kernel fills n of 16 lanes and broadcasts one A
 * value per row and step). IV vectors of rows (16 IV rows) and N columns per block; the
 * block is transposed through a small buffer into C's rows. */
#define NARROW_TN_BLOCK(IV, N)                                                             \
  do                                                                                       \
    {                                                                                      \
      __m512 acc[IV][N];                                                                   \
      __mmask16 am[IV];                                                                    \
      _Pragma ("GCC unroll 4") for (int v = 0; v < IV; v++)                                 \
        {                                                                                  \
          int left = m - i0 - 16 * v;                                                      \
          am[v] = (__mmask16) (left >= 16 ? 0xffffu : left > 0 ? (1u << left) - 1 : 0);    \
          _Pragma ("GCC unroll 16") for (int j = 0; j < N; j++)                             \
            acc[v][j] = _mm512_setzero_ps ();                                              \
        }                                                                                  \
      for (int p = 0; p < k; p++)                                                          \
        {                                                                                  \
          __m512 av[IV];                                                                   \
          _Pragma ("GCC unroll 4") for (int v = 0; v < IV; v++)                             \
            av[v] = _mm512_maskz_loadu_ps (am[v], a + (size_t) p * lda + i0 + 16 * v);     \
          const float *bp = b + (size_t) p * ldb;                                          \
          _Pragma ("GCC unroll 16") for (int j = 0; j < N; j++)                             \
            {                                                                              \
              __m512 bj = _mm512_set1_ps (bp[j]);                                          \
              _Pragma ("GCC unroll 4") for (int v = 0; v < IV; v++)                         \
                acc[v][j] = _mm512_fmadd_ps (av[v], bj, acc[v][j]);                        \
            }                                                                              \
        }                                                                                  \
      float t[16 * IV][16] __attribute__ ((aligned (64)));                                  \
      _Pragma ("GCC unroll 4") for (int v = 0; v < IV; v++)                                 \
        _Pragma ("GCC unroll 16") for (int j = 0; j < N; j++)                               \
          {                                                                                \
            float col[16] __attribute__ ((aligned (64)));                                  \
            _mm512_store_ps (col, acc[v][j]);                                              \
            for (int l = 0; l < 16; l++)                                                   \
              t[16 * v + l][j] = col[l];                                                   \
          }                                                                                \
      int rows = m - i0 < 16 * IV ? m - i0 : 16 * IV;                                      \
      const __mmask16 cm = (__mmask16) ((1u << N) - 1);                                    \
      for (int r = 0; r < rows; r++)                                                       \
        {                                                                                  \
          float *cr = c + (size_t) (i0 + r) * ldc;                                         \
          __m512 res = _mm512_mul_ps (_mm512_set1_ps (alpha), _mm512_maskz_load_ps (cm, t[r]));\
          if (beta != 0.0f)                                                                \
            res = _mm512_fmadd_ps (_mm512_set1_ps (beta), _mm512_maskz_loadu_ps (cm, cr),  \
                                   res);                                                   \
          _mm512_mask_storeu_ps (cr, cm, res);                                             \
        }                                                                                  \
    }                                                                                      \
  while (0)

/* One function per column count, so that the accumulators are fixed-size arrays the
 * compiler keeps in registers. Two vectors of rows while 2 N accumulators leave registers
 * for A and the broadcast. */
#define NARROW_TN_FN(N)                                                                    \
  __attribute__ ((target ("avx512f"))) static void                                         \
  narrow_tn_##N (int m, int k, float alpha, const float *a, int lda, const float *b,       \
                 int ldb, float beta, float *c, int ldc)                                   \
  {                                                                                        \
    int i0 = 0;                                                                            \
    if (N <= 12)                                                                           \
      for (; i0 + 16 < m; i0 += 32)                                                        \
        NARROW_TN_BLOCK (2, N);                                                            \
    for (; i0 < m; i0 += 16)                                                               \
      NARROW_TN_BLOCK (1, N);                                                              \
  }
NARROW_TN_FN (1) NARROW_TN_FN (2) NARROW_TN_FN (3) NARROW_TN_FN (4) NARROW_TN_FN (5)
NARROW_TN_FN (6) NARROW_TN_FN (7) NARROW_TN_FN (8) NARROW_TN_FN (9) NARROW_TN_FN (10)
NARROW_TN_FN (11) NARROW_TN_FN (12) NARROW_TN_FN (13) NARROW_TN_FN (14) NARROW_TN_FN (15)
NARROW_TN_FN (16)
#undef NARROW_TN_FN

static void
small_gemm_tn_narrow (int m, int n, int k, float alpha, const float *a, int lda,
                      const float *b, int ldb, float beta, float *c, int ldc)
{
  typedef void (*NarrowFn) (int, int, float, const float *, int, const float *, int, float,
                            float *, int);
  static const NarrowFn fns[17] = {
    NULL, narrow_tn_1, narrow_tn_2, narrow_tn_3, narrow_tn_4, narrow_tn_5, narrow_tn_6,
    narrow_tn_7, narrow_tn_8, narrow_tn_9, narrow_tn_10, narrow_tn_11, narrow_tn_12,
    narrow_tn_13, narrow_tn_14, narrow_tn_15, narrow_tn_16,
  };
  fns[n] (m, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

/* dst[p * npad + j] = b[j * ldb + p] for p < k, j < n; zeros up to npad. Gathers of 16
 * rows at a time: a scalar copy cost a fifth of a 32x64x32 product. */
__attribute__ ((target ("avx512f"))) static void
transpose_b (const float *b, int ldb, int n, int k, int npad, float *dst)
{
  __m512i step = _mm512_mullo_epi32 (_mm512_set_epi32 (15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5,
                                                       4, 3, 2, 1, 0),
                                     _mm512_set1_epi32 (ldb));
  for (int j0 = 0; j0 < npad; j0 += 16)
    {
      int lanes = n - j0 < 16 ? n - j0 : 16;
      __mmask16 mask = (__mmask16) ((1u << lanes) - 1);
      const float *col = b + (size_t) j0 * ldb;
      for (int p = 0; p < k; p++)
        _mm512_storeu_ps (dst + (size_t) p * npad + j0,
                          _mm512_mask_i32gather_ps (_mm512_setzero_ps (), mask, step, col + p,
                                                    4));
    }
}

/* Whether an m x n x k product is the small kernel's: one or a few columns are a
 * matrix-vector product, OpenBLAS' (here they would fill one lane in 16, or leave too few
 * accumulators to hide the FMA latency), and big ones are OpenBLAS' too. */
static bool
small_fits (int m, int n, int k)
{
  return m > 0 && n >= 4 && n <= SMALL_MAX_N && k >= 1
         && (int64_t) m * n * k <= SMALL_MAX_MACS && weft_cpu_has_avx512 ();
}

/* Runs the product on the small kernel when its shape suits it; false leaves it to BLAS. */
static bool
try_small (bool trans_a, bool trans_b, int m, int n, int k, float alpha, const float *a,
           int lda, const float *b, int ldb, float beta, float *c, int ldc)
{
  if (!small_fits (m, n, k))
    return false;
  if (trans_a && !trans_b && n <= 16 && m >= 16)
    {
      small_gemm_tn_narrow (m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
      return true;
    }
  int npad = (n + 15) & ~15;
  if (trans_b)
    {
      /* B^T as k rows of whole vectors */
      if ((int64_t) k * npad > PACK_FLOATS)
        return false;
      transpose_b (b, ldb, n, k, npad, pack_buf);
      b = pack_buf;
      ldb = npad;
    }
  small_gemm (trans_a, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  return true;
}
#endif

/* The product on this thread: the small kernel, else OpenBLAS (on its own threads when the
 * product is that big). */
static void
sgemm_here (bool trans_a, bool trans_b, int m, int n, int k, float alpha, const float *a,
            int lda, const float *b, int ldb, float beta, float *c, int ldc)
{
#ifdef HAVE_SMALL_KERNEL
  if (try_small (trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc))
    return;
#endif
  /* a part of a region runs with weft_blas_get_threads () == 1 */
  int want = (int64_t) m * n * k >= OPENBLAS_THREADS_MACS ? weft_blas_get_threads () : 1;
  if (openblas_get_num_threads () != want)
    openblas_set_num_threads (want);
  cblas_sgemm (CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
               trans_b ? CblasTrans : CblasNoTrans, m, n, k, alpha, a, lda, b, ldb,
               beta, c, ldc);
}

typedef struct
{
  bool         trans_a, trans_b, by_rows;
  int          m, n, k;
  float        alpha, beta;
  const float *a, *b;
  int          lda, ldb, ldc;
  float       *c;
  const float *bias;   /* weft_sgemm_bias: the small kernel's epilogue */
  bool         relu;
} SplitJob;

static void
split_part (void *data, int part, int n_parts)
{
  const SplitJob *j = data;
  long lo, hi;
  const float *a = j->a, *b = j->b;
  float *c = j->c;
  int m = j->m, n = j->n;
  if (j->by_rows)
    {
      weft_parallel_range (j->m, part, n_parts, &lo, &hi);
      a += j->trans_a ? lo : lo * (long) j->lda;
      c += lo * (long) j->ldc;
      m = (int) (hi - lo);
    }
  else
    {
      /* whole 16-float vectors per band, so every column is computed as without the split */
      weft_parallel_range ((j->n + 15) / 16, part, n_parts, &lo, &hi);
      lo *= 16;
      hi = hi * 16 < j->n ? hi * 16 : j->n;
      b += j->trans_b ? lo * (long) j->ldb : lo;
      c += lo;
      n = (int) (hi - lo);
    }
  if (m <= 0 || n <= 0)
    return;
#ifdef HAVE_SMALL_KERNEL
  if (j->bias != NULL)
    {
      small_gemm_bias (j->relu, m, n, j->k, a, j->lda, b, j->ldb, c, j->ldc,
                       j->by_rows ? j->bias : j->bias + lo);
      return;
    }
#endif
  sgemm_here (j->trans_a, j->trans_b, m, n, j->k, j->alpha, a, j->lda, b, j->ldb, j->beta, c,
              j->ldc);
}

/* Parts to split the product into at the current thread count, along C's longer side (each
 * part reads all of the other operand: the smaller one is read twice), with at least 8 rows
 * (the small kernel keeps 4 in registers) or 32 columns per part; 1 when the product is
 * too small to share. */
static int
split_parts (int m, int n, int k, bool *by_rows)
{
  int parts = weft_parallel_parts (weft_blas_get_threads (), (double) m * n * k);
  if (parts < 2 || (int64_t) m * n * k >= OPENBLAS_THREADS_MACS)
    return 1;
  *by_rows = m >= n ? m >= 8 * parts : n < 32 * parts;
  if (*by_rows ? m < 8 * parts : n < 32 * parts)
    return 1;
  return parts;
}

void
weft_sgemm (bool trans_a, bool trans_b, int m, int n, int k,
            float alpha, const float *a, int lda, const float *b, int ldb,
            float beta, float *c, int ldc)
{
  if (m <= 0 || n <= 0)
    return;
  bool by_rows = true;
  int parts = split_parts (m, n, k, &by_rows);
  if (parts < 2)
    {
      sgemm_here (trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
      return;
    }
  SplitJob j = { trans_a, trans_b, by_rows, m, n, k, alpha, beta, a, b, lda, ldb, ldc, c,
                 NULL, false };
  weft_parallel_run (parts, split_part, &j);
}

bool
weft_sgemm_bias (int m, int n, int k, const float *a, int lda, const float *b, int ldb,
                 float *c, int ldc, const float *bias, bool relu)
{
#ifdef HAVE_SMALL_KERNEL
  if (small_fits (m, n, k))
    {
      bool by_rows = true;
      int parts = split_parts (m, n, k, &by_rows);
      if (parts < 2)
        small_gemm_bias (relu, m, n, k, a, lda, b, ldb, c, ldc, bias);
      else
        {
          SplitJob j = { false, false, by_rows, m, n, k, 1.0f, 0.0f, a, b, lda, ldb, ldc, c,
                         bias, relu };
          weft_parallel_run (parts, split_part, &j);
        }
      return true;
    }
#endif
  return false;
}

void
weft_blas_set_threads (int threads)
{
  if (threads < 1)
    threads = 1;
  /* OpenBLAS at one thread until a product asks for more (see OPENBLAS_THREADS_MACS);
   * callers may have told it otherwise in between (weft bench does for its reference) */
  if (openblas_get_num_threads () != 1)
    openblas_set_num_threads (1);
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

WEFT_VECTOR_CLONES void
weft_sum_rows (const float *a, int rows, int cols, bool assign, float *out)
{
  int r = 0;
  if (assign)
    {
      if (rows == 0)
        {
          memset (out, 0, (size_t) cols * sizeof *out);
          return;
        }
      memcpy (out, a, (size_t) cols * sizeof *out);
      r = 1;
    }
  if (cols < 16 && rows - r >= 64)
    {
      /* narrow rows (a classifier's 10 classes) would leave the vectors mostly empty: 16
       * rows at a time are 16 cols contiguous floats, summed into `block` as whole vectors,
       * whose 16 rows are added into out at the end */
      float block[16 * 16] = { 0 };
      const int span = 16 * cols;
      for (; r + 16 <= rows; r += 16)
        {
          const float *ar = a + (size_t) r * cols;
          for (int k = 0; k < span; k++)
            block[k] += ar[k];
        }
      for (int i = 0; i < 16; i++)
        for (int j = 0; j < cols; j++)
          out[j] += block[i * cols + j];
    }
  /* four rows per pass over out: its loads and stores were the cost, not the adds */
  for (; r + 4 <= rows; r += 4)
    {
      const float *a0 = a + (size_t) r * cols, *a1 = a0 + cols, *a2 = a1 + cols;
      const float *a3 = a2 + cols;
      for (int j = 0; j < cols; j++)
        out[j] += (a0[j] + a1[j]) + (a2[j] + a3[j]);
    }
  for (; r < rows; r++)
    {
      const float *ar = a + (size_t) r * cols;
      for (int j = 0; j < cols; j++)
        out[j] += ar[j];
    }
}

bool
weft_cpu_has_avx512 (void)
{
  /* racing first calls store the same value: relaxed atomics keep that well-defined */
  static int known = -1;
  int k = __atomic_load_n (&known, __ATOMIC_RELAXED);
  if (k < 0)
    {
#if defined(__x86_64__) && defined(__GNUC__)
      __builtin_cpu_init ();
      k = __builtin_cpu_supports ("avx512f") ? 1 : 0;
#else
      k = 0;
#endif
      __atomic_store_n (&known, k, __ATOMIC_RELAXED);
    }
  return k == 1;
}
