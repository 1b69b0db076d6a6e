/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Convolution family: Conv1D, Conv2D, SeparableConv2D, DepthwiseConv2D, Conv2DTranspose.
 * Conv and transpose go through sgemm (im2col into scratch, batch folded into the GEMM rows);
 * depthwise works per channel with direct loops. */
#include "weft-conv-util.h"
#include "weft-blas.h"
#include "weft-parallel.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

typedef enum
{
  KIND_CONV,
  KIND_SEPARABLE,
  KIND_DEPTHWISE,
  KIND_TRANSPOSE,
} ConvKind;

/* Where each setting lives in an op's param table (-1: the op has no such param). */
typedef struct
{
  const char *name;
  ConvKind    kind;
  int         rank;       /* spatial axes: 1 (NWC) or 2 (NHWC) */
  int         filters, kernel, strides, padding, mult, dilation, activation, use_bias;
} ConvLayout;

static const char *const padding_choices[] = { "valid", "same", NULL };
static const char *const padding_choices_1d[] = { "valid", "same", "causal", NULL };

#define P_FILTERS \
  { .name = "filters", .type = WEFT_PARAM_INT, \
    .help = WEFT_N_("Number of output channels (convolution kernels)."), \
    .def = 32, .min = 1, .max = 1 << 20, .flags = WEFT_PARAM_KEY }
#define P_KERNEL(n, d) \
  { .name = "kernel_size", .type = WEFT_PARAM_INTS, \
    .help = WEFT_N_("Size of the convolution window; one number applies to every axis."), \
    .min = 1, .max = 1 << 16, .n_min = 1, .n_max = (n), .def_n = (n), \
    .def_ints = { (d), (d) }, .flags = WEFT_PARAM_KEY }
#define P_STRIDES(n) \
  { .name = "strides", .type = WEFT_PARAM_INTS, \
    .help = WEFT_N_("Step of the window along each axis; larger strides shrink the output."), \
    .min = 1, .max = 1 << 16, .n_min = 1, .n_max = (n), .def_n = (n), .def_ints = { 1, 1 } }
#define P_PADDING(ch) \
  { .name = "padding", .type = WEFT_PARAM_CHOICE, \
    .help = WEFT_N_("'valid' uses no padding; 'same' pads with zeros so that the output " \
                    "has ceil(input/stride) positions."), \
    .def = 0, .choices = (ch), .flags = WEFT_PARAM_KEY }
#define P_DILATION(n) \
  { .name = "dilation_rate", .type = WEFT_PARAM_INTS, \
    .help = WEFT_N_("Spacing between the kernel taps (atrous convolution); 1 is a dense kernel."), \
    .min = 1, .max = 1 << 16, .n_min = 1, .n_max = (n), .def_n = (n), .def_ints = { 1, 1 } }
#define P_MULT \
  { .name = "depth_multiplier", .type = WEFT_PARAM_INT, \
    .help = WEFT_N_("Number of depthwise output channels per input channel."), \
    .def = 1, .min = 1, .max = 1 << 16 }
#define P_ACTIVATION \
  { .name = "activation", .type = WEFT_PARAM_CHOICE, \
    .help = WEFT_N_("Function applied to each output; linear leaves it unchanged."), \
    .def = WEFT_ACT_LINEAR, .choices = weft_activation_names, .flags = WEFT_PARAM_KEY }
#define P_USE_BIAS \
  { .name = "use_bias", .type = WEFT_PARAM_BOOL, \
    .help = WEFT_N_("Whether a learned bias is added to each output channel."), \
    .def = 1, .min = 0, .max = 1 }

static const WeftParamSpec conv1d_params[] = {
  P_FILTERS, P_KERNEL (1, 3), P_STRIDES (1),
  { .name = "padding", .type = WEFT_PARAM_CHOICE,
    .help = WEFT_N_("'valid' uses no padding, 'same' pads so that the output has "
                    "ceil(input/stride) steps, 'causal' pads only before the sequence."),
    .def = 0, .choices = padding_choices_1d, .flags = WEFT_PARAM_KEY },
  P_DILATION (1), P_ACTIVATION, P_USE_BIAS,
};
static const WeftParamSpec conv2d_params[] = {
  P_FILTERS, P_KERNEL (2, 3), P_STRIDES (2), P_PADDING (padding_choices), P_DILATION (2),
  P_ACTIVATION, P_USE_BIAS,
};
static const WeftParamSpec separable_params[] = {
  P_FILTERS, P_KERNEL (2, 3), P_STRIDES (2), P_PADDING (padding_choices), P_MULT,
  P_DILATION (2), P_ACTIVATION, P_USE_BIAS,
};
static const WeftParamSpec depthwise_params[] = {
  P_KERNEL (2, 3), P_STRIDES (2), P_PADDING (padding_choices), P_MULT, P_DILATION (2),
  P_ACTIVATION, P_USE_BIAS,
};
static const WeftParamSpec transpose_params[] = {
  P_FILTERS, P_KERNEL (2, 3), P_STRIDES (2), P_PADDING (padding_choices), P_DILATION (2),
  P_ACTIVATION, P_USE_BIAS,
};

#define N_OF(a) ((int) (sizeof (a) / sizeof (a)[0]))

static const ConvLayout conv1d_layout = {
  "Conv1D", KIND_CONV, 1, 0, 1, 2, 3, -1, 4, 5, 6 };
