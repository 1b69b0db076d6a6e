/* SPDX-License-Identifier: GPL-3.0-or-later */
/* weft-vmath.h: exp, sigmoid and tanh on vectors of 16 floats (GCC vector extensions) for the
 * element-wise loops of activations and recurrent gates, where libm's expf and tanhf are a
 * call per element and do not vectorise. Everything here is inlined into its callers, which
 * are compiled per vector unit (WEFT_VECTOR_CLONES): one zmm register with AVX-512, four xmm
 * in the baseline build; the wide vectors never cross a call, so GCC's ABI note about them
 * does not apply. Engine-internal, no GLib. */
#pragma once

#include <stdint.h>
#include <string.h>

#pragma GCC diagnostic ignored "-Wpsabi"

typedef float    WeftVF __attribute__ ((vector_size (64)));
typedef int32_t  WeftVI __attribute__ ((vector_size (64)));
typedef uint32_t WeftVU __attribute__ ((vector_size (64)));
#define WEFT_VF_LANES 16
#define WEFT_V_INLINE static inline __attribute__ ((always_inline))

WEFT_V_INLINE WeftVF
weft_v_select (WeftVI mask, WeftVF a, WeftVF b)
{
  return (WeftVF) (((WeftVI) a & mask) | ((WeftVI) b & ~mask));
}

/* exp(x), clamped to [-87, 88] so that 2^k stays a normal float: Cody-Waite range reduction
 * and Cephes' degree-6 polynomial, within 2 ulp of expf (max relative error 1.5e-7 against
 * double). */
WEFT_V_INLINE WeftVF
weft_v_exp (WeftVF x)
{
  const WeftVF zero = { 0 };
  x = weft_v_select (x < -87.0f, zero - 87.0f, x);
  x = weft_v_select (x > 88.0f, zero + 88.0f, x);
  const float magic = 12582912.0f;             /* 1.5 * 2^23: adding it rounds to integer */
  WeftVF k = (x * 1.44269504088896341f + magic) - magic;
  WeftVF r = x - k * 0.693359375f + k * 2.12194440e-4f;
  WeftVF p = r * 1.9875691500e-4f + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  /* 2^k built in the exponent field; unsigned so that a NaN lane (already NaN in p) cannot
   * make the shift undefined */
  WeftVU e = (WeftVU) (__builtin_convertvector (k, WeftVI) + 127) << 23;
  return p * (WeftVF) e;
}

WEFT_V_INLINE WeftVF
weft_v_sigmoid (WeftVF x)
{
  return 1.0f / (1.0f + weft_v_exp (-x));
}

/* 1 - 2/(e^2x + 1) loses relative precision near 0, where the odd series takes over. */
WEFT_V_INLINE WeftVF
weft_v_tanh (WeftVF x)
{
  WeftVF big = 1.0f - 2.0f / (weft_v_exp (2.0f * x) + 1.0f);
  WeftVF x2 = x * x;
  WeftVF small = x + x * x2 * (-3.33333333e-1f + x2 * (1.33333333e-1f + x2 * (-5.39682540e-2f
                   + x2 * 2.18694885e-2f)));
  return weft_v_select (x2 < 0.0625f, small, big);
}

WEFT_V_INLINE WeftVF
weft_v_load (const float *p)
{
  WeftVF v;
  memcpy (&v, p, sizeof v);
  return v;
}

WEFT_V_INLINE void
weft_v_store (float *p, WeftVF v)
{
  memcpy (p, &v, sizeof v);
}

/* Lanes [0, m) of p into a vector padded with zeros, and back. */
WEFT_V_INLINE WeftVF
weft_v_load_part (const float *p, int m)
{
  WeftVF v = { 0 };
  memcpy (&v, p, sizeof (float) * m);
  return v;
}

WEFT_V_INLINE void
weft_v_store_part (float *p, WeftVF v, int m)
{
  memcpy (p, &v, sizeof (float) * m);
}

/* y[i] = F(x[i]) for i < n (x == y allowed): whole vectors, then the tail through a padded
 * vector, so that every element takes the same path and results do not depend on an
 * element's position. */
#define WEFT_V_MAP(F, x, y, n)                                                             \
  do                                                                                       \
    {                                                                                      \
      size_t i_ = 0, n_ = (n);                                                             \
      for (; i_ + WEFT_VF_LANES <= n_; i_ += WEFT_VF_LANES)                                \
        weft_v_store ((y) + i_, F (weft_v_load ((x) + i_)));                               \
      if (i_ < n_)                                                                         \
        weft_v_store_part ((y) + i_, F (weft_v_load_part ((x) + i_, (int) (n_ - i_))),     \
                           (int) (n_ - i_));                                               \
    }                                                                                      \
  while (0)
