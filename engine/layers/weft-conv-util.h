/* SPDX-License-Identifier: GPL-3.0-or-later */
/* weft-conv-util.h: geometry, im2col/col2im and the bias + activation epilogue shared by the
 * convolution and pooling layers. Images are NHWC (1D layers use height 1); a column row
 * holds one receptive field in kernel order (ky, kx, c), matching Keras kernels
 * [kh, kw, cin, cout] flattened to [kh*kw*cin, cout]. Nothing here allocates. */
#pragma once

#include "weft-activation.h"
#include "weft-op.h"

#include <stddef.h>
#include <stdint.h>

typedef enum
{
  WEFT_PAD_VALID,
  WEFT_PAD_SAME,
  WEFT_PAD_CAUSAL, /* Conv1D only: (k-1)*d zeros before, none after */
} WeftPadding;

/* One spatial configuration of a convolution or pooling window (per sample). */
typedef struct
{
  int in_h, in_w, in_c;
  int k_h, k_w;
  int s_h, s_w;
  int d_h, d_w;
  int pad_t, pad_l;     /* zeros before; the rest of the padding is after (bottom/right) */
  int out_h, out_w;
} WeftConvGeom;

/* Output length and padding before of one axis, Keras style ('same': ceil(in/s) with the odd
 * padding after). Returns false when a 'valid' window (dilated) does not fit the input. */
bool    weft_conv_axis (int in, int k, int s, int d, WeftPadding pad, int *out, int *pad_before);

/* Floats of one image's column matrix: out_h*out_w rows of k_h*k_w*in_c. */
int64_t weft_conv_col_size (const WeftConvGeom *g);
/* Images per im2col chunk (Conv2DTranspose): the whole batch when its columns fit a fixed
 * budget, else fewer (at least one; an even number when more than two). Forward, backward and
 * scratch_size must all use this. */
int     weft_conv_chunk    (const WeftConvGeom *g, int batch);
/* True when the column matrix is the input itself (1x1 kernel, stride 1, no padding). */
bool    weft_conv_is_pointwise (const WeftConvGeom *g);

/* col[n images] = receptive fields of img[n images] (zeros for padded cells). */
void weft_im2col     (const WeftConvGeom *g, int n, const float *img, float *col);
/* Rows [r0, r1) of the column matrix of img (row r = image r / (out_h*out_w), position
 * r % (out_h*out_w)); row r goes to col + (r - r0) * k_h*k_w*in_c. */
void weft_im2col_rows (const WeftConvGeom *g, const float *img, int64_t r0, int64_t r1,
                       float *col);
/* img += rows [r0, r1) of a column matrix (col holds row r0 first) folded back. Rows of one
 * image overlap in img: callers that split rows over threads give each thread whole images. */
void weft_col2im_add_rows (const WeftConvGeom *g, const float *col, int64_t r0, int64_t r1,
                           float *img);
/* Rows per column chunk of a Conv1D/Conv2D with out_c filters (of `rows` in all). */
int64_t weft_conv_row_chunk (const WeftConvGeom *g, int out_c, int64_t rows);
/* True when those chunks are sized for weft_sgemm's own small-product kernel (narrow layers),
 * whose products are at most 256 columns wide. */
bool    weft_conv_row_chunk_is_small (const WeftConvGeom *g, int out_c);
/* img[n images] += col folded back (the adjoint of weft_im2col). */
void weft_col2im_add (const WeftConvGeom *g, int n, const float *col, float *img);

/* out[rows, width] = act(out + bias); keeps the pre-activation in z_keep when non-NULL. */
void weft_bias_act_forward  (WeftActivation act, const float *bias, float *out, float *z_keep,
                             size_t rows, int width);
/* Returns the gradient of the pre-activation: dout itself when act is linear, otherwise
 * dz_buf filled with dout * act'(z) (z may be NULL when act does not need it). */
const float *weft_act_backward_into (WeftActivation act, const float *z, const float *y,
                                     const float *dout, float *dz_buf, size_t rows, int width);
/* dbias[j] += sum over rows of dz[r, j]. */
void weft_bias_backward (const float *dz, float *dbias, size_t rows, int width);

/* d[0..n) += s[0..n) for non-overlapping arrays; written so that -O2 vectorises it. */
static inline void
weft_add_to (float *restrict d, const float *restrict s, size_t n)
{
  size_t j = 0;
  for (; j + 8 <= n; j += 8)
    {
      d[j + 0] += s[j + 0]; d[j + 1] += s[j + 1]; d[j + 2] += s[j + 2]; d[j + 3] += s[j + 3];
      d[j + 4] += s[j + 4]; d[j + 5] += s[j + 5]; d[j + 6] += s[j + 6]; d[j + 7] += s[j + 7];
    }
  for (; j < n; j++)
    d[j] += s[j];
}

/* d[0..n) += a[0..n) * b[0..n) for non-overlapping arrays, vectorised like weft_add_to. */
static inline void
weft_add_mul_to (float *restrict d, const float *restrict a, const float *restrict b, size_t n)
{
  size_t j = 0;
  for (; j + 8 <= n; j += 8)
    {
      d[j + 0] += a[j + 0] * b[j + 0]; d[j + 1] += a[j + 1] * b[j + 1];
      d[j + 2] += a[j + 2] * b[j + 2]; d[j + 3] += a[j + 3] * b[j + 3];
      d[j + 4] += a[j + 4] * b[j + 4]; d[j + 5] += a[j + 5] * b[j + 5];
      d[j + 6] += a[j + 6] * b[j + 6]; d[j + 7] += a[j + 7] * b[j + 7];
    }
  for (; j < n; j++)
    d[j] += a[j] * b[j];
}

/* Reads an INTS value of 1 or 2 numbers into (a, b) (one number stands for both axes). */
void weft_ints_pair (const WeftValue *v, int *a, int *b);
