/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "weft-optim.h"
#include "weft-blas.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#if defined(__SSE__)
#include <xmmintrin.h>
#endif

/* The kernels below run every step over every parameter (up to tens of millions). They walk
 * the arrays in blocks of LANES with a fixed-count inner loop, which GCC vectorises even at
 * -O2 (its "very cheap" cost model refuses open-ended loops), and take square roots through
 * a vector type, because sqrtf keeps the loop scalar whenever -fmath-errno is on. */
#define LANES 8

typedef float WeftVec4 __attribute__ ((vector_size (16)));

static inline WeftVec4
vec_load (const float *p)
{
  WeftVec4 v;
  memcpy (&v, p, sizeof v);
  return v;
}

static inline void
vec_store (float *p, WeftVec4 v)
{
  memcpy (p, &v, sizeof v);
}

static inline WeftVec4
vec_sqrt (WeftVec4 x)
{
#if defined(__SSE__)
  return (WeftVec4) _mm_sqrt_ps ((__m128) x);
#else
  WeftVec4 r;
  for (int j = 0; j < 4; j++)
    r[j] = sqrtf (x[j]);
  return r;
#endif
}

struct _WeftOptim
{
  WeftOptimConfig config;
  size_t          n_params;
  int64_t         iterations;
  float          *state;
  size_t          state_size;
  float          *m;          /* SGD/RMSprop momentum, Adam first moment; NULL if unused */
  float          *v;          /* Adam second moment, RMSprop mean square; NULL if unused */
};

void
weft_optim_config_defaults (WeftOptimKind kind, WeftOptimConfig *config)
{
  WEFT_CHECK (config != NULL);
  memset (config, 0, sizeof *config);
  config->kind = kind;
  config->learning_rate = kind == WEFT_OPTIM_SGD ? 0.01f : 0.001f;
  config->momentum = 0.0f;
  config->nesterov = false;
  config->beta_1 = 0.9f;
  config->beta_2 = 0.999f;
  config->epsilon = 1e-7f;
  config->rho = 0.9f;
  config->weight_decay = kind == WEFT_OPTIM_ADAMW ? 0.004f : 0.0f;
  config->clipnorm = 0.0f;
  config->global_clipnorm = 0.0f;
}

void
weft_train_config_defaults (WeftTrainConfig *config)
{
  WEFT_CHECK (config != NULL);
  memset (config, 0, sizeof *config);
  weft_optim_config_defaults (WEFT_OPTIM_ADAM, &config->optimizer);
  config->epochs = 10;
  config->batch_size = 32;
  config->validation_split = 0.0f;
  config->shuffle = true;
  config->seed = 0;
  config->threads = 0;
  config->data[0] = '\0';
}

/* ---- kernels ---- */

static void
kernel_scale (float *restrict g, size_t n, float s)
{
  size_t i = 0;
  for (; i + LANES <= n; i += LANES)
    for (size_t j = 0; j < LANES; j++)
      g[i + j] *= s;
  for (; i < n; i++)
    g[i] *= s;
}

static double
kernel_sum_squares (const float *restrict g, size_t n)
{
  double acc[LANES] = { 0 };
  size_t i = 0;
  for (; i + LANES <= n; i += LANES)
    for (size_t j = 0; j < LANES; j++)
      acc[j] += (double) g[i + j] * (double) g[i + j];
  double sum = 0.0;
  for (; i < n; i++)
    sum += (double) g[i] * (double) g[i];
  for (size_t j = 0; j < LANES; j++)
    sum += acc[j];
  return sum;
}

/* p -= lr * g (callers fold the global clipping factor into lr) */
static void
kernel_sgd (float *restrict p, const float *restrict g, size_t n, float lr)
{
  size_t i = 0;
  for (; i + LANES <= n; i += LANES)
    for (size_t j = 0; j < LANES; j++)
      p[i + j] -= lr * g[i + j];
  for (; i < n; i++)
    p[i] -= lr * g[i];
}

/* m = mu*m - lr*g; p += m (or, Nesterov, p += mu*m - lr*g) */
static void
kernel_sgd_momentum (float *restrict p, const float *restrict g, float *restrict m, size_t n,
                     float lr, float mu, bool nesterov)
{
  size_t i = 0;
  if (nesterov)
    {
      for (; i + LANES <= n; i += LANES)
        for (size_t j = 0; j < LANES; j++)
          {
            float mj = mu * m[i + j] - lr * g[i + j];
            m[i + j] = mj;
            p[i + j] += mu * mj - lr * g[i + j];
          }
      for (; i < n; i++)
        {
          float mi = mu * m[i] - lr * g[i];
          m[i] = mi;
          p[i] += mu * mi - lr * g[i];
        }
    }
  else
    {
      for (; i + LANES <= n; i += LANES)
        for (size_t j = 0; j < LANES; j++)
          {
            float mj = mu * m[i + j] - lr * g[i + j];
            m[i + j] = mj;
            p[i + j] += mj;
          }
      for (; i < n; i++)
        {
          float mi = mu * m[i] - lr * g[i];
          m[i] = mi;
          p[i] += mi;
        }
    }
}