static const ConvLayout conv2d_layout = {
  "Conv2D", KIND_CONV, 2, 0, 1, 2, 3, -1, 4, 5, 6 };
static const ConvLayout separable_layout = {
  "SeparableConv2D", KIND_SEPARABLE, 2, 0, 1, 2, 3, 4, 5, 6, 7 };
static const ConvLayout depthwise_layout = {
  "DepthwiseConv2D", KIND_DEPTHWISE, 2, -1, 0, 1, 2, 3, 4, 5, 6 };
static const ConvLayout transpose_layout = {
  "Conv2DTranspose", KIND_TRANSPOSE, 2, 0, 1, 2, 3, -1, 4, 5, 6 };

/* Everything forward/backward needs, derived from the config and the input shape. */
typedef struct
{
  WeftConvGeom   g;        /* for KIND_TRANSPOSE: the conv that maps the output to the input */
  int            in_c;     /* channels of the layer input */
  int            out_c;    /* channels of the layer output */
  int            mult;
  int64_t        in_size;  /* per sample */
  int64_t        out_size; /* per sample */
  WeftActivation act;
  bool           use_bias;
} ConvSetup;

static const char *
axis_name (int rank, int axis)
{
  if (rank == 1)
    return "length";
  return axis == 0 ? "height" : "width";
}

static bool
conv_setup (const ConvLayout *L, const WeftValue *cfg, const WeftShape *in, ConvSetup *s,
            char *why, size_t why_len)
{
  char buf[96];
  memset (s, 0, sizeof *s);
  if (in->rank != L->rank + 1)
    {
      snprintf (why, why_len, "%s needs a rank-%d input (%s, channels), got %s", L->name,
                L->rank + 1, L->rank == 1 ? "steps" : "height, width",
                weft_shape_format (in, buf, sizeof buf));
      return false;
    }

  int k[2], st[2], dil[2], in_sp[2], out_sp[2], pad[2];
  if (L->rank == 1)
    {
      k[0] = st[0] = dil[0] = in_sp[0] = 1;
      k[1] = cfg[L->kernel].ints[0];
      st[1] = cfg[L->strides].ints[0];
      dil[1] = cfg[L->dilation].ints[0];
      in_sp[1] = in->dims[0];
    }
  else
    {
      weft_ints_pair (&cfg[L->kernel], &k[0], &k[1]);
      weft_ints_pair (&cfg[L->strides], &st[0], &st[1]);
      weft_ints_pair (&cfg[L->dilation], &dil[0], &dil[1]);
      in_sp[0] = in->dims[0];
      in_sp[1] = in->dims[1];
    }
  WeftPadding padding = (WeftPadding) weft_cfg_int (cfg, L->padding);
  s->in_c = in->dims[L->rank];
  s->mult = L->mult >= 0 ? weft_cfg_int (cfg, L->mult) : 1;
  s->act = (WeftActivation) weft_cfg_int (cfg, L->activation);
  s->use_bias = weft_cfg_bool (cfg, L->use_bias);

  for (int a = 0; a < 2; a++)
    {
      const char *an = axis_name (L->rank, L->rank == 1 ? 0 : a);
      int64_t keff = (int64_t) (k[a] - 1) * dil[a] + 1;
      if (L->kind == KIND_TRANSPOSE)
        {
          int64_t o = (int64_t) in_sp[a] * st[a];
          if (padding == WEFT_PAD_VALID && keff > st[a])
            o += keff - st[a];
          if (o > INT_MAX)
            {
              snprintf (why, why_len, "the output %s of %s would be %lld, too large", an,
                        L->name, (long long) o);
              return false;
            }
          out_sp[a] = (int) o;
          int64_t total = padding == WEFT_PAD_SAME && keff > st[a] ? keff - st[a] : 0;
          pad[a] = (int) (total / 2);
          continue;
        }
      if (!weft_conv_axis (in_sp[a], k[a], st[a], dil[a], padding, &out_sp[a], &pad[a]))
        {
          const char *sep = L->rank == 1 ? "" : " ";
          const char *kan = L->rank == 1 ? "" : an;
          if (keff > in_sp[a] && padding == WEFT_PAD_VALID)
            {
              if (dil[a] > 1)
                snprintf (why, why_len, "dilated kernel%s%s %lld (kernel %d, dilation_rate %d) "
                          "is larger than the input %s %d with padding='valid'", sep, kan,
                          (long long) keff, k[a], dil[a], an, in_sp[a]);
              else
                snprintf (why, why_len, "kernel%s%s %d is larger than the input %s %d with "
                          "padding='valid'", sep, kan, k[a], an, in_sp[a]);
            }
          else
            snprintf (why, why_len, "%s: the window does not fit the input %s", L->name,
                      weft_shape_format (in, buf, sizeof buf));
          return false;
        }
    }

  WeftConvGeom *g = &s->g;
  g->k_h = k[0];
  g->k_w = k[1];
  g->s_h = st[0];
  g->s_w = st[1];
  g->d_h = dil[0];
  g->d_w = dil[1];
  g->pad_t = pad[0];
  g->pad_l = pad[1];
  switch (L->kind)
    {
    case KIND_CONV:
    case KIND_SEPARABLE:
      s->out_c = weft_cfg_int (cfg, L->filters);
      break;
    case KIND_DEPTHWISE:
      s->out_c = (int) ((int64_t) s->in_c * s->mult > INT_MAX ? INT_MAX
                                                                : s->in_c * (int64_t) s->mult);
      break;
    case KIND_TRANSPOSE:
      s->out_c = weft_cfg_int (cfg, L->filters);
      break;
    }
  if (L->kind == KIND_TRANSPOSE)
    {
      g->in_h = out_sp[0];
      g->in_w = out_sp[1];
      g->in_c = s->out_c;
      g->out_h = in_sp[0];
      g->out_w = in_sp[1];
    }
  else
    {
      g->in_h = in_sp[0];
      g->in_w = in_sp[1];
      g->in_c = s->in_c;
      g->out_h = out_sp[0];
      g->out_w = out_sp[1];
    }
  s->in_size = weft_shape_size (in);
  s->out_size = (int64_t) out_sp[0] * out_sp[1] * s->out_c;
  int64_t kernel_size = (int64_t) k[0] * k[1] * s->in_c * (L->kind == KIND_DEPTHWISE
                                                             || L->kind == KIND_SEPARABLE
                                                             ? s->mult : s->out_c);
  if (s->out_size > INT_MAX || kernel_size > INT_MAX || weft_conv_col_size (g) > INT_MAX
      || (int64_t) s->in_c * s->mult > INT_MAX)
    {
      snprintf (why, why_len, "%s on %s would need more than %d values for its output, "
                "kernel or one sample's columns", L->name, weft_shape_format (in, buf, sizeof buf),
                INT_MAX);
      return false;
    }
  return true;
}

