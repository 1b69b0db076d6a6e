/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Pooling family: MaxPooling1D/2D, AveragePooling1D/2D and their global variants (NWC/NHWC).
 * Max pooling keeps nothing for backward: the arg-max (first maximum in window order, as
 * TensorFlow) is found again from the input. Average pooling with 'same' divides by the
 * number of real cells in the window, never counting padding. */
#include "weft-conv-util.h"
#include "weft-parallel.h"

#include <float.h>
#include <stdint.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

typedef enum { POOL_MAX, POOL_AVG } PoolKind;

static const char *const padding_choices[] = { "valid", "same", NULL };

enum { POOL_SIZE, POOL_STRIDES, POOL_PADDING };

#define POOL_PARAMS(n)                                                                      \
  { .name = "pool_size", .type = WEFT_PARAM_INTS,                                           \
    .help = WEFT_N_("Size of the pooling window; one number applies to every axis."),       \
    .min = 1, .max = 1 << 16, .n_min = 1, .n_max = (n), .def_n = (n), .def_ints = { 2, 2 }, \
    .flags = WEFT_PARAM_KEY },                                                              \
  { .name = "strides", .type = WEFT_PARAM_INTS,                                             \
    .help = WEFT_N_("Step of the window along each axis; empty (None) means pool_size."),   \
    .min = 1, .max = 1 << 16, .n_min = 0, .n_max = (n), .def_n = 0 },                       \
  { .name = "padding", .type = WEFT_PARAM_CHOICE,                                           \
    .help = WEFT_N_("'valid' drops windows that do not fit; 'same' pads so that the output " \
                    "has ceil(input/stride) positions."),                                   \
    .def = 0, .choices = padding_choices }

static const WeftParamSpec pool1d_params[] = { POOL_PARAMS (1) };
static const WeftParamSpec pool2d_params[] = { POOL_PARAMS (2) };

static const WeftParamSpec global_params[] = {
  { .name = "keepdims", .type = WEFT_PARAM_BOOL,
    .help = WEFT_N_("Keep the pooled axes with length 1 instead of removing them."),
    .def = 0, .min = 0, .max = 1 },
};

typedef struct
{
  const char *name;
  PoolKind    kind;
  int         rank;   /* spatial axes */
} PoolLayout;

static const PoolLayout maxpool1d = { "MaxPooling1D", POOL_MAX, 1 };
static const PoolLayout maxpool2d = { "MaxPooling2D", POOL_MAX, 2 };
static const PoolLayout avgpool1d = { "AveragePooling1D", POOL_AVG, 1 };
static const PoolLayout avgpool2d = { "AveragePooling2D", POOL_AVG, 2 };
static const PoolLayout gmaxpool1d = { "GlobalMaxPooling1D", POOL_MAX, 1 };
static const PoolLayout gmaxpool2d = { "GlobalMaxPooling2D", POOL_MAX, 2 };
static const PoolLayout gavgpool1d = { "GlobalAveragePooling1D", POOL_AVG, 1 };
static const PoolLayout gavgpool2d = { "GlobalAveragePooling2D", POOL_AVG, 2 };

static bool
check_rank (const PoolLayout *L, const WeftOpArgs *args, char *why, size_t why_len)
{
  char buf[96];
  if (args->n_in != 1)
    {
      snprintf (why, why_len, "%s takes exactly one input, got %d", L->name, args->n_in);
      return false;
    }
  if (args->in[0].rank != L->rank + 1)
    {
      snprintf (why, why_len, "%s needs a rank-%d input (%s, channels), got %s", L->name,
                L->rank + 1, L->rank == 1 ? "steps" : "height, width",
                weft_shape_format (&args->in[0], buf, sizeof buf));
      return false;
    }
  return true;
}

