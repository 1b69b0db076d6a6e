/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "weft-activation.h"
#include "weft-blas.h"
#include "weft-row16.h"
#include "weft-vmath.h"

#include <math.h>
#include <stdint.h>
#include <string.h>


const char *const weft_activation_names[] = {
  "linear",
  "relu",
  "leaky_relu",
  "elu",
  "selu",
  "gelu",
  "sigmoid",
  "hard_sigmoid",
  "tanh",
  "softmax",
  "softplus",
  "softsign",
  "swish",
  NULL
};

#define LEAKY_ALPHA 0.3f
#define ELU_ALPHA   1.0f
#define SELU_ALPHA  1.6732632423543772f
#define SELU_SCALE  1.0507009873554805f
#define INV_SQRT2   0.70710678118654752f
#define INV_SQRT2PI 0.39894228040143268f

/* Both branches keep exp() from overflowing for large |x|. */
static inline float
stable_sigmoid (float x)
{
  if (x >= 0.0f)
    return 1.0f / (1.0f + expf (-x));
  float e = expf (x);
  return e / (1.0f + e);
}

#ifdef WEFT_HAVE_ROW16
/* Rows of at most 16 values (a classifier's 10 classes) in one masked AVX-512 register each
 * for softmax's backward (dot and scale): the per-row scalar loops cost more than the small
 * products around them. */

/* g = y * (dy - <dy, y>) per row of w <= 16; accumulate adds it to g instead. */
__attribute__ ((target ("avx512f"))) static void
softmax_grad_rows16 (const float *y, const float *dy, float *g, size_t rows, int w,
                     bool accumulate)
{
  const __mmask16 mask = (__mmask16) ((1u << w) - 1);
  for (size_t r = 0; r < rows; r++)
    {
      __m512 vy = _mm512_maskz_loadu_ps (mask, y + r * w);
      __m512 vd = _mm512_maskz_loadu_ps (mask, dy + r * w);
      float dot = _mm512_mask_reduce_add_ps (mask, _mm512_mul_ps (vy, vd));
      __m512 res = _mm512_mul_ps (vy, _mm512_sub_ps (vd, _mm512_set1_ps (dot)));
      if (accumulate)
        res = _mm512_add_ps (res, _mm512_maskz_loadu_ps (mask, g + r * w));
      _mm512_mask_storeu_ps (g + r * w, mask, res);
    }
}

/* exp(x) for x <= 0 on one register: the same reduction and polynomial as weft_v_exp
 * (weft-vmath.h), with AVX-512's scalef applying 2^k (exact, and gradual underflow to
 * 0 below -87 instead of a clamp): 12 instructions instead of 19. */