static bool
conv_infer (const ConvLayout *L, const WeftOpArgs *args, WeftShape *out, char *why,
            size_t why_len)
{
  ConvSetup s;
  if (args->n_in != 1)
    {
      snprintf (why, why_len, "%s takes exactly one input, got %d", L->name, args->n_in);
      return false;
    }
  if (!conv_setup (L, args->cfg, &args->in[0], &s, why, why_len))
    return false;
  int oh = L->kind == KIND_TRANSPOSE ? s.g.in_h : s.g.out_h;
  int ow = L->kind == KIND_TRANSPOSE ? s.g.in_w : s.g.out_w;
  if (L->rank == 1)
    *out = weft_shape_make (2, ow, s.out_c);
  else
    *out = weft_shape_make (3, oh, ow, s.out_c);
  return true;
}

static void
set_spec (WeftWeightSpec *spec, const char *name, WeftShape shape, WeftInit init)
{
  memset (spec, 0, sizeof *spec);
  snprintf (spec->name, sizeof spec->name, "%s", name);
  spec->shape = shape;
  spec->init = init;
  spec->trainable = true;
}

static int
conv_weights (const ConvLayout *L, const WeftOpArgs *args, WeftWeightSpec *specs)
{
  ConvSetup s;
  char why[8];
  if (!conv_setup (L, args->cfg, &args->in[0], &s, why, sizeof why))
    return 0;
  const WeftConvGeom *g = &s.g;
  int n = 0;
  switch (L->kind)
    {
    case KIND_CONV:
      set_spec (&specs[n++], "kernel",
                L->rank == 1 ? weft_shape_make (3, g->k_w, s.in_c, s.out_c)
                             : weft_shape_make (4, g->k_h, g->k_w, s.in_c, s.out_c),
                WEFT_INIT_GLOROT_UNIFORM);
      break;
    case KIND_SEPARABLE:
      set_spec (&specs[n++], "depthwise_kernel",
                weft_shape_make (4, g->k_h, g->k_w, s.in_c, s.mult), WEFT_INIT_GLOROT_UNIFORM);
      set_spec (&specs[n++], "pointwise_kernel",
                weft_shape_make (4, 1, 1, s.in_c * s.mult, s.out_c), WEFT_INIT_GLOROT_UNIFORM);
      break;
    case KIND_DEPTHWISE:
      set_spec (&specs[n++], "depthwise_kernel",
                weft_shape_make (4, g->k_h, g->k_w, s.in_c, s.mult), WEFT_INIT_GLOROT_UNIFORM);
      break;
    case KIND_TRANSPOSE:
      set_spec (&specs[n++], "kernel", weft_shape_make (4, g->k_h, g->k_w, s.out_c, s.in_c),
                WEFT_INIT_GLOROT_UNIFORM);
      break;
    }
  if (s.use_bias)
    set_spec (&specs[n++], "bias", weft_shape_make (1, s.out_c), WEFT_INIT_ZEROS);
  return n;
}

/* Depthwise stage output per sample (SeparableConv2D keeps it in aux for the pointwise
 * weight gradient). */
static int64_t
mid_size (const ConvSetup *s)
{
  return (int64_t) s->g.out_h * s->g.out_w * s->in_c * s->mult;
}

static size_t
conv_aux_size (const ConvLayout *L, const WeftOpArgs *args, int batch)
{
  ConvSetup s;
  char why[8];
  if (!conv_setup (L, args->cfg, &args->in[0], &s, why, sizeof why))
    return 0;
  size_t n = 0;
  if (weft_activation_needs_input (s.act))
    n += (size_t) batch * s.out_size;
  if (L->kind == KIND_SEPARABLE)
    n += (size_t) batch * mid_size (&s);
  return n;
}