static bool
pool_geom (const PoolLayout *L, const WeftValue *cfg, const WeftShape *in, WeftConvGeom *g,
           char *why, size_t why_len)
{
  int k[2] = { 1, 1 }, st[2] = { 1, 1 }, sp[2] = { 1, 1 }, out[2], pad[2];
  const WeftValue *strides = &cfg[POOL_STRIDES];
  if (L->rank == 1)
    {
      k[1] = cfg[POOL_SIZE].ints[0];
      st[1] = strides->n > 0 ? strides->ints[0] : k[1];
      sp[1] = in->dims[0];
    }
  else
    {
      weft_ints_pair (&cfg[POOL_SIZE], &k[0], &k[1]);
      if (strides->n > 0)
        weft_ints_pair (strides, &st[0], &st[1]);
      else
        {
          st[0] = k[0];
          st[1] = k[1];
        }
      sp[0] = in->dims[0];
      sp[1] = in->dims[1];
    }
  WeftPadding padding = (WeftPadding) weft_cfg_int (cfg, POOL_PADDING);
  for (int a = 0; a < 2; a++)
    if (!weft_conv_axis (sp[a], k[a], st[a], 1, padding, &out[a], &pad[a]))
      {
        const char *an = L->rank == 1 ? "length" : a == 0 ? "height" : "width";
        if (L->rank == 1)
          snprintf (why, why_len, "pool_size %d is larger than the input %s %d with "
                    "padding='valid'", k[a], an, sp[a]);
        else
          snprintf (why, why_len, "pool_size %s %d is larger than the input %s %d with "
                    "padding='valid'", an, k[a], an, sp[a]);
        return false;
      }
  memset (g, 0, sizeof *g);
  g->in_h = sp[0];
  g->in_w = sp[1];
  g->in_c = in->dims[L->rank];
  g->k_h = k[0];
  g->k_w = k[1];
  g->s_h = st[0];
  g->s_w = st[1];
  g->d_h = g->d_w = 1;
  g->pad_t = pad[0];
  g->pad_l = pad[1];
  g->out_h = out[0];
  g->out_w = out[1];
  return true;
}

static bool
pool_infer (const PoolLayout *L, const WeftOpArgs *args, WeftShape *out, char *why,
            size_t why_len)
{
  WeftConvGeom g;
  if (!check_rank (L, args, why, why_len)
      || !pool_geom (L, args->cfg, &args->in[0], &g, why, why_len))
    return false;
  if (L->rank == 1)
    *out = weft_shape_make (2, g.out_w, g.in_c);
  else
    *out = weft_shape_make (3, g.out_h, g.out_w, g.in_c);
  return true;
}

/* Window of output (oy, ox) clipped to the input: rows [y0, y1), columns [x0, x1). */
static inline void
window (const WeftConvGeom *g, int oy, int ox, int *y0, int *y1, int *x0, int *x1)
{
  int ys = oy * g->s_h - g->pad_t, xs = ox * g->s_w - g->pad_l;
  *y0 = ys < 0 ? 0 : ys;
  *y1 = ys + g->k_h > g->in_h ? g->in_h : ys + g->k_h;
  *x0 = xs < 0 ? 0 : xs;
  *x1 = xs + g->k_w > g->in_w ? g->in_w : xs + g->k_w;
}

/* Max pools walk a window once per 16 channels, with explicit vectors: GCC does not if-convert
 * the scalar compare-and-select (float compares may trap), so that loop stayed a branch per
 * value. Channels past the last whole vector take the scalar path, with the same result. */
#pragma GCC diagnostic ignored "-Wpsabi"
typedef float   PoolVf __attribute__ ((vector_size (64)));
typedef int32_t PoolVi __attribute__ ((vector_size (64)));
#define POOL_LANES 16

/* best/at over lanes: where x > best (never for NaN), take x and its index. */
static inline __attribute__ ((always_inline)) void
max_update (PoolVf *best, PoolVi *at, const float *x, int32_t index)
{
  PoolVf v;
  memcpy (&v, x, sizeof v);
  PoolVi gt = v > *best;
  *best = (PoolVf) (((PoolVi) v & gt) | ((PoolVi) *best & ~gt));
  *at = (gt & index) | (*at & ~gt);
}