__attribute__ ((target ("avx512f"), always_inline)) static inline __m512
vexp_nonpositive512 (__m512 x)
{
  /* exp(-104) is 0 in float; max returns its second operand for NaN, so NaN stays NaN */
  x = _mm512_max_ps (_mm512_set1_ps (-104.0f), x);
  __m512 k = _mm512_roundscale_ps (_mm512_mul_ps (x, _mm512_set1_ps (1.44269504088896341f)),
                                   _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps (k, _mm512_set1_ps (0.693359375f), x);
  r = _mm512_fnmadd_ps (k, _mm512_set1_ps (-2.12194440e-4f), r);
  __m512 p = _mm512_fmadd_ps (r, _mm512_set1_ps (1.9875691500e-4f),
                              _mm512_set1_ps (1.3981999507e-3f));
  p = _mm512_fmadd_ps (p, r, _mm512_set1_ps (8.3334519073e-3f));
  p = _mm512_fmadd_ps (p, r, _mm512_set1_ps (4.1665795894e-2f));
  p = _mm512_fmadd_ps (p, r, _mm512_set1_ps (1.6666665459e-1f));
  p = _mm512_fmadd_ps (p, r, _mm512_set1_ps (5.0000001201e-1f));
  p = _mm512_fmadd_ps (_mm512_mul_ps (p, r), r, _mm512_add_ps (r, _mm512_set1_ps (1.0f)));
  return _mm512_scalef_ps (p, k);
}

/* Softmax of rows of w <= 16 values (plus bias, when not NULL), 16 rows (16 w contiguous
 * floats, w registers) at a time: the rows' maxima and sums come from WEFT_REDUCE16, and each
 * register of the block gets its rows' values back with one permute, so every exp,
 * subtraction and scaling runs on full registers. Returns the rows done (a multiple of
 * 16). */
__attribute__ ((target ("avx512f"))) static size_t
softmax_rows16_fwd (const float *x, const float *bias, float *y, size_t rows, int w)
{
  const __mmask16 mask = (__mmask16) ((1u << w) - 1);
  const __m512 row_bias = bias != NULL ? _mm512_maskz_loadu_ps (mask, bias)
                                       : _mm512_setzero_ps ();
  /* register c of a block: the WEFT_REDUCE16 lane of each value's row, and each value's
   * bias */
  __m512i lane_of[16], col_of[16];
  __m512 bias_of[16];
  weft_row16_layout (w, lane_of, col_of);
  for (int c = 0; c < w; c++)
    {
      lane_of[c] = weft_row16_lane (lane_of[c]);
      bias_of[c] = _mm512_permutexvar_ps (col_of[c], row_bias);
    }
  const __m512 neg_inf = _mm512_set1_ps (-INFINITY);
  size_t done = rows - rows % 16;
  for (size_t b = 0; b < done; b += 16)
    {
      const float *xb = x + b * w;
      float *yb = y + b * w;
      __m512 r[16];
      for (int i = 0; i < 16; i++)
        r[i] = _mm512_add_ps (_mm512_mask_loadu_ps (neg_inf, mask, xb + i * w), row_bias);
      WEFT_REDUCE16 (r, _mm512_max_ps);
      __m512 m = r[0];
      for (int c = 0; c < w; c++)
        {
          __m512 v = _mm512_add_ps (_mm512_loadu_ps (xb + 16 * c), bias_of[c]);
          v = _mm512_sub_ps (v, _mm512_permutexvar_ps (lane_of[c], m));
          _mm512_storeu_ps (yb + 16 * c, vexp_nonpositive512 (v));
        }
      for (int i = 0; i < 16; i++)
        r[i] = _mm512_maskz_loadu_ps (mask, yb + i * w);
      WEFT_REDUCE16 (r, _mm512_add_ps);
      __m512 inv = _mm512_div_ps (_mm512_set1_ps (1.0f), r[0]);
      for (int c = 0; c < w; c++)
        _mm512_storeu_ps (yb + 16 * c, _mm512_mul_ps (_mm512_loadu_ps (yb + 16 * c),
                                                      _mm512_permutexvar_ps (lane_of[c], inv)));
    }
  return done;
}

/* Softmax of rows wider than 16 (plus bias, when not NULL): per row a vector maximum, one
 * pass of exp and sum, and one scaling pass, all on full registers (the plain loops' maximum
 * and sum are scalar: floating point reductions do not vectorise without reassociation). */
__attribute__ ((target ("avx512f"))) static void
softmax_rows_wide_fwd (const float *x, const float *bias, float *y, size_t rows, size_t w)
{
  const size_t full = w - w % 16;
  const __mmask16 tail = (__mmask16) ((1u << (w % 16)) - 1);
  const __m512 neg_inf = _mm512_set1_ps (-INFINITY);
#define BIAS_AT(j, mask) (bias != NULL ? _mm512_maskz_loadu_ps (mask, bias + (j)) \
                                       : _mm512_setzero_ps ())
  for (size_t r = 0; r < rows; r++)
    {
      const float *xr = x + r * w;
      float *yr = y + r * w;
      __m512 vm = _mm512_add_ps (_mm512_mask_loadu_ps (neg_inf, tail, xr + full),
                                 BIAS_AT (full, tail));
      for (size_t j = 0; j < full; j += 16)
        vm = _mm512_max_ps (vm, _mm512_add_ps (_mm512_loadu_ps (xr + j), BIAS_AT (j, 0xffff)));
      __m512 m = _mm512_set1_ps (_mm512_reduce_max_ps (vm));
      __m512 vs = _mm512_setzero_ps ();
      for (size_t j = 0; j < full; j += 16)
        {
          __m512 v = _mm512_add_ps (_mm512_loadu_ps (xr + j), BIAS_AT (j, 0xffff));
          __m512 e = vexp_nonpositive512 (_mm512_sub_ps (v, m));
          _mm512_storeu_ps (yr + j, e);
          vs = _mm512_add_ps (vs, e);
        }
      if (tail != 0)
        {
          __m512 v = _mm512_add_ps (_mm512_maskz_loadu_ps (tail, xr + full),
                                    BIAS_AT (full, tail));
          __m512 e = _mm512_maskz_mov_ps (tail, vexp_nonpositive512 (_mm512_sub_ps (v, m)));
          _mm512_mask_storeu_ps (yr + full, tail, e);
          vs = _mm512_add_ps (vs, e);
        }
      __m512 inv = _mm512_set1_ps (1.0f / _mm512_reduce_add_ps (vs));
      for (size_t j = 0; j < full; j += 16)
        _mm512_storeu_ps (yr + j, _mm512_mul_ps (_mm512_loadu_ps (yr + j), inv));
      if (tail != 0)
        _mm512_mask_storeu_ps (yr + full, tail,
                               _mm512_mul_ps (_mm512_maskz_loadu_ps (tail, yr + full), inv));
    }
#undef BIAS_AT
}
#endif

