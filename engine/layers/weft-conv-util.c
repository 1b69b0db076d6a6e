/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "weft-conv-util.h"
#include "weft-blas.h"

#include <string.h>

/* Column chunks stay below 16 MB so that a large batch does not need a huge scratch. */
#define CONV_COL_BUDGET ((int64_t) 1 << 22)
/* Row chunks of Conv1D/Conv2D: columns of about 1 MB, so that OpenBLAS packs them from the
 * cache they were just written to (16 MB chunks went to memory and back twice), but at least
 * a few hundred rows, or packing the kernel on every call would cost as much again. */
#define CONV_ROW_BUDGET ((int64_t) 1 << 18)
#define CONV_ROW_MIN    256
/* Narrow convolutions (K x N small) take chunks whose products stay within what weft_sgemm
 * runs on its own AVX-512 kernel (up to 2^21 multiply-adds, reading the columns in place
 * instead of packing them): residual_cnn's 3x3x32 -> 32 layers trained ~25% faster so. */
#define CONV_SMALL_MACS WEFT_SGEMM_SMALL_MACS
#define CONV_SMALL_ROWS 64

bool
weft_conv_axis (int in, int k, int s, int d, WeftPadding pad, int *out, int *pad_before)
{
  int64_t keff = (int64_t) (k - 1) * d + 1;
  int64_t o, before = 0;

  if (in < 1 || k < 1 || s < 1 || d < 1)
    return false;
  switch (pad)
    {
    case WEFT_PAD_SAME:
      {
        o = ((int64_t) in + s - 1) / s;
        int64_t total = (o - 1) * s + keff - in;
        before = total > 0 ? total / 2 : 0;
        break;
      }
    case WEFT_PAD_CAUSAL:
      o = ((int64_t) in - 1) / s + 1;
      before = keff - 1;
      break;
    case WEFT_PAD_VALID:
    default:
      if (keff > in)
        return false;
      o = ((int64_t) in - keff) / s + 1;
      break;
    }
  if (o > INT32_MAX || before > INT32_MAX)
    return false;
  *out = (int) o;
  *pad_before = (int) before;
  return true;
}

int64_t
weft_conv_col_size (const WeftConvGeom *g)
{
  return (int64_t) g->out_h * g->out_w * g->k_h * g->k_w * g->in_c;
}

int
weft_conv_chunk (const WeftConvGeom *g, int batch)
{
  int64_t per = weft_conv_col_size (g);
  int64_t n = per > 0 ? CONV_COL_BUDGET / per : batch;
  if (n > batch)
    n = batch;
  /* Chunks split over two threads by image: an even count keeps both equally busy. */
  if (n < batch && n > 2)
    n &= ~(int64_t) 1;
  return n < 1 ? 1 : (int) n;
}

bool
weft_conv_is_pointwise (const WeftConvGeom *g)
{
  return g->k_h == 1 && g->k_w == 1 && g->s_h == 1 && g->s_w == 1 && g->pad_t == 0
         && g->pad_l == 0 && g->out_h == g->in_h && g->out_w == g->in_w;
}

void
weft_im2col_rows (const WeftConvGeom *g, const float *img, int64_t r0, int64_t r1, float *col)
{
  const size_t c = (size_t) g->in_c;
  const size_t row_len = (size_t) g->k_h * g->k_w * c;
  const size_t img_size = (size_t) g->in_h * g->in_w * c;
  const int64_t ohw = (int64_t) g->out_h * g->out_w;

  for (int64_t r = r0; r < r1; r++)
    {
      const int64_t b = r / ohw, p = r % ohw;
      const int oy = (int) (p / g->out_w), ox = (int) (p % g->out_w);
      const float *src = img + b * img_size;
      float *dst = col + (size_t) (r - r0) * row_len;
      for (int ky = 0; ky < g->k_h; ky++)
        {
          int iy = oy * g->s_h - g->pad_t + ky * g->d_h;
          float *drow = dst + (size_t) ky * g->k_w * c;
          if (iy < 0 || iy >= g->in_h)
            {
              memset (drow, 0, (size_t) g->k_w * c * sizeof *drow);
              continue;
            }
          int ix0 = ox * g->s_w - g->pad_l;
          /* Undilated and inside the image: the whole kernel row is one run. */
          if (g->d_w == 1 && ix0 >= 0 && ix0 + g->k_w <= g->in_w)
            {
              memcpy (drow, src + ((size_t) iy * g->in_w + ix0) * c,
                      (size_t) g->k_w * c * sizeof *drow);
              continue;
            }
          for (int kx = 0; kx < g->k_w; kx++)
            {
              int ix = ox * g->s_w - g->pad_l + kx * g->d_w;
              if (ix < 0 || ix >= g->in_w)
                memset (drow + kx * c, 0, c * sizeof *drow);
              else
                memcpy (drow + kx * c, src + ((size_t) iy * g->in_w + ix) * c,
                        c * sizeof *drow);
            }
        }
    }
}