typedef struct
{
  const PoolLayout   *L;
  const WeftConvGeom *g;
  const WeftOpCtx    *ctx;
  bool                backward;
} PoolJob;

/* Samples [b0, b1) of a windowed pool. Max keeps the first maximum in window order. */
static void
pool_run_range (const PoolJob *j, int b0, int b1)
{
  const PoolLayout *L = j->L;
  const WeftConvGeom *g = j->g;
  const WeftOpCtx *ctx = j->ctx;
  const bool backward = j->backward;
  const int C = g->in_c;
  const size_t in_size = (size_t) g->in_h * g->in_w * C;
  for (int b = b0; b < b1; b++)
    {
      const float *x = ctx->in[0] + b * in_size;
      float *dx = backward ? ctx->din[0] + b * in_size : NULL;
      for (int oy = 0; oy < g->out_h; oy++)
        for (int ox = 0; ox < g->out_w; ox++)
          {
            size_t o = (((size_t) b * g->out_h + oy) * g->out_w + ox) * C;
            int y0, y1, x0, x1;
            window (g, oy, ox, &y0, &y1, &x0, &x1);
            if (L->kind == POOL_AVG)
              {
                float inv = 1.0f / (float) ((y1 - y0) * (x1 - x0));
                if (!backward)
                  memset (ctx->out + o, 0, C * sizeof (float));
                for (int iy = y0; iy < y1; iy++)
                  for (int ix = x0; ix < x1; ix++)
                    {
                      size_t at = ((size_t) iy * g->in_w + ix) * C;
                      if (backward)
                        for (int c = 0; c < C; c++)
                          dx[at + c] += ctx->dout[o + c] * inv;
                      else
                        for (int c = 0; c < C; c++)
                          ctx->out[o + c] += x[at + c];
                    }
                if (!backward)
                  for (int c = 0; c < C; c++)
                    ctx->out[o + c] *= inv;
                continue;
              }
            int c0 = 0;
            const bool lanes_ok = (int64_t) g->in_h * g->in_w <= INT32_MAX;
            for (; lanes_ok && c0 + POOL_LANES <= C; c0 += POOL_LANES)
              {
                PoolVf best = { 0 };
                PoolVi at = { 0 };
                best -= FLT_MAX;
                at += y0 * g->in_w + x0;
                for (int iy = y0; iy < y1; iy++)
                  for (int ix = x0; ix < x1; ix++)
                    {
                      const int cell = iy * g->in_w + ix;
                      max_update (&best, &at, x + (size_t) cell * C + c0, cell);
                    }
                for (int c = 0; c < POOL_LANES; c++)
                  {
                    size_t from = (size_t) at[c] * C + c0 + c;
                    if (backward)
                      dx[from] += ctx->dout[o + c0 + c];
                    else
                      ctx->out[o + c0 + c] = x[from];
                  }
              }
            for (int c = c0; c < C; c++)
              {
                float best = -FLT_MAX;
                size_t best_at = ((size_t) y0 * g->in_w + x0) * C + c;
                for (int iy = y0; iy < y1; iy++)
                  for (int ix = x0; ix < x1; ix++)
                    {
                      size_t at = ((size_t) iy * g->in_w + ix) * C + c;
                      if (x[at] > best)
                        {
                          best = x[at];
                          best_at = at;
                        }
                    }
                if (backward)
                  dx[best_at] += ctx->dout[o + c];
                else
                  ctx->out[o + c] = x[best_at];
              }
          }
    }
}

static void
pool_part (void *data, int part, int n_parts)
{
  const PoolJob *j = data;
  long b0, b1;
  weft_parallel_range (j->ctx->batch, part, n_parts, &b0, &b1);
  pool_run_range (j, (int) b0, (int) b1);
}