/* Scratch: [dz when the activation is not linear][im2col chunk or depthwise gradient]. */
static size_t
dz_len (const ConvSetup *s, int batch)
{
  return s->act == WEFT_ACT_LINEAR ? 0 : (size_t) batch * s->out_size;
}

/* Parts a Conv1D/Conv2D splits into at most (each needs its own area of scratch). */
#define CONV_MAX_PARTS 4
/* The widest product weft_sgemm's own kernel takes (see weft_conv_row_chunk). */
#define CONV_SMALL_WIDTH WEFT_SGEMM_SMALL_N

static int64_t
conv_chunk_rows (const ConvSetup *s, int batch)
{
  return weft_conv_row_chunk (&s->g, s->out_c, (int64_t) batch * s->g.out_h * s->g.out_w);
}

/* Floats of one part's area: [columns chunk][kernel gradient K x N][bias gradient N]. */
static size_t
conv_area_len (const ConvSetup *s, int batch)
{
  const size_t K = (size_t) s->g.k_h * s->g.k_w * s->g.in_c;
  const size_t col = weft_conv_is_pointwise (&s->g) ? 0 : (size_t) conv_chunk_rows (s, batch) * K;
  return col + (K + 1) * (size_t) s->out_c;
}

static size_t
conv_scratch_size (const ConvLayout *L, const WeftOpArgs *args, int batch)
{
  ConvSetup s;
  char why[8];
  if (!conv_setup (L, args->cfg, &args->in[0], &s, why, sizeof why))
    return 0;
  size_t n = dz_len (&s, batch);
  switch (L->kind)
    {
    case KIND_CONV:
      n += CONV_MAX_PARTS * conv_area_len (&s, batch);
      break;
    case KIND_TRANSPOSE:
      if (!weft_conv_is_pointwise (&s.g))
        n += (size_t) weft_conv_chunk (&s.g, batch) * weft_conv_col_size (&s.g);
      break;
    case KIND_SEPARABLE:
      n += (size_t) batch * mid_size (&s);
      break;
    case KIND_DEPTHWISE:
      break;
    }
  return n;
}

static bool
conv_ctx_setup (const ConvLayout *L, const WeftOpCtx *ctx, ConvSetup *s)
{
  char why[8];
  return conv_setup (L, ctx->cfg, &ctx->in_shape[0], s, why, sizeof why);
}

/* ---- Conv1D / Conv2D ----
 * The columns are built and multiplied in row chunks of about 1 MB (weft_conv_row_chunk), so
 * that they stay in cache between im2col, OpenBLAS's packing and col2im (narrow layers: small
 * enough for weft_sgemm's own kernel). With more than one
 * thread, each op is one parallel region (weft-parallel.h) in which every thread runs im2col,
 * a single-threaded GEMM and the epilogue on its own rows, in its own part of the scratch:
 * OpenBLAS would thread only the GEMM and leave the copies and element-wise passes, a third of
 * the time, on one thread. Backward gives each thread whole images (col2im of neighbouring
 * rows overlaps) and its own kernel- and bias-gradient buffers, added up in part order
 * afterwards; the activation derivative is taken chunk by chunk, just before its products. */

typedef struct
{
  const ConvSetup *s;
  const WeftOpCtx *ctx;
  int              K, N, ohw;
  bool             direct;
  int64_t          chunk;    /* rows per column chunk */
  bool             small;    /* chunk sized for weft_sgemm's own kernel */
  float           *area;     /* CONV_MAX_PARTS x area_len floats of scratch */
  size_t           area_len; /* see conv_area_len */
} ConvJob;

static void
conv_job_init (ConvJob *j, const ConvSetup *s, const WeftOpCtx *ctx)
{
  const WeftConvGeom *g = &s->g;
  memset (j, 0, sizeof *j);
  j->s = s;
  j->ctx = ctx;
  j->K = g->k_h * g->k_w * g->in_c;
  j->N = s->out_c;
  j->ohw = g->out_h * g->out_w;
  j->direct = weft_conv_is_pointwise (g);
  j->chunk = conv_chunk_rows (s, ctx->batch);
  j->small = weft_conv_row_chunk_is_small (g, s->out_c);
  j->area = ctx->scratch + dz_len (s, ctx->batch);
  j->area_len = conv_area_len (s, ctx->batch);
}

/* Forward of rows [r0, r1) of the batch, chunk by chunk: columns, GEMM, bias and activation. */
static void
conv_forward_part (void *data, int part, int n_parts)
{
  const ConvJob *j = data;
  const ConvSetup *s = j->s;
  const WeftOpCtx *ctx = j->ctx;
  float *col = j->area + (size_t) part * j->area_len;
  long r0, r1;

  weft_parallel_range ((long) ctx->batch * j->ohw, part, n_parts, &r0, &r1);
  for (int64_t c0 = r0; c0 < r1; c0 += j->chunk)
    {
      const int64_t c1 = c0 + j->chunk < r1 ? c0 + j->chunk : r1;
      const float *a = ctx->in[0] + (size_t) c0 * j->K;
      if (!j->direct)
        {
          weft_im2col_rows (&s->g, ctx->in[0], c0, c1, col);
          a = col;
        }
      float *out = ctx->out + (size_t) c0 * j->N;
      weft_sgemm (false, false, (int) (c1 - c0), j->N, j->K, 1.0f, a, j->K, ctx->w[0], j->N,
                  0.0f, out, j->N);
      weft_bias_act_forward (s->act, s->use_bias ? ctx->w[1] : NULL, out,
                             weft_activation_needs_input (s->act)
                             ? ctx->aux + (size_t) c0 * j->N : NULL,
                             (size_t) (c1 - c0), j->N);
    }
}