/* y = softmax(x + bias) over rows of width (bias may be NULL; x == y allowed). */
WEFT_VECTOR_CLONES static void
softmax_rows (const float *x, const float *bias, float *y, size_t n, int width)
{
  size_t w = width > 0 ? (size_t) width : n;
  if (w == 0)
    return;
  WEFT_CHECK (n % w == 0);
#ifdef WEFT_HAVE_ROW16
  if (weft_cpu_has_avx512 ())
    {
      if (w > 16)
        {
          softmax_rows_wide_fwd (x, bias, y, n / w, w);
          return;
        }
      size_t done = softmax_rows16_fwd (x, bias, y, n / w, (int) w) * w;
      x += done;
      y += done;
      n -= done;
    }
#endif
  /* Shift every row by its maximum, then exponentiate the whole tensor in one flat loop:
   * rows as narrow as 10 classes would otherwise leave the vector loop unused. */
  for (size_t r = 0; r + w <= n; r += w)
    {
      const float *xr = x + r;
      float *yr = y + r;
      for (size_t j = 0; j < w; j++)
        yr[j] = xr[j] + (bias != NULL ? bias[j] : 0.0f);
      float m = yr[0];
      for (size_t j = 1; j < w; j++)
        m = yr[j] > m ? yr[j] : m;
      for (size_t j = 0; j < w; j++)
        yr[j] -= m;
    }
  WEFT_V_MAP (weft_v_exp, y, y, n);
  for (size_t r = 0; r + w <= n; r += w)
    {
      float *yr = y + r;
      float sum = 0.0f;   /* float32, as Keras sums it; terms in (0, 1], one of them 1 */
      for (size_t j = 0; j < w; j++)
        sum += yr[j];
      float inv = 1.0f / sum;
      for (size_t j = 0; j < w; j++)
        yr[j] *= inv;
    }
}

WEFT_VECTOR_CLONES void
weft_activation_forward (WeftActivation act, const float *x, float *y, size_t n, int width)
{
  switch (act)
    {
    case WEFT_ACT_LINEAR:
      if (x != y)
        for (size_t i = 0; i < n; i++)
          y[i] = x[i];
      break;
    case WEFT_ACT_RELU:
      for (size_t i = 0; i < n; i++)
        y[i] = x[i] > 0.0f ? x[i] : 0.0f;
      break;
    case WEFT_ACT_LEAKY_RELU:
      for (size_t i = 0; i < n; i++)
        y[i] = x[i] > 0.0f ? x[i] : LEAKY_ALPHA * x[i];
      break;
    case WEFT_ACT_ELU:
      for (size_t i = 0; i < n; i++)
        y[i] = x[i] > 0.0f ? x[i] : ELU_ALPHA * expm1f (x[i]);
      break;
    case WEFT_ACT_SELU:
      for (size_t i = 0; i < n; i++)
        y[i] = x[i] > 0.0f ? SELU_SCALE * x[i] : SELU_SCALE * SELU_ALPHA * expm1f (x[i]);
      break;
    case WEFT_ACT_GELU:
      for (size_t i = 0; i < n; i++)
        y[i] = 0.5f * x[i] * (1.0f + erff (x[i] * INV_SQRT2));
      break;
    case WEFT_ACT_SIGMOID:
      WEFT_V_MAP (weft_v_sigmoid, x, y, n);
      break;
    case WEFT_ACT_HARD_SIGMOID:
      for (size_t i = 0; i < n; i++)
        {
          float v = 0.2f * x[i] + 0.5f;
          y[i] = v < 0.0f ? 0.0f : (v > 1.0f ? 1.0f : v);
        }
      break;
    case WEFT_ACT_TANH:
      WEFT_V_MAP (weft_v_tanh, x, y, n);
      break;
    case WEFT_ACT_SOFTMAX:
      softmax_rows (x, NULL, y, n, width);
      break;
    case WEFT_ACT_SOFTPLUS:
      /* log(1 + e^x) = max(x, 0) + log1p(e^-|x|): no overflow, no loss for x << 0. */
      for (size_t i = 0; i < n; i++)
        y[i] = (x[i] > 0.0f ? x[i] : 0.0f) + log1pf (expf (-fabsf (x[i])));
      break;
    case WEFT_ACT_SOFTSIGN:
      for (size_t i = 0; i < n; i++)
        y[i] = x[i] / (1.0f + fabsf (x[i]));
      break;
    case WEFT_ACT_SWISH:
      for (size_t i = 0; i < n; i++)
        y[i] = x[i] * stable_sigmoid (x[i]);
      break;
    case WEFT_ACT_COUNT:
    default:
      WEFT_CHECK (!"unknown activation");
    }
}