void
weft_im2col (const WeftConvGeom *g, int n, const float *img, float *col)
{
  weft_im2col_rows (g, img, 0, (int64_t) n * g->out_h * g->out_w, col);
}

void
weft_col2im_add_rows (const WeftConvGeom *g, const float *col, int64_t r0, int64_t r1,
                      float *img)
{
  const size_t c = (size_t) g->in_c;
  const size_t row_len = (size_t) g->k_h * g->k_w * c;
  const size_t img_size = (size_t) g->in_h * g->in_w * c;
  const int64_t ohw = (int64_t) g->out_h * g->out_w;

  for (int64_t r = r0; r < r1; r++)
    {
      const int64_t b = r / ohw, p = r % ohw;
      const int oy = (int) (p / g->out_w), ox = (int) (p % g->out_w);
      float *dst = img + b * img_size;
      const float *src = col + (size_t) (r - r0) * row_len;
      for (int ky = 0; ky < g->k_h; ky++)
        {
          int iy = oy * g->s_h - g->pad_t + ky * g->d_h;
          if (iy < 0 || iy >= g->in_h)
            continue;
          const float *srow = src + (size_t) ky * g->k_w * c;
          int ix0 = ox * g->s_w - g->pad_l;
          if (g->d_w == 1 && ix0 >= 0 && ix0 + g->k_w <= g->in_w)
            {
              weft_add_to (dst + ((size_t) iy * g->in_w + ix0) * c, srow, (size_t) g->k_w * c);
              continue;
            }
          for (int kx = 0; kx < g->k_w; kx++)
            {
              int ix = ox * g->s_w - g->pad_l + kx * g->d_w;
              if (ix < 0 || ix >= g->in_w)
                continue;
              weft_add_to (dst + ((size_t) iy * g->in_w + ix) * c, srow + kx * c, c);
            }
        }
    }
}

void
weft_col2im_add (const WeftConvGeom *g, int n, const float *col, float *img)
{
  weft_col2im_add_rows (g, col, 0, (int64_t) n * g->out_h * g->out_w, img);
}

bool
weft_conv_row_chunk_is_small (const WeftConvGeom *g, int out_c)
{
  const int64_t kn = (int64_t) g->k_h * g->k_w * g->in_c * (out_c > 0 ? out_c : 1);
  return out_c <= WEFT_SGEMM_SMALL_N && kn * CONV_SMALL_ROWS <= CONV_SMALL_MACS;
}

int64_t
weft_conv_row_chunk (const WeftConvGeom *g, int out_c, int64_t rows)
{
  const int64_t k = (int64_t) g->k_h * g->k_w * g->in_c;
  const int64_t kn = k * (out_c > 0 ? out_c : 1);
  int64_t n;
  if (weft_conv_row_chunk_is_small (g, out_c))
    n = CONV_SMALL_MACS / kn;
  else
    {
      n = CONV_ROW_BUDGET / (k > 0 ? k : 1);
      if (n < CONV_ROW_MIN)
        n = CONV_ROW_MIN;
    }
  if (n > rows)
    n = rows;
  return n < 1 ? 1 : n;
}

void
weft_bias_act_forward (WeftActivation act, const float *bias, float *out, float *z_keep,
                       size_t rows, int width)
{
  size_t total = rows * (size_t) width;
  if (bias != NULL)
    for (size_t r = 0; r < rows; r++)
      weft_add_to (out + r * width, bias, (size_t) width);
  if (z_keep != NULL)
    memcpy (z_keep, out, total * sizeof *out);
  if (act != WEFT_ACT_LINEAR)
    weft_activation_forward (act, out, out, total, width);
}

const float *
weft_act_backward_into (WeftActivation act, const float *z, const float *y, const float *dout,
                        float *dz_buf, size_t rows, int width)
{
  if (act == WEFT_ACT_LINEAR)
    return dout;
  size_t total = rows * (size_t) width;
  memcpy (dz_buf, dout, total * sizeof *dz_buf);
  weft_activation_grad_inplace (act, z, y, dz_buf, total, width);
  return dz_buf;
}

void
weft_bias_backward (const float *dz, float *dbias, size_t rows, int width)
{
  for (size_t r = 0; r < rows; r++)
    weft_add_to (dbias, dz + r * width, (size_t) width);
}

void
weft_ints_pair (const WeftValue *v, int *a, int *b)
{
  *a = v->n >= 1 ? v->ints[0] : 1;
  *b = v->n >= 2 ? v->ints[1] : *a;
}