static int
conv_parts (const ConvJob *j, double work, long units)
{
  int parts = weft_parallel_parts (j->ctx->threads, work);
  if (parts > CONV_MAX_PARTS)
    parts = CONV_MAX_PARTS;
  if (parts > units)
    parts = (int) (units > 0 ? units : 1);
  return parts;
}

static void
conv_forward (const ConvSetup *s, const WeftOpCtx *ctx)
{
  ConvJob j;
  conv_job_init (&j, s, ctx);
  const double rows = (double) ctx->batch * j.ohw;
  weft_parallel_run (conv_parts (&j, rows * j.K * j.N, (long) rows), conv_forward_part, &j);
}

/* Everything of images [i0, i1), chunk by chunk: dz (activation derivative), bias and kernel
 * gradients, dx. Part 0 adds into dbias and dkernel themselves, the others into their own
 * buffers, added in part order afterwards. */
static void
conv_backward_part (void *data, int part, int n_parts)
{
  const ConvJob *j = data;
  const ConvSetup *s = j->s;
  const WeftOpCtx *ctx = j->ctx;
  const size_t KN = (size_t) j->K * j->N;
  float *col = j->area + (size_t) part * j->area_len;
  float *dk = ctx->dw[0], *db = s->use_bias ? ctx->dw[1] : NULL;
  long i0, i1;

  weft_parallel_range (ctx->batch, part, n_parts, &i0, &i1);
  if (part > 0)
    {
      float *own = col + (j->area_len - KN - (size_t) j->N);
      if (dk != NULL)
        memset (dk = own, 0, KN * sizeof *dk);
      if (db != NULL)
        memset (db = own + KN, 0, (size_t) j->N * sizeof *db);
    }
  const int64_t r0 = (int64_t) i0 * j->ohw, r1 = (int64_t) i1 * j->ohw;
  for (int64_t c0 = r0; c0 < r1; c0 += j->chunk)
    {
      const int64_t c1 = c0 + j->chunk < r1 ? c0 + j->chunk : r1;
      const int rows = (int) (c1 - c0);
      const size_t off = (size_t) c0 * j->N;
      const float *dz = weft_act_backward_into (s->act, weft_activation_needs_input (s->act)
                                                        ? ctx->aux + off : NULL,
                                                ctx->out + off, ctx->dout + off,
                                                ctx->scratch + off, (size_t) rows, j->N);
      if (db != NULL)
        weft_bias_backward (dz, db, (size_t) rows, j->N);
      if (dk != NULL)
        {
          const float *a = ctx->in[0] + (size_t) c0 * j->K;
          if (!j->direct)
            {
              weft_im2col_rows (&s->g, ctx->in[0], c0, c1, col);
              a = col;
            }
          weft_sgemm (true, false, j->K, j->N, rows, 1.0f, a, j->K, dz, j->N, 1.0f, dk, j->N);
        }
      if (ctx->din[0] == NULL)
        continue;
      if (j->direct)
        weft_sgemm (false, true, rows, j->K, j->N, 1.0f, dz, j->N, ctx->w[0], j->N, 1.0f,
                    ctx->din[0] + (size_t) c0 * j->K, j->K);
      else
        {
          /* Column pieces of <= 256 when the chunk is sized for weft_sgemm's own kernel, which
           * takes products up to that width (3x3x32 columns are 288 wide). */
          const int piece = j->small && j->K > CONV_SMALL_WIDTH ? CONV_SMALL_WIDTH : j->K;
          for (int k0 = 0; k0 < j->K; k0 += piece)
            {
              const int kn = j->K - k0 < piece ? j->K - k0 : piece;
              weft_sgemm (false, true, rows, kn, j->N, 1.0f, dz, j->N,
                          ctx->w[0] + (size_t) k0 * j->N, j->N, 0.0f, col + k0, j->K);
            }
          weft_col2im_add_rows (&s->g, col, c0, c1, ctx->din[0]);
        }
    }
}

static void
conv_backward (const ConvSetup *s, const WeftOpCtx *ctx)
{
  ConvJob j;
  conv_job_init (&j, s, ctx);
  const size_t KN = (size_t) j.K * j.N;
  const bool want_db = s->use_bias && ctx->dw[1] != NULL;

  if (ctx->dw[0] == NULL && ctx->din[0] == NULL && !want_db)
    return;
  const double rows = (double) ctx->batch * j.ohw;
  const int parts = conv_parts (&j, rows * j.K * j.N, ctx->batch);
  weft_parallel_run (parts, conv_backward_part, &j);
  for (int p = 1; p < parts; p++)
    {
      const float *own = j.area + (size_t) p * j.area_len + (j.area_len - KN - (size_t) j.N);
      if (ctx->dw[0] != NULL)
        weft_add_to (ctx->dw[0], own, KN);
      if (want_db)
        weft_add_to (ctx->dw[1], own + KN, (size_t) j.N);
    }
}

/* ---- Depthwise stage (DepthwiseConv2D, SeparableConv2D) ---- */