static void
pool_run (const PoolLayout *L, const WeftConvGeom *g, const WeftOpCtx *ctx, bool backward)
{
  PoolJob j = { L, g, ctx, backward };
  double work = (double) ctx->batch * g->out_h * g->out_w * g->in_c * g->k_h * g->k_w;
  weft_parallel_run (weft_parallel_parts (ctx->threads, work), pool_part, &j);
}

static void
pool_forward (const PoolLayout *L, const WeftOpCtx *ctx)
{
  WeftConvGeom g;
  char why[8];
  WEFT_CHECK (pool_geom (L, ctx->cfg, &ctx->in_shape[0], &g, why, sizeof why));
  pool_run (L, &g, ctx, false);
}

static void
pool_backward (const PoolLayout *L, const WeftOpCtx *ctx)
{
  WeftConvGeom g;
  char why[8];
  if (ctx->din[0] == NULL)
    return;
  WEFT_CHECK (pool_geom (L, ctx->cfg, &ctx->in_shape[0], &g, why, sizeof why));
  pool_run (L, &g, ctx, true);
}

/* ---- Global pooling ---- */

static bool
global_infer (const PoolLayout *L, const WeftOpArgs *args, WeftShape *out, char *why,
              size_t why_len)
{
  if (!check_rank (L, args, why, why_len))
    return false;
  int C = args->in[0].dims[L->rank];
  if (!weft_cfg_bool (args->cfg, 0))
    *out = weft_shape_make (1, C);
  else if (L->rank == 1)
    *out = weft_shape_make (2, 1, C);
  else
    *out = weft_shape_make (3, 1, 1, C);
  return true;
}

/* Samples [b0, b1) of a global pool. */
static void
global_run_range (const PoolLayout *L, const WeftOpCtx *ctx, bool backward, int b0, int b1)
{
  const WeftShape *in = &ctx->in_shape[0];
  const int C = in->dims[L->rank];
  const size_t P = (size_t) (weft_shape_size (in) / C);
  const float inv = 1.0f / (float) P;
  for (int b = b0; b < b1; b++)
    {
      const float *x = ctx->in[0] + b * P * C;
      float *o = ctx->out + (size_t) b * C;
      if (L->kind == POOL_AVG)
        {
          if (backward)
            {
              const float *d = ctx->dout + (size_t) b * C;
              float *dx = ctx->din[0] + b * P * C;
              for (size_t p = 0; p < P; p++)
                for (int c = 0; c < C; c++)
                  dx[p * C + c] += d[c] * inv;
              continue;
            }
          memset (o, 0, C * sizeof *o);
          for (size_t p = 0; p < P; p++)
            for (int c = 0; c < C; c++)
              o[c] += x[p * C + c];
          for (int c = 0; c < C; c++)
            o[c] *= inv;
          continue;
        }
      /* First maximum over positions; 16 channels at a time while the indices fit the lanes. */
      int c0 = 0;
      if (P <= INT32_MAX)
        for (; c0 + POOL_LANES <= C; c0 += POOL_LANES)
          {
            PoolVf best;
            PoolVi at = { 0 };
            memcpy (&best, x + c0, sizeof best);
            for (size_t p = 1; p < P; p++)
              max_update (&best, &at, x + p * C + c0, (int32_t) p);
            for (int c = 0; c < POOL_LANES; c++)
              {
                size_t from = (size_t) at[c] * C + c0 + c;
                if (backward)
                  ctx->din[0][b * P * C + from] += ctx->dout[(size_t) b * C + c0 + c];
                else
                  o[c0 + c] = x[from];
              }
          }
      for (int c = c0; c < C; c++)
        {
          size_t best = 0;
          for (size_t p = 1; p < P; p++)
            if (x[p * C + c] > x[best * C + c])
              best = p;
          if (backward)
            ctx->din[0][b * P * C + best * C + c] += ctx->dout[(size_t) b * C + c];
          else
            o[c] = x[best * C + c];
        }
    }
}

typedef struct
{
  const PoolLayout *L;
  const WeftOpCtx  *ctx;
  bool              backward;
} GlobalJob;