/* Decoupled weight decay (AdamW): p -= f * p with f = lr * weight_decay. */
static void
kernel_decay (float *restrict p, size_t n, float f)
{
  size_t i = 0;
  for (; i + LANES <= n; i += LANES)
    for (size_t j = 0; j < LANES; j++)
      p[i + j] -= f * p[i + j];
  for (; i < n; i++)
    p[i] -= f * p[i];
}

/* with g = gs * grad: m += (g - m)(1 - b1); v += (g^2 - v)(1 - b2);
 * p -= lr_t * m / (sqrt(v) + eps) */
/* Adam touches every parameter three times a step and, for small models, costs more than
 * the matrix products: a plain loop the compiler vectorises for the widest unit the CPU has
 * (clone chosen at load time; the build targets plain x86-64). */
WEFT_VECTOR_CLONES static void
kernel_adam (float *restrict p, const float *restrict grad, float *restrict m,
             float *restrict v, size_t n, float gs, float lr_t, float b1, float b2, float eps)
{
  const float c1 = 1.0f - b1, c2 = 1.0f - b2;
  for (size_t i = 0; i < n; i++)
    {
      float gi = gs * grad[i];
      float mi = m[i] + (gi - m[i]) * c1;
      float vi = v[i] + (gi * gi - v[i]) * c2;
      m[i] = mi;
      v[i] = vi;
      p[i] -= lr_t * mi / (sqrtf (vi) + eps);
    }
}

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define HAVE_ADAM_AVX512 1
#include <float.h>
#include <immintrin.h>

/* kernel_adam with the square root and the division by Newton-refined AVX-512 estimates
 * (rsqrt14, rcp14, one step each: relative error ~3e-7 of the step, within the float noise
 * of Keras' own update). vsqrtps and vdivps cost ~75% of Adam, and Adam as much as the
 * products of a small model. Lanes with v = 0 (or below FLT_MIN, whose root is far below
 * eps; callers ensure eps >= 1e-10) take a root of 0; a vector holding a NaN or an infinite
 * v takes the exact formula. */
__attribute__ ((target ("avx512f"))) static void
kernel_adam_avx512 (float *restrict p, const float *restrict grad, float *restrict m,
                    float *restrict v, size_t n, float gs, float lr_t, float b1, float b2,
                    float eps)
{
  const float c1 = 1.0f - b1, c2 = 1.0f - b2;
  const __m512 vgs = _mm512_set1_ps (gs), vc1 = _mm512_set1_ps (c1), vc2 = _mm512_set1_ps (c2);
  const __m512 veps = _mm512_set1_ps (eps), vlr = _mm512_set1_ps (lr_t);
  const __m512 half = _mm512_set1_ps (0.5f), three_halves = _mm512_set1_ps (1.5f);
  const __m512 two = _mm512_set1_ps (2.0f), tiny = _mm512_set1_ps (FLT_MIN);
  const __m512 huge = _mm512_set1_ps (FLT_MAX);
  size_t i = 0;
  for (; i + 16 <= n; i += 16)
    {
      __m512 gi = _mm512_mul_ps (vgs, _mm512_loadu_ps (grad + i));
      __m512 mi = _mm512_loadu_ps (m + i), vi = _mm512_loadu_ps (v + i);
      /* m + (g - m) c1 and v + (g^2 - v) c2, as kernel_adam rounds them */
      mi = _mm512_add_ps (mi, _mm512_mul_ps (_mm512_sub_ps (gi, mi), vc1));
      vi = _mm512_add_ps (vi, _mm512_mul_ps (_mm512_sub_ps (_mm512_mul_ps (gi, gi), vi), vc2));
      _mm512_storeu_ps (m + i, mi);
      _mm512_storeu_ps (v + i, vi);
      __m512 pi = _mm512_loadu_ps (p + i);
      if (_mm512_cmp_ps_mask (vi, huge, _CMP_LE_OQ) != 0xffff)
        {
          /* NaN or infinity somewhere: exactly as kernel_adam */
          __m512 d = _mm512_add_ps (_mm512_sqrt_ps (vi), veps);
          _mm512_storeu_ps (p + i, _mm512_sub_ps (pi, _mm512_div_ps (_mm512_mul_ps (vlr, mi), d)));
          continue;
        }
      __m512 y = _mm512_rsqrt14_ps (vi);
      /* y (1.5 - 0.5 v y^2) */
      y = _mm512_mul_ps (y, _mm512_fnmadd_ps (_mm512_mul_ps (half, vi), _mm512_mul_ps (y, y),
                                              three_halves));
      __mmask16 normal = _mm512_cmp_ps_mask (vi, tiny, _CMP_GE_OQ);
      __m512 root = _mm512_maskz_mul_ps (normal, vi, y);
      __m512 d = _mm512_add_ps (root, veps);
      __m512 r = _mm512_rcp14_ps (d);
      r = _mm512_mul_ps (r, _mm512_fnmadd_ps (d, r, two));
      _mm512_storeu_ps (p + i, _mm512_fnmadd_ps (_mm512_mul_ps (vlr, mi), r, pi));
    }
  if (i < n)
    kernel_adam (p + i, grad + i, m + i, v + i, n - i, gs, lr_t, b1, b2, eps);
}