static void
dw_stage_forward (const WeftConvGeom *g, int mult, int B, const float *in, const float *w,
                   float *out)
{
  const int C = g->in_c;
  const size_t oc = (size_t) C * mult;
  for (int b = 0; b < B; b++)
    {
      const float *x0 = in + (size_t) b * g->in_h * g->in_w * C;
      for (int oy = 0; oy < g->out_h; oy++)
        for (int ox = 0; ox < g->out_w; ox++)
          {
            float *o = out + (((size_t) b * g->out_h + oy) * g->out_w + ox) * oc;
            memset (o, 0, oc * sizeof *o);
            for (int ky = 0; ky < g->k_h; ky++)
              {
                int iy = oy * g->s_h - g->pad_t + ky * g->d_h;
                if (iy < 0 || iy >= g->in_h)
                  continue;
                for (int kx = 0; kx < g->k_w; kx++)
                  {
                    int ix = ox * g->s_w - g->pad_l + kx * g->d_w;
                    if (ix < 0 || ix >= g->in_w)
                      continue;
                    const float *x = x0 + ((size_t) iy * g->in_w + ix) * C;
                    const float *k = w + ((size_t) ky * g->k_w + kx) * oc;
                    if (mult == 1)
                      weft_add_mul_to (o, x, k, (size_t) C);
                    else
                      for (int c = 0; c < C; c++)
                        for (int m = 0; m < mult; m++)
                          o[c * mult + m] += x[c] * k[c * mult + m];
                  }
              }
          }
    }
}

static void
dw_stage_backward (const WeftConvGeom *g, int mult, int B, const float *in, const float *w,
                    const float *dout, float *din, float *dw)
{
  const int C = g->in_c;
  const size_t oc = (size_t) C * mult;
  for (int b = 0; b < B; b++)
    {
      const size_t xoff = (size_t) b * g->in_h * g->in_w * C;
      for (int oy = 0; oy < g->out_h; oy++)
        for (int ox = 0; ox < g->out_w; ox++)
          {
            const float *d = dout + (((size_t) b * g->out_h + oy) * g->out_w + ox) * oc;
            for (int ky = 0; ky < g->k_h; ky++)
              {
                int iy = oy * g->s_h - g->pad_t + ky * g->d_h;
                if (iy < 0 || iy >= g->in_h)
                  continue;
                for (int kx = 0; kx < g->k_w; kx++)
                  {
                    int ix = ox * g->s_w - g->pad_l + kx * g->d_w;
                    if (ix < 0 || ix >= g->in_w)
                      continue;
                    size_t at = xoff + ((size_t) iy * g->in_w + ix) * C;
                    size_t kat = ((size_t) ky * g->k_w + kx) * oc;
                    const float *x = in + at;
                    if (dw != NULL && mult == 1)
                      weft_add_mul_to (dw + kat, x, d, oc);
                    else if (dw != NULL)
                      for (int c = 0; c < C; c++)
                        for (int m = 0; m < mult; m++)
                          dw[kat + c * mult + m] += x[c] * d[c * mult + m];
                    if (din != NULL)
                      {
                        const float *k = w + kat;
                        float *dx = din + at;
                        if (mult == 1)
                          weft_add_mul_to (dx, k, d, (size_t) C);
                        else
                          for (int c = 0; c < C; c++)
                            {
                              float sum = 0.0f;
                              for (int m = 0; m < mult; m++)
                                sum += k[c * mult + m] * d[c * mult + m];
                              dx[c] += sum;
                            }
                      }
                  }
              }
          }
    }
}

static void
dwconv_forward (const ConvSetup *s, const WeftOpCtx *ctx)
{
  const int rows = ctx->batch * s->g.out_h * s->g.out_w;
  dw_stage_forward (&s->g, s->mult, ctx->batch, ctx->in[0], ctx->w[0], ctx->out);
  weft_bias_act_forward (s->act, s->use_bias ? ctx->w[1] : NULL, ctx->out,
                         weft_activation_needs_input (s->act) ? ctx->aux : NULL,
                         (size_t) rows, s->out_c);
}

static void
dwconv_backward (const ConvSetup *s, const WeftOpCtx *ctx)
{
  const int rows = ctx->batch * s->g.out_h * s->g.out_w;
  const float *dz = weft_act_backward_into (s->act,
                                            weft_activation_needs_input (s->act) ? ctx->aux : NULL,
                                            ctx->out, ctx->dout, ctx->scratch, (size_t) rows,
                                            s->out_c);
  if (s->use_bias && ctx->dw[1] != NULL)
    weft_bias_backward (dz, ctx->dw[1], (size_t) rows, s->out_c);
  if (ctx->din[0] != NULL || ctx->dw[0] != NULL)
    dw_stage_backward (&s->g, s->mult, ctx->batch, ctx->in[0], ctx->w[0], dz, ctx->din[0],
                        ctx->dw[0]);
}

/* ---- SeparableConv2D: depthwise (no bias) then a 1x1 convolution as one GEMM ---- */

