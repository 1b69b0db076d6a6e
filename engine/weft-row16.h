/* SPDX-License-Identifier: GPL-3.0-or-later */
/* weft-row16.h: blocks of 16 rows of w <= 16 floats (a classifier's 10 classes) on AVX-512.
 * A block is 16 w contiguous floats, so it fills w registers exactly; its rows are reduced
 * 16 at a time (WEFT_REDUCE16) and each register gets its values' row results back with one
 * permute. Softmax (weft-activation.c) and its cross-entropy (weft-loss.c) run on these
 * blocks: per-row scalar loops over 10 values cost more than the small products around
 * them. Engine-internal, no GLib; only for GCC on x86-64, in functions compiled with
 * target ("avx512f") and called after weft_cpu_has_avx512 (). */
#pragma once

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define WEFT_HAVE_ROW16 1
#pragma GCC diagnostic ignored "-Wpsabi"
#include <immintrin.h>

/* Reduces 16 row registers at once with op (max or add): r[i] holds row i's values; the
 * result's lane 4k + j holds row k + 4j's reduction (16 - 1 combining steps of two shuffles
 * each, instead of a shuffle tree per row). */
#define WEFT_REDUCE16(r, OP)                                                               \
  do                                                                                       \
    {                                                                                      \
      for (int i_ = 0; i_ < 8; i_++)   /* rows 2i, 2i+1: 8 partials each */                \
        r[i_] = OP (_mm512_shuffle_f32x4 (r[2 * i_], r[2 * i_ + 1], 0x44),                 \
                    _mm512_shuffle_f32x4 (r[2 * i_], r[2 * i_ + 1], 0xEE));                \
      for (int i_ = 0; i_ < 4; i_++)   /* rows 4i..4i+3: 4 partials each */                \
        r[i_] = OP (_mm512_shuffle_f32x4 (r[2 * i_], r[2 * i_ + 1], 0x88),                 \
                    _mm512_shuffle_f32x4 (r[2 * i_], r[2 * i_ + 1], 0xDD));                \
      for (int i_ = 0; i_ < 2; i_++)   /* 128-bit lane k: rows k, k+4 (or 8+k, 12+k) */    \
        r[i_] = OP (_mm512_shuffle_ps (r[2 * i_], r[2 * i_ + 1], 0x44),                    \
                    _mm512_shuffle_ps (r[2 * i_], r[2 * i_ + 1], 0xEE));                   \
      r[0] = OP (_mm512_shuffle_ps (r[0], r[1], 0x88), _mm512_shuffle_ps (r[0], r[1], 0xDD)); \
    }                                                                                      \
  while (0)

/* The WEFT_REDUCE16 lane that holds row `row`'s result (rows 0..15, per lane). */
__attribute__ ((target ("avx512f"), always_inline)) static inline __m512i
weft_row16_lane (__m512i row)
{
  return _mm512_add_epi32 (_mm512_slli_epi32 (_mm512_and_si512 (row, _mm512_set1_epi32 (3)), 2),
                           _mm512_srli_epi32 (row, 2));
}

/* For register c < w of a block of rows of w values: the row (0..15) of each of its values
 * in row_of[c] and its column (0..w-1) in col_of[c] (either may be NULL). Vector arithmetic:
 * a per-call scalar table cost as much as a 32-row softmax. */
__attribute__ ((target ("avx512f"), always_inline)) static inline void
weft_row16_layout (int w, __m512i *row_of, __m512i *col_of)
{
  const __m512i iota = _mm512_set_epi32 (15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
  const __m512 inv_w = _mm512_set1_ps (1.0f / (float) w);
  for (int c = 0; c < w; c++)
    {
      __m512i e = _mm512_add_epi32 (iota, _mm512_set1_epi32 (16 * c));
      /* e / w for e < 256: (e + 0.5) / w is at least 0.5 / w away from an integer */
      __m512i row = _mm512_cvttps_epi32 (_mm512_mul_ps (
        _mm512_add_ps (_mm512_cvtepi32_ps (e), _mm512_set1_ps (0.5f)), inv_w));
      if (row_of != NULL)
        row_of[c] = row;
      if (col_of != NULL)
        col_of[c] = _mm512_sub_epi32 (e, _mm512_mullo_epi32 (row, _mm512_set1_epi32 (w)));
    }
}
#endif