#endif

/* with g = gs * grad: v = rho*v + (1-rho) g^2; step = lr*g / (sqrt(v) + eps);
 * without momentum p -= step, with it m = mu*m + step; p -= m */
static void
kernel_rmsprop (float *restrict p, const float *restrict grad, float *restrict v,
                float *restrict m, size_t n, float gs, float lr, float rho, float eps,
                float mu)
{
  const float c = 1.0f - rho;
  size_t i = 0;
  for (; i + 4 <= n; i += 4)
    {
      WeftVec4 gv = gs * vec_load (grad + i);
      WeftVec4 vv = rho * vec_load (v + i) + c * gv * gv;
      vec_store (v + i, vv);
      WeftVec4 step = lr * gv / (vec_sqrt (vv) + eps);
      if (m != NULL)
        {
          step = mu * vec_load (m + i) + step;
          vec_store (m + i, step);
        }
      vec_store (p + i, vec_load (p + i) - step);
    }
  for (; i < n; i++)
    {
      float gi = gs * grad[i];
      float vi = rho * v[i] + c * gi * gi;
      v[i] = vi;
      float step = lr * gi / (sqrtf (vi) + eps);
      if (m != NULL)
        {
          step = mu * m[i] + step;
          m[i] = step;
        }
      p[i] -= step;
    }
}

/* ---- public API ---- */

WeftOptim *
weft_optim_new (const WeftOptimConfig *config, size_t n_params)
{
  WEFT_CHECK (config != NULL);

  size_t per_param;
  switch (config->kind)
    {
    case WEFT_OPTIM_SGD:
      per_param = config->momentum != 0.0f ? 1 : 0;
      break;
    case WEFT_OPTIM_ADAM:
    case WEFT_OPTIM_ADAMW:
      per_param = 2;
      break;
    case WEFT_OPTIM_RMSPROP:
      per_param = config->momentum != 0.0f ? 2 : 1;
      break;
    default:
      WEFT_CHECK (!"unknown optimizer kind");
      return NULL;
    }

  if (per_param != 0 && n_params > SIZE_MAX / sizeof (float) / per_param)
    return NULL;

  WeftOptim *optim = calloc (1, sizeof *optim);
  if (optim == NULL)
    return NULL;
  optim->config = *config;
  optim->n_params = n_params;
  optim->state_size = per_param * n_params;

  if (optim->state_size > 0)
    {
      /* 64-byte alignment keeps vector loads within cache lines. */
      size_t bytes = optim->state_size * sizeof (float);
      bytes = (bytes + 63) / 64 * 64;
      optim->state = aligned_alloc (64, bytes);
      if (optim->state == NULL)
        {
          free (optim);
          return NULL;
        }
      memset (optim->state, 0, bytes);
    }

  switch (config->kind)
    {
    case WEFT_OPTIM_SGD:
      optim->m = per_param ? optim->state : NULL;
      break;
    case WEFT_OPTIM_ADAM:
    case WEFT_OPTIM_ADAMW:
      optim->m = optim->state;
      optim->v = optim->state + n_params;
      break;
    case WEFT_OPTIM_RMSPROP:
      optim->v = optim->state;
      optim->m = per_param == 2 ? optim->state + n_params : NULL;
      break;
    default:
      break;
    }
  return optim;
}

void
weft_optim_free (WeftOptim *optim)
{
  if (optim == NULL)
    return;
  free (optim->state);
  free (optim);
}

void
weft_optim_set_learning_rate (WeftOptim *optim, float lr)
{
  WEFT_CHECK (optim != NULL);
  optim->config.learning_rate = lr;
}