static void
global_part (void *data, int part, int n_parts)
{
  const GlobalJob *j = data;
  long b0, b1;
  weft_parallel_range (j->ctx->batch, part, n_parts, &b0, &b1);
  global_run_range (j->L, j->ctx, j->backward, (int) b0, (int) b1);
}

static void
global_run (const PoolLayout *L, const WeftOpCtx *ctx, bool backward)
{
  if (backward && ctx->din[0] == NULL)
    return;
  GlobalJob j = { L, ctx, backward };
  double work = (double) ctx->batch * weft_shape_size (&ctx->in_shape[0]) * 2;
  weft_parallel_run (weft_parallel_parts (ctx->threads, work), global_part, &j);
}

static void
global_forward (const PoolLayout *L, const WeftOpCtx *ctx)
{
  global_run (L, ctx, false);
}

static void
global_backward (const PoolLayout *L, const WeftOpCtx *ctx)
{
  global_run (L, ctx, true);
}

#define POOL_OP(prefix, cname, layout, ptable, infer_fn, fwd_fn, bwd_fn, helptext)          \
  static bool prefix##_infer (const WeftOpArgs *a, WeftShape *o, char *w, size_t l)         \
  { return infer_fn (&layout, a, o, w, l); }                                                \
  static void prefix##_forward (const WeftOpCtx *c) { fwd_fn (&layout, c); }                \
  static void prefix##_backward (const WeftOpCtx *c) { bwd_fn (&layout, c); }               \
  static const WeftOpDesc prefix##_op = {                                                   \
    .name = cname, .category = "Pooling", .help = helptext,                                 \
    .params = ptable, .n_params = (int) (sizeof ptable / sizeof ptable[0]),                  \
    .min_inputs = 1, .max_inputs = 1,                                                       \
    .infer = prefix##_infer, .forward = prefix##_forward, .backward = prefix##_backward,    \
  };

POOL_OP (maxpool1d, "MaxPooling1D", maxpool1d, pool1d_params, pool_infer, pool_forward,
         pool_backward, WEFT_N_("Maximum over windows of a sequence (steps, channels)."))
POOL_OP (maxpool2d, "MaxPooling2D", maxpool2d, pool2d_params, pool_infer, pool_forward,
         pool_backward, WEFT_N_("Maximum over windows of an image (height, width, channels)."))
POOL_OP (avgpool1d, "AveragePooling1D", avgpool1d, pool1d_params, pool_infer, pool_forward,
         pool_backward, WEFT_N_("Average over windows of a sequence (steps, channels)."))
POOL_OP (avgpool2d, "AveragePooling2D", avgpool2d, pool2d_params, pool_infer, pool_forward,
         pool_backward, WEFT_N_("Average over windows of an image (height, width, channels)."))
POOL_OP (gmaxpool1d, "GlobalMaxPooling1D", gmaxpool1d, global_params, global_infer,
         global_forward, global_backward,
         WEFT_N_("Maximum of each channel over all steps of a sequence."))
POOL_OP (gmaxpool2d, "GlobalMaxPooling2D", gmaxpool2d, global_params, global_infer,
         global_forward, global_backward,
         WEFT_N_("Maximum of each channel over all positions of an image."))
POOL_OP (gavgpool1d, "GlobalAveragePooling1D", gavgpool1d, global_params, global_infer,
         global_forward, global_backward,
         WEFT_N_("Average of each channel over all steps of a sequence."))
POOL_OP (gavgpool2d, "GlobalAveragePooling2D", gavgpool2d, global_params, global_infer,
         global_forward, global_backward,
         WEFT_N_("Average of each channel over all positions of an image."))

const WeftOpDesc *const weft_layers_pool[] = {
  &maxpool1d_op,
  &maxpool2d_op,
  &avgpool1d_op,
  &avgpool2d_op,
  &gmaxpool1d_op,
  &gmaxpool2d_op,
  &gavgpool1d_op,
  &gavgpool2d_op,
  NULL
};