/* x += bias on every row of `width`, then y = act(x): the output pass of a layer that
 * computed x = input * kernel. relu and linear, the common cases, take one pass. */
WEFT_VECTOR_CLONES void
weft_activation_forward_bias (WeftActivation act, float *x, const float *bias, float *y,
                              size_t n, int width)
{
  size_t w = width > 0 ? (size_t) width : n;
  if (bias == NULL || w == 0)
    {
      weft_activation_forward (act, x, y, n, width);
      return;
    }
  WEFT_CHECK (n % w == 0);
  if (act == WEFT_ACT_RELU || act == WEFT_ACT_LINEAR)
    {
      bool relu = act == WEFT_ACT_RELU;
      for (size_t r = 0; r < n; r += w)
        {
          float *xr = x + r, *yr = y + r;
          if (relu)
            for (size_t j = 0; j < w; j++)
              {
                float v = xr[j] + bias[j];
                yr[j] = v > 0.0f ? v : 0.0f;
              }
          else
            for (size_t j = 0; j < w; j++)
              yr[j] = xr[j] + bias[j];
        }
      return;
    }
  if (act == WEFT_ACT_SOFTMAX)
    {
      softmax_rows (x, bias, y, n, width);
      return;
    }
  for (size_t r = 0; r < n; r += w)
    for (size_t j = 0; j < w; j++)
      x[r + j] += bias[j];
  weft_activation_forward (act, x, y, n, width);
}

/* The derivative per activation; the switch sits outside the loops so that each loop
 * vectorises. D(i) is act'(.) at element i; OP applies it. */