static void
sepconv_forward (const ConvSetup *s, const WeftOpCtx *ctx)
{
  const int B = ctx->batch;
  const int rows = B * s->g.out_h * s->g.out_w;
  const int CM = s->in_c * s->mult;
  const int N = s->out_c;
  float *mid = ctx->aux;
  float *z_keep = weft_activation_needs_input (s->act) ? ctx->aux + (size_t) B * mid_size (s)
                                                       : NULL;

  dw_stage_forward (&s->g, s->mult, B, ctx->in[0], ctx->w[0], mid);
  weft_sgemm (false, false, rows, N, CM, 1.0f, mid, CM, ctx->w[1], N, 0.0f, ctx->out, N);
  weft_bias_act_forward (s->act, s->use_bias ? ctx->w[2] : NULL, ctx->out, z_keep,
                         (size_t) rows, N);
}

static void
sepconv_backward (const ConvSetup *s, const WeftOpCtx *ctx)
{
  const int B = ctx->batch;
  const int rows = B * s->g.out_h * s->g.out_w;
  const int CM = s->in_c * s->mult;
  const int N = s->out_c;
  const float *mid = ctx->aux;
  const float *z = weft_activation_needs_input (s->act) ? ctx->aux + (size_t) B * mid_size (s)
                                                        : NULL;
  const float *dz = weft_act_backward_into (s->act, z, ctx->out, ctx->dout, ctx->scratch,
                                            (size_t) rows, N);

  if (s->use_bias && ctx->dw[2] != NULL)
    weft_bias_backward (dz, ctx->dw[2], (size_t) rows, N);
  if (ctx->dw[1] != NULL)
    weft_sgemm (true, false, CM, N, rows, 1.0f, mid, CM, dz, N, 1.0f, ctx->dw[1], N);
  if (ctx->din[0] != NULL || ctx->dw[0] != NULL)
    {
      float *dmid = ctx->scratch + dz_len (s, B);
      weft_sgemm (false, true, rows, CM, N, 1.0f, dz, N, ctx->w[1], N, 0.0f, dmid, CM);
      dw_stage_backward (&s->g, s->mult, B, ctx->in[0], ctx->w[0], dmid, ctx->din[0],
                          ctx->dw[0]);
    }
}

/* ---- Conv2DTranspose: the adjoint of the conv g that maps its output back to its input;
 * x [B*H*W, cin] times kernel^T gives columns that col2im scatters into the output. ---- */

static void
tconv_forward (const ConvSetup *s, const WeftOpCtx *ctx)
{
  const WeftConvGeom *g = &s->g;
  const int B = ctx->batch;
  const int K = g->k_h * g->k_w * g->in_c;   /* kh*kw*filters */
  const int cin = s->in_c;
  const int hw = g->out_h * g->out_w;         /* input positions */
  const bool direct = weft_conv_is_pointwise (g);
  const int chunk = weft_conv_chunk (g, B);
  float *col = ctx->scratch + dz_len (s, B);

  if (direct)
    weft_sgemm (false, true, B * hw, K, cin, 1.0f, ctx->in[0], cin, ctx->w[0], cin, 0.0f,
                ctx->out, K);
  else
    {
      memset (ctx->out, 0, (size_t) B * s->out_size * sizeof *ctx->out);
      for (int b0 = 0; b0 < B; b0 += chunk)
        {
          int n = B - b0 < chunk ? B - b0 : chunk;
          weft_sgemm (false, true, n * hw, K, cin, 1.0f, ctx->in[0] + (size_t) b0 * s->in_size,
                      cin, ctx->w[0], cin, 0.0f, col, K);
          weft_col2im_add (g, n, col, ctx->out + (size_t) b0 * s->out_size);
        }
    }
  weft_bias_act_forward (s->act, s->use_bias ? ctx->w[1] : NULL, ctx->out,
                         weft_activation_needs_input (s->act) ? ctx->aux : NULL,
                         (size_t) B * g->in_h * g->in_w, s->out_c);
}

static void
tconv_backward (const ConvSetup *s, const WeftOpCtx *ctx)
{
  const WeftConvGeom *g = &s->g;
  const int B = ctx->batch;
  const int K = g->k_h * g->k_w * g->in_c;
  const int cin = s->in_c;
  const int hw = g->out_h * g->out_w;
  const bool direct = weft_conv_is_pointwise (g);
  const int chunk = weft_conv_chunk (g, B);
  float *col = ctx->scratch + dz_len (s, B);
  const size_t out_rows = (size_t) B * g->in_h * g->in_w;
  const float *dz = weft_act_backward_into (s->act,
                                            weft_activation_needs_input (s->act) ? ctx->aux : NULL,
                                            ctx->out, ctx->dout, ctx->scratch, out_rows, s->out_c);

  if (s->use_bias && ctx->dw[1] != NULL)
    weft_bias_backward (dz, ctx->dw[1], out_rows, s->out_c);
  for (int b0 = 0; b0 < B; b0 += chunk)
    {
      int n = B - b0 < chunk ? B - b0 : chunk;
      const float *x = ctx->in[0] + (size_t) b0 * s->in_size;
      const float *a = dz + (size_t) b0 * s->out_size;
      if (!direct)
        {
          weft_im2col (g, n, a, col);
          a = col;
        }
      if (ctx->dw[0] != NULL)
        weft_sgemm (true, false, K, cin, n * hw, 1.0f, a, K, x, cin, 1.0f, ctx->dw[0], cin);
      if (ctx->din[0] != NULL)
        weft_sgemm (false, false, n * hw, cin, K, 1.0f, a, K, ctx->w[0], cin, 1.0f,
                    ctx->din[0] + (size_t) b0 * s->in_size, cin);
    }
}