int64_t
weft_optim_iterations (const WeftOptim *optim)
{
  WEFT_CHECK (optim != NULL);
  return optim->iterations;
}

void
weft_optim_set_iterations (WeftOptim *optim, int64_t iterations)
{
  WEFT_CHECK (optim != NULL && iterations >= 0);
  optim->iterations = iterations;
}

size_t
weft_optim_state_size (const WeftOptim *optim)
{
  WEFT_CHECK (optim != NULL);
  return optim->state_size;
}

float *
weft_optim_state (WeftOptim *optim)
{
  WEFT_CHECK (optim != NULL);
  return optim->state;
}

/* Clips each trainable slice to clipnorm in place, and returns the factor that
 * global_clipnorm asks for (1 when off); the update kernels apply that factor, which saves
 * two passes over the gradients. The global norm is the one after per-slice clipping. */
static float
clip_gradients (const WeftOptimConfig *c, float *grads, const WeftParamSlice *slices,
                int n_slices)
{
  if (c->clipnorm <= 0.0f && c->global_clipnorm <= 0.0f)
    return 1.0f;

  double global_sq = 0.0;
  for (int s = 0; s < n_slices; s++)
    {
      if (!slices[s].trainable)
        continue;
      float *g = grads + slices[s].offset;
      double sq = kernel_sum_squares (g, slices[s].count);
      double norm = sqrt (sq);
      /* A non-finite norm is left alone so the NaN/Inf reaches the parameters and the
       * trainer reports it, instead of being hidden by a scale of 0. */
      if (c->clipnorm > 0.0f && isfinite (norm) && norm > c->clipnorm)
        {
          kernel_scale (g, slices[s].count, (float) (c->clipnorm / norm));
          sq = (double) c->clipnorm * c->clipnorm;
        }
      global_sq += sq;
    }

  double norm = sqrt (global_sq);
  if (c->global_clipnorm > 0.0f && isfinite (norm) && norm > c->global_clipnorm)
    return (float) (c->global_clipnorm / norm);
  return 1.0f;
}

void
weft_optim_step (WeftOptim *optim, float *params, float *grads,
                 const WeftParamSlice *slices, int n_slices)
{
  WEFT_CHECK (optim != NULL && n_slices >= 0);
  WEFT_CHECK (n_slices == 0 || (params != NULL && grads != NULL && slices != NULL));
  for (int s = 0; s < n_slices; s++)
    WEFT_CHECK (slices[s].offset <= optim->n_params
                && slices[s].count <= optim->n_params - slices[s].offset);

  const WeftOptimConfig *c = &optim->config;
  float gs = clip_gradients (c, grads, slices, n_slices);

  /* Keras counts from 1 in the bias correction: t = iterations + 1. */
  double t = (double) optim->iterations + 1.0;
  float lr = c->learning_rate;
  float lr_t = (float) (lr * sqrt (1.0 - pow (c->beta_2, t)) / (1.0 - pow (c->beta_1, t)));

  for (int s = 0; s < n_slices; s++)
    {
      if (!slices[s].trainable || slices[s].count == 0)
        continue;
      size_t off = slices[s].offset;
      size_t n = slices[s].count;
      float *p = params + off;
      const float *g = grads + off;

      switch (c->kind)
        {
        case WEFT_OPTIM_SGD:
          if (optim->m != NULL)
            kernel_sgd_momentum (p, g, optim->m + off, n, lr * gs, c->momentum, c->nesterov);
          else
            kernel_sgd (p, g, n, lr * gs);
          break;

        case WEFT_OPTIM_ADAMW:
          if (slices[s].decay && c->weight_decay != 0.0f)
            kernel_decay (p, n, lr * c->weight_decay);
          /* fall through */
        case WEFT_OPTIM_ADAM:
#ifdef HAVE_ADAM_AVX512
          if (c->epsilon >= 1e-10f && weft_cpu_has_avx512 ())
            {
              kernel_adam_avx512 (p, g, optim->m + off, optim->v + off, n, gs, lr_t, c->beta_1,
                                  c->beta_2, c->epsilon);
              break;
            }
#endif
          kernel_adam (p, g, optim->m + off, optim->v + off, n, gs, lr_t, c->beta_1,
                       c->beta_2, c->epsilon);
          break;

        case WEFT_OPTIM_RMSPROP:
          kernel_rmsprop (p, g, optim->v + off, optim->m != NULL ? optim->m + off : NULL, n,
                          gs, lr, c->rho, c->epsilon, c->momentum);
          break;

        default:
          WEFT_CHECK (!"unknown optimizer kind");
        }
    }
  optim->iterations++;
}