#define FOR_EACH_DERIVATIVE(OP)                                                            \
  switch (act)                                                                             \
    {                                                                                      \
    case WEFT_ACT_RELU:                                                                    \
      for (size_t i = 0; i < n; i++) OP (i, y[i] > 0.0f ? 1.0f : 0.0f);                     \
      break;                                                                               \
    case WEFT_ACT_LEAKY_RELU:                                                              \
      for (size_t i = 0; i < n; i++) OP (i, s[i] > 0.0f ? 1.0f : LEAKY_ALPHA);              \
      break;                                                                               \
    case WEFT_ACT_ELU:                                                                     \
      for (size_t i = 0; i < n; i++) OP (i, s[i] > 0.0f ? 1.0f : y[i] + ELU_ALPHA);         \
      break;                                                                               \
    case WEFT_ACT_SELU:                                                                    \
      for (size_t i = 0; i < n; i++)                                                       \
        OP (i, s[i] > 0.0f ? SELU_SCALE : y[i] + SELU_SCALE * SELU_ALPHA);                 \
      break;                                                                               \
    case WEFT_ACT_GELU:                                                                    \
      for (size_t i = 0; i < n; i++)                                                       \
        OP (i, 0.5f * (1.0f + erff (x[i] * INV_SQRT2))                                     \
               + x[i] * INV_SQRT2PI * expf (-0.5f * x[i] * x[i]));                         \
      break;                                                                               \
    case WEFT_ACT_SIGMOID:                                                                 \
      for (size_t i = 0; i < n; i++) OP (i, y[i] * (1.0f - y[i]));                         \
      break;                                                                               \
    case WEFT_ACT_HARD_SIGMOID:                                                            \
      for (size_t i = 0; i < n; i++) OP (i, y[i] > 0.0f && y[i] < 1.0f ? 0.2f : 0.0f);      \
      break;                                                                               \
    case WEFT_ACT_TANH:                                                                    \
      for (size_t i = 0; i < n; i++) OP (i, 1.0f - y[i] * y[i]);                           \
      break;                                                                               \
    case WEFT_ACT_SOFTPLUS:                                                                \
      for (size_t i = 0; i < n; i++) OP (i, stable_sigmoid (x[i]));                        \
      break;                                                                               \
    case WEFT_ACT_SOFTSIGN:                                                                \
      for (size_t i = 0; i < n; i++) OP (i, (1.0f - fabsf (y[i])) * (1.0f - fabsf (y[i])));\
      break;                                                                               \
    case WEFT_ACT_SWISH:                                                                   \
      for (size_t i = 0; i < n; i++)                                                       \
        {                                                                                  \
          float sg = stable_sigmoid (x[i]);                                                \
          OP (i, sg + x[i] * sg * (1.0f - sg));                                            \
        }                                                                                  \
      break;                                                                               \
    default:                                                                               \
      WEFT_CHECK (!"not an element-wise activation");                                      \
    }

static void
check_input (WeftActivation act, const float *x)
{
  /* elu, selu and leaky_relu can fall back on y (same sign as x). */
  if (act == WEFT_ACT_GELU || act == WEFT_ACT_SOFTPLUS || act == WEFT_ACT_SWISH)
    WEFT_CHECK (x != NULL);
}

WEFT_VECTOR_CLONES void
weft_activation_backward (WeftActivation act, const float *x, const float *y,
                          const float *dy, float *dx, size_t n, int width)
{
  WEFT_CHECK ((unsigned) act < WEFT_ACT_COUNT);
  check_input (act, x);
  if (act == WEFT_ACT_LINEAR)
    {
      for (size_t i = 0; i < n; i++)
        dx[i] += dy[i];
      return;
    }
  if (act == WEFT_ACT_SOFTMAX)
    {
      size_t w = width > 0 ? (size_t) width : n;
      if (w == 0)
        return;
      WEFT_CHECK (n % w == 0);
      for (size_t r = 0; r + w <= n; r += w)
        {
          float dot = 0.0f;
          for (size_t j = 0; j < w; j++)
            dot += dy[r + j] * y[r + j];
          for (size_t j = 0; j < w; j++)
            dx[r + j] += y[r + j] * (dy[r + j] - dot);
        }
      return;
    }
  /* elu, selu and leaky_relu only need the sign of x, which y shares. */
  const float *s = x != NULL ? x : y;
#define ADD_DX(i, d) dx[i] += (d) * dy[i]
  FOR_EACH_DERIVATIVE (ADD_DX)
#undef ADD_DX
}

WEFT_VECTOR_CLONES void
weft_activation_grad (WeftActivation act, const float *x, const float *y, const float *dy,
                      float *g, size_t n, int width)
{
  WEFT_CHECK ((unsigned) act < WEFT_ACT_COUNT);
  check_input (act, x);
  if (act == WEFT_ACT_LINEAR)
    {
      if (g != dy)
        memcpy (g, dy, n * sizeof *g);
      return;
    }
  if (act == WEFT_ACT_SOFTMAX)
    {
      size_t w = width > 0 ? (size_t) width : n;
      if (w == 0)
        return;
      WEFT_CHECK (n % w == 0);
#ifdef WEFT_HAVE_ROW16
      if (w <= 16 && weft_cpu_has_avx512 ())
        {
          softmax_grad_rows16 (y, dy, g, n / w, (int) w, false);
          return;
        }
#endif
      /* float, not double: a row is a few dozen terms of one sign-mixed sum whose result
       * is rounded to float anyway */
      for (size_t r = 0; r + w <= n; r += w)
        {
          float dot = 0.0f;
          for (size_t j = 0; j < w; j++)
            dot += dy[r + j] * y[r + j];
          for (size_t j = 0; j < w; j++)
            g[r + j] = y[r + j] * (dy[r + j] - dot);
        }
      return;
    }
  const float *s = x != NULL ? x : y;
#define SET_G(i, d) g[i] = (d) * dy[i]
  FOR_EACH_DERIVATIVE (SET_G)
#undef SET_G
}