/* ---- Dispatch ---- */

static void
conv_dispatch_forward (const ConvLayout *L, const WeftOpCtx *ctx)
{
  ConvSetup s;
  WEFT_CHECK (conv_ctx_setup (L, ctx, &s));
  switch (L->kind)
    {
    case KIND_CONV:      conv_forward (&s, ctx); break;
    case KIND_SEPARABLE: sepconv_forward (&s, ctx); break;
    case KIND_DEPTHWISE: dwconv_forward (&s, ctx); break;
    case KIND_TRANSPOSE: tconv_forward (&s, ctx); break;
    }
}

static void
conv_dispatch_backward (const ConvLayout *L, const WeftOpCtx *ctx)
{
  ConvSetup s;
  WEFT_CHECK (conv_ctx_setup (L, ctx, &s));
  switch (L->kind)
    {
    case KIND_CONV:      conv_backward (&s, ctx); break;
    case KIND_SEPARABLE: sepconv_backward (&s, ctx); break;
    case KIND_DEPTHWISE: dwconv_backward (&s, ctx); break;
    case KIND_TRANSPOSE: tconv_backward (&s, ctx); break;
    }
}

/* Keras (and TensorFlow's kernels) refuse strides > 1 together with dilation_rate > 1. */
static bool
conv_check (const ConvLayout *L, const WeftValue *cfg, char *why, size_t why_len)
{
  const WeftValue *st = &cfg[L->strides], *dil = &cfg[L->dilation];
  bool strided = false, dilated = false;
  for (int i = 0; i < st->n; i++)
    strided |= st->ints[i] > 1;
  for (int i = 0; i < dil->n; i++)
    dilated |= dil->ints[i] > 1;
  if (strided && dilated)
    {
      snprintf (why, why_len, "%s cannot combine strides > 1 with dilation_rate > 1 "
                "(Keras refuses it too)", L->name);
      return false;
    }
  if (L->rank == 2 && (cfg[L->kernel].n == 0 || st->n == 0 || dil->n == 0))
    {
      snprintf (why, why_len, "%s needs kernel_size, strides and dilation_rate values", L->name);
      return false;
    }
  return true;
}

#define CONV_OP_FUNCS(prefix, layout)                                                       \
  static bool prefix##_infer (const WeftOpArgs *a, WeftShape *o, char *w, size_t l)         \
  { return conv_infer (&layout, a, o, w, l); }                                              \
  static int prefix##_weights (const WeftOpArgs *a, WeftWeightSpec *s)                      \
  { return conv_weights (&layout, a, s); }                                                  \
  static size_t prefix##_aux_size (const WeftOpArgs *a, int b)                              \
  { return conv_aux_size (&layout, a, b); }                                                 \
  static size_t prefix##_scratch_size (const WeftOpArgs *a, int b)                          \
  { return conv_scratch_size (&layout, a, b); }                                             \
  static void prefix##_forward (const WeftOpCtx *c) { conv_dispatch_forward (&layout, c); } \
  static void prefix##_backward (const WeftOpCtx *c) { conv_dispatch_backward (&layout, c); } \
  static bool prefix##_check (const WeftValue *c, char *w, size_t l)                        \
  { return conv_check (&layout, c, w, l); }

CONV_OP_FUNCS (conv1d, conv1d_layout)
CONV_OP_FUNCS (conv2d, conv2d_layout)
CONV_OP_FUNCS (separable, separable_layout)
CONV_OP_FUNCS (depthwise, depthwise_layout)
CONV_OP_FUNCS (transpose, transpose_layout)

#define CONV_OP_DESC(prefix, cname, helptext)                                               \
  static const WeftOpDesc prefix##_op = {                                                   \
    .name = cname, .category = "Convolution", .help = helptext,                             \
    .params = prefix##_params, .n_params = N_OF (prefix##_params),                          \
    .min_inputs = 1, .max_inputs = 1,                                                       \
    .infer = prefix##_infer, .weights = prefix##_weights,                                   \
    .aux_size = prefix##_aux_size, .scratch_size = prefix##_scratch_size,                   \
    .forward = prefix##_forward, .backward = prefix##_backward, .check = prefix##_check,    \
  };

CONV_OP_DESC (conv1d, "Conv1D",
              WEFT_N_("1D convolution over sequences (steps, channels) with a kernel "
                      "[kernel_size, in_channels, filters]."))
CONV_OP_DESC (conv2d, "Conv2D",
              WEFT_N_("2D convolution over images (height, width, channels) with a kernel "
                      "[kh, kw, in_channels, filters]."))
CONV_OP_DESC (separable, "SeparableConv2D",
              WEFT_N_("Depthwise 2D convolution of each channel followed by a 1x1 convolution "
                      "that mixes the channels."))
CONV_OP_DESC (depthwise, "DepthwiseConv2D",
              WEFT_N_("2D convolution of each input channel on its own, giving "
                      "depth_multiplier output channels per input channel."))
CONV_OP_DESC (transpose, "Conv2DTranspose",
              WEFT_N_("Transposed 2D convolution (sometimes called deconvolution) that "
                      "upsamples by its strides; kernel [kh, kw, filters, in_channels]."))

const WeftOpDesc *const weft_layers_conv[] = {
  &conv1d_op,
  &conv2d_op,
  &separable_op,
  &depthwise_op,
  &transpose_op,
  NULL
};