/* relu's g = dy where y > 0 for rows of w values, with the column sums of g (the bias
 * gradient) taken in the same pass: a product by the 0/1 derivative as in
 * FOR_EACH_DERIVATIVE, which vectorises (a select compiled to a branch per value here).
 * Inlined with w a constant for the common widths, so that the sums stay in registers
 * (through memory they were two thirds of the pass), four rows into four sets of them (one
 * set waits for each add). */
static inline __attribute__ ((always_inline)) void
relu_grad_sum_rows_w (const float *restrict y, const float *restrict dy, float *restrict g,
                      size_t rows, const size_t w, float *restrict db, bool assign)
{
  float acc[4][64];
  for (size_t j = 0; j < w; j++)
    {
      acc[0][j] = assign ? 0.0f : db[j];
      acc[1][j] = acc[2][j] = acc[3][j] = 0.0f;
    }
  size_t r = 0;
  for (; r + 4 <= rows; r += 4)
    for (int k = 0; k < 4; k++)
      {
        const float *yr = y + (r + k) * w, *dr = dy + (r + k) * w;
        float *gr = g + (r + k) * w;
        for (size_t j = 0; j < w; j++)
          {
            float v = (yr[j] > 0.0f ? 1.0f : 0.0f) * dr[j];
            gr[j] = v;
            acc[k][j] += v;
          }
      }
  for (; r < rows; r++)
    for (size_t j = 0; j < w; j++)
      {
        float v = (y[r * w + j] > 0.0f ? 1.0f : 0.0f) * dy[r * w + j];
        g[r * w + j] = v;
        acc[0][j] += v;
      }
  for (size_t j = 0; j < w; j++)
    db[j] = (acc[0][j] + acc[1][j]) + (acc[2][j] + acc[3][j]);
}

WEFT_VECTOR_CLONES static void
relu_grad_sum_rows (const float *restrict y, const float *restrict dy, float *restrict g,
                    size_t rows, size_t w, float *restrict db, bool assign)
{
  switch (w)
    {
    case 16:
      relu_grad_sum_rows_w (y, dy, g, rows, 16, db, assign);
      return;
    case 32:
      relu_grad_sum_rows_w (y, dy, g, rows, 32, db, assign);
      return;
    case 64:
      relu_grad_sum_rows_w (y, dy, g, rows, 64, db, assign);
      return;
    default:
      break;
    }
  if (assign)
    memset (db, 0, w * sizeof *db);
  for (size_t r = 0; r < rows; r++)
    {
      const float *yr = y + r * w, *dr = dy + r * w;
      float *gr = g + r * w;
      for (size_t j = 0; j < w; j++)
        {
          float v = (yr[j] > 0.0f ? 1.0f : 0.0f) * dr[j];
          gr[j] = v;
          db[j] += v;
        }
    }
}

void
weft_activation_grad_sum_rows (WeftActivation act, const float *x, const float *y,
                               const float *dy, float *g, size_t n, int width, float *db,
                               bool assign)
{
  WEFT_CHECK (width > 0 && n % (size_t) width == 0);
  if (act == WEFT_ACT_RELU)
    {
      relu_grad_sum_rows (y, dy, g, n / (size_t) width, (size_t) width, db, assign);
      return;
    }
  weft_activation_grad (act, x, y, dy, g, n, width);
  weft_sum_rows (g, (int) (n / (size_t) width), width, assign, db);
}

void
weft_activation_grad_inplace (WeftActivation act, const float *x, const float *y,
                              float *dy, size_t n, int width)
{
  weft_activation_grad (act, x, y, dy, dy, n, width);
}

bool
weft_activation_needs_input (WeftActivation act)
{
  switch (act)
    {
    case WEFT_ACT_GELU:
    case WEFT_ACT_SWISH:
    case WEFT_ACT_SELU:
    case WEFT_ACT_ELU:
    case WEFT_ACT_LEAKY_RELU:
    case WEFT_ACT_SOFTPLUS:
      return true;
    default:
      return false;
    }
}
