/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Reshaping family: ZeroPadding1D/2D, Cropping1D/2D, UpSampling1D/2D (nearest), Permute.
 * Padding and cropping are one "shifted box copy" per spatial axis (offset > 0 pads,
 * offset < 0 crops); the channel axis is never touched. */
#include "weft-op.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#define N_OF(a) ((int) (sizeof (a) / sizeof (a)[0]))

static bool
expect_one (const char *name, const WeftOpArgs *args, int rank, char *why, size_t why_len)
{
  char buf[96];
  if (args->n_in != 1)
    {
      snprintf (why, why_len, "%s takes exactly one input, got %d", name, args->n_in);
      return false;
    }
  if (rank > 0 && args->in[0].rank != rank)
    {
      snprintf (why, why_len, "%s needs a rank-%d input (%s, channels), got %s", name, rank,
                rank == 2 ? "steps" : "height, width",
                weft_shape_format (&args->in[0], buf, sizeof buf));
      return false;
    }
  return true;
}

/* ---- ZeroPadding / Cropping ---- */

typedef struct
{
  const char *name;
  int         rank;   /* spatial axes */
  bool        crop;
} BoxLayout;

static const BoxLayout zeropad1d = { "ZeroPadding1D", 1, false };
static const BoxLayout zeropad2d = { "ZeroPadding2D", 2, false };
static const BoxLayout crop1d = { "Cropping1D", 1, true };
static const BoxLayout crop2d = { "Cropping2D", 2, true };

static const WeftParamSpec zeropad1d_params[] = {
  { .name = "padding", .type = WEFT_PARAM_INTS,
    .help = WEFT_N_("Zeros added before and after the steps: one number for both ends, or "
                    "(before, after)."),
    .min = 0, .max = 1 << 20, .n_min = 1, .n_max = 2, .def_n = 1, .def_ints = { 1 },
    .flags = WEFT_PARAM_KEY },
};
static const WeftParamSpec zeropad2d_params[] = {
  { .name = "padding", .type = WEFT_PARAM_INTS,
    .help = WEFT_N_("Zero rows and columns to add: one number for all sides, (rows, columns) "
                    "for both ends, or (top, bottom, left, right)."),
    .min = 0, .max = 1 << 20, .n_min = 1, .n_max = 4, .def_n = 2, .def_ints = { 1, 1 },
    .flags = WEFT_PARAM_KEY },
};
static const WeftParamSpec crop1d_params[] = {
  { .name = "cropping", .type = WEFT_PARAM_INTS,
    .help = WEFT_N_("Steps removed at the start and end: one number for both, or "
                    "(start, end)."),
    .min = 0, .max = 1 << 20, .n_min = 1, .n_max = 2, .def_n = 2, .def_ints = { 1, 1 },
    .flags = WEFT_PARAM_KEY },
};
static const WeftParamSpec crop2d_params[] = {
  { .name = "cropping", .type = WEFT_PARAM_INTS,
    .help = WEFT_N_("Rows and columns to remove: one number for all sides, (rows, columns) "
                    "for both ends, or (top, bottom, left, right)."),
    .min = 0, .max = 1 << 20, .n_min = 1, .n_max = 4, .def_n = 4,
    .def_ints = { 0, 0, 0, 0 }, .flags = WEFT_PARAM_KEY },
};

/* before/after amounts per spatial axis, from the 1, 2 or 4 values Keras accepts. */
static bool
box_amounts (const BoxLayout *L, const WeftValue *v, int before[2], int after[2], char *why,
             size_t why_len)
{
  before[0] = after[0] = 0;
  if (L->rank == 1)
    {
      before[1] = v->ints[0];
      after[1] = v->n >= 2 ? v->ints[1] : v->ints[0];
      return true;
    }
  switch (v->n)
    {
    case 1:
      before[0] = after[0] = before[1] = after[1] = v->ints[0];
      return true;
    case 2:
      before[0] = after[0] = v->ints[0];
      before[1] = after[1] = v->ints[1];
      return true;
    case 4:
      before[0] = v->ints[0];
      after[0] = v->ints[1];
      before[1] = v->ints[2];
      after[1] = v->ints[3];
      return true;
    default:
      snprintf (why, why_len, "%s: %s takes 1, 2 or 4 numbers, not %d", L->name,
                L->crop ? "cropping" : "padding", v->n);
      return false;
    }
}

static bool
box_check_2d (const WeftValue *cfg, char *why, size_t why_len)
{
  if (cfg[0].n == 3)
    {
      snprintf (why, why_len, "give 1 number, 2 (rows, columns) or 4 (top, bottom, left, right), "
                "not 3");
      return false;
    }
  return true;
}

typedef struct
{
  int in_h, in_w, out_h, out_w, c;
  int off_h, off_w;   /* out index = in index + off */
} Box;

static bool
box_setup (const BoxLayout *L, const WeftValue *cfg, const WeftShape *in, Box *b, char *why,
           size_t why_len)
{
  int before[2], after[2];
  if (!box_amounts (L, &cfg[0], before, after, why, why_len))
    return false;
  int sp[2] = { 1, in->dims[0] };
  if (L->rank == 2)
    {
      sp[0] = in->dims[0];
      sp[1] = in->dims[1];
    }
  int64_t out[2];
  for (int a = 0; a < 2; a++)
    {
      if (L->crop)
        {
          out[a] = (int64_t) sp[a] - before[a] - after[a];
          if (out[a] < 1)
            {
              char buf[96];
              const char *an = L->rank == 1 ? "steps" : a == 0 ? "rows" : "columns";
              snprintf (why, why_len, "%s removes %d %s but the input %s has only %d",
                        L->name, before[a] + after[a], an,
                        weft_shape_format (in, buf, sizeof buf), sp[a]);
              return false;
            }
        }
      else
        out[a] = (int64_t) sp[a] + before[a] + after[a];
    }
  int c = in->dims[L->rank];
  if (out[0] * out[1] * c > INT_MAX)
    {
      snprintf (why, why_len, "%s output would have more than %d values per sample", L->name,
                INT_MAX);
      return false;
    }
  b->in_h = sp[0];
  b->in_w = sp[1];
  b->out_h = (int) out[0];
  b->out_w = (int) out[1];
  b->c = c;
  b->off_h = L->crop ? -before[0] : before[0];
  b->off_w = L->crop ? -before[1] : before[1];
  return true;
}

static bool
box_infer (const BoxLayout *L, const WeftOpArgs *args, WeftShape *out, char *why,
           size_t why_len)
{
  Box b;
  if (!expect_one (L->name, args, L->rank + 1, why, why_len)
      || !box_setup (L, args->cfg, &args->in[0], &b, why, why_len))
    return false;
  if (L->rank == 1)
    *out = weft_shape_make (2, b.out_w, b.c);
  else
    *out = weft_shape_make (3, b.out_h, b.out_w, b.c);
  return true;
}

static void
box_run (const BoxLayout *L, const WeftOpCtx *ctx, bool backward)
{
  Box b;
  char why[8];
  WEFT_CHECK (box_setup (L, ctx->cfg, &ctx->in_shape[0], &b, why, sizeof why));
  if (backward && ctx->din[0] == NULL)
    return;
  const size_t in_size = (size_t) b.in_h * b.in_w * b.c;
  const size_t out_size = (size_t) b.out_h * b.out_w * b.c;
  /* Input columns that land inside the output. */
  int x0 = b.off_w < 0 ? -b.off_w : 0;
  int x1 = b.in_w + b.off_w > b.out_w ? b.out_w - b.off_w : b.in_w;
  size_t run = (size_t) (x1 - x0) * b.c;
  if (!backward)
    memset (ctx->out, 0, (size_t) ctx->batch * out_size * sizeof *ctx->out);
  for (int n = 0; n < ctx->batch; n++)
    for (int iy = 0; iy < b.in_h; iy++)
      {
        int oy = iy + b.off_h;
        if (oy < 0 || oy >= b.out_h || x1 <= x0)
          continue;
        size_t ia = n * in_size + ((size_t) iy * b.in_w + x0) * b.c;
        size_t oa = n * out_size + ((size_t) oy * b.out_w + x0 + b.off_w) * b.c;
        if (backward)
          for (size_t j = 0; j < run; j++)
            ctx->din[0][ia + j] += ctx->dout[oa + j];
        else
          memcpy (ctx->out + oa, ctx->in[0] + ia, run * sizeof (float));
      }
}

/* ---- UpSampling (nearest) ---- */

static const WeftParamSpec upsample1d_params[] = {
  { .name = "size", .type = WEFT_PARAM_INT,
    .help = WEFT_N_("How many times each step is repeated."),
    .def = 2, .min = 1, .max = 1 << 16, .flags = WEFT_PARAM_KEY },
};
static const char *const interpolation_choices[] = { "nearest", NULL };
static const WeftParamSpec upsample2d_params[] = {
  { .name = "size", .type = WEFT_PARAM_INTS,
    .help = WEFT_N_("How many times each row and column is repeated; one number for both."),
    .min = 1, .max = 1 << 16, .n_min = 1, .n_max = 2, .def_n = 2, .def_ints = { 2, 2 },
    .flags = WEFT_PARAM_KEY },
  { .name = "interpolation", .type = WEFT_PARAM_CHOICE,
    .help = WEFT_N_("How new values are made: 'nearest' repeats the nearest input value."),
    .def = 0, .choices = interpolation_choices },
};

static void
upsample_factors (int rank, const WeftValue *cfg, int *fh, int *fw)
{
  if (rank == 1)
    {
      *fh = 1;
      *fw = (int) cfg[0].num;
    }
  else
    {
      *fh = cfg[0].ints[0];
      *fw = cfg[0].n >= 2 ? cfg[0].ints[1] : cfg[0].ints[0];
    }
}

static bool
upsample_infer_rank (const char *name, int rank, const WeftOpArgs *args, WeftShape *out,
                     char *why, size_t why_len)
{
  int fh, fw;
  if (!expect_one (name, args, rank + 1, why, why_len))
    return false;
  upsample_factors (rank, args->cfg, &fh, &fw);
  const WeftShape *in = &args->in[0];
  *out = *in;
  int64_t h = rank == 2 ? (int64_t) in->dims[0] * fh : 1;
  int64_t w = (int64_t) in->dims[rank - 1] * fw;
  if (h * w * in->dims[rank] > INT_MAX)
    {
      snprintf (why, why_len, "%s output would have more than %d values per sample", name,
                INT_MAX);
      return false;
    }
  if (rank == 2)
    out->dims[0] = (int) h;
  out->dims[rank - 1] = (int) w;
  return true;
}

static void
upsample_run (int rank, const WeftOpCtx *ctx, bool backward)
{
  int fh, fw;
  const WeftShape *in = &ctx->in_shape[0];
  if (backward && ctx->din[0] == NULL)
    return;
  upsample_factors (rank, ctx->cfg, &fh, &fw);
  const int H = rank == 2 ? in->dims[0] : 1;
  const int W = in->dims[rank - 1];
  const int C = in->dims[rank];
  const size_t in_size = (size_t) H * W * C;
  const size_t out_size = in_size * fh * fw;
  for (int n = 0; n < ctx->batch; n++)
    for (int oy = 0; oy < H * fh; oy++)
      for (int ox = 0; ox < W * fw; ox++)
        {
          size_t ia = n * in_size + ((size_t) (oy / fh) * W + ox / fw) * C;
          size_t oa = n * out_size + ((size_t) oy * W * fw + ox) * C;
          if (backward)
            for (int c = 0; c < C; c++)
              ctx->din[0][ia + c] += ctx->dout[oa + c];
          else
            memcpy (ctx->out + oa, ctx->in[0] + ia, C * sizeof (float));
        }
}

/* ---- Permute ---- */

static const WeftParamSpec permute_params[] = {
  { .name = "dims", .type = WEFT_PARAM_INTS,
    .help = WEFT_N_("New order of the axes, numbered from 1 (the batch axis is not counted): "
                    "(2, 1) swaps the first two axes."),
    .min = 1, .max = WEFT_MAX_RANK, .n_min = 1, .n_max = WEFT_MAX_RANK, .def_n = 2,
    .def_ints = { 2, 1 }, .flags = WEFT_PARAM_KEY },
};

static bool
permute_check (const WeftValue *cfg, char *why, size_t why_len)
{
  const WeftValue *v = &cfg[0];
  bool seen[WEFT_MAX_RANK + 1] = { false };
  for (int i = 0; i < v->n; i++)
    {
      int d = v->ints[i];
      if (d < 1 || d > v->n || seen[d])
        {
          snprintf (why, why_len, "dims must be a permutation of 1..%d, each once", v->n);
          return false;
        }
      seen[d] = true;
    }
  return true;
}

static bool
permute_infer (const WeftOpArgs *args, WeftShape *out, char *why, size_t why_len)
{
  char buf[96];
  if (!expect_one ("Permute", args, 0, why, why_len) || !permute_check (args->cfg, why, why_len))
    return false;
  const WeftValue *v = &args->cfg[0];
  const WeftShape *in = &args->in[0];
  if (in->rank != v->n)
    {
      snprintf (why, why_len, "Permute with dims of %d axes needs a rank-%d input, got %s",
                v->n, v->n, weft_shape_format (in, buf, sizeof buf));
      return false;
    }
  out->rank = in->rank;
  for (int i = 0; i < in->rank; i++)
    out->dims[i] = in->dims[v->ints[i] - 1];
  return true;
}

static void
permute_run (const WeftOpCtx *ctx, bool backward)
{
  const WeftShape *in = &ctx->in_shape[0];
  const WeftValue *v = &ctx->cfg[0];
  const int r = in->rank;
  if (backward && ctx->din[0] == NULL)
    return;
  size_t in_stride[WEFT_MAX_RANK], step[WEFT_MAX_RANK];
  int odims[WEFT_MAX_RANK], idx[WEFT_MAX_RANK] = { 0 };
  size_t s = 1;
  for (int i = r - 1; i >= 0; i--)
    {
      in_stride[i] = s;
      s *= (size_t) in->dims[i];
    }
  const size_t total = s;
  for (int i = 0; i < r; i++)
    {
      odims[i] = in->dims[v->ints[i] - 1];
      step[i] = in_stride[v->ints[i] - 1];
    }
  for (int n = 0; n < ctx->batch; n++)
    {
      const size_t base = n * total;
      size_t ia = 0;
      memset (idx, 0, sizeof idx);
      for (size_t o = 0; o < total; o++)
        {
          if (backward)
            ctx->din[0][base + ia] += ctx->dout[base + o];
          else
            ctx->out[base + o] = ctx->in[0][base + ia];
          /* Odometer over the output index, tracking the input offset. */
          for (int a = r - 1; a >= 0; a--)
            {
              ia += step[a];
              if (++idx[a] < odims[a])
                break;
              ia -= step[a] * (size_t) odims[a];
              idx[a] = 0;
            }
        }
    }
}

/* ---- Descriptors ---- */

#define BOX_FUNCS(prefix, layout)                                                            \
  static bool prefix##_infer (const WeftOpArgs *a, WeftShape *o, char *w, size_t l)         \
  { return box_infer (&layout, a, o, w, l); }                                               \
  static void prefix##_forward (const WeftOpCtx *c) { box_run (&layout, c, false); }        \
  static void prefix##_backward (const WeftOpCtx *c) { box_run (&layout, c, true); }

BOX_FUNCS (zeropad1d, zeropad1d)
BOX_FUNCS (zeropad2d, zeropad2d)
BOX_FUNCS (crop1d, crop1d)
BOX_FUNCS (crop2d, crop2d)

static bool
upsample1d_infer (const WeftOpArgs *a, WeftShape *o, char *w, size_t l)
{
  return upsample_infer_rank ("UpSampling1D", 1, a, o, w, l);
}
static bool
upsample2d_infer (const WeftOpArgs *a, WeftShape *o, char *w, size_t l)
{
  return upsample_infer_rank ("UpSampling2D", 2, a, o, w, l);
}
static void upsample1d_forward (const WeftOpCtx *c) { upsample_run (1, c, false); }
static void upsample1d_backward (const WeftOpCtx *c) { upsample_run (1, c, true); }
static void upsample2d_forward (const WeftOpCtx *c) { upsample_run (2, c, false); }
static void upsample2d_backward (const WeftOpCtx *c) { upsample_run (2, c, true); }
static void permute_forward (const WeftOpCtx *c) { permute_run (c, false); }
static void permute_backward (const WeftOpCtx *c) { permute_run (c, true); }

#define RESHAPE_DESC(prefix, cname, check_fn, helptext)                                     \
  static const WeftOpDesc prefix##_op = {                                                   \
    .name = cname, .category = "Reshaping", .help = helptext,                               \
    .params = prefix##_params, .n_params = N_OF (prefix##_params),                          \
    .min_inputs = 1, .max_inputs = 1,                                                       \
    .infer = prefix##_infer, .forward = prefix##_forward, .backward = prefix##_backward,    \
    .check = check_fn,                                                                      \
  };

RESHAPE_DESC (zeropad1d, "ZeroPadding1D", NULL,
              WEFT_N_("Adds zeros before and after a sequence (steps, channels)."))
RESHAPE_DESC (zeropad2d, "ZeroPadding2D", box_check_2d,
              WEFT_N_("Adds rows and columns of zeros around an image (height, width, channels)."))
RESHAPE_DESC (crop1d, "Cropping1D", NULL,
              WEFT_N_("Removes steps at the start and end of a sequence (steps, channels)."))
RESHAPE_DESC (crop2d, "Cropping2D", box_check_2d,
              WEFT_N_("Removes rows and columns at the borders of an image "
                      "(height, width, channels)."))
RESHAPE_DESC (upsample1d, "UpSampling1D", NULL,
              WEFT_N_("Repeats each step of a sequence size times."))
RESHAPE_DESC (upsample2d, "UpSampling2D", NULL,
              WEFT_N_("Repeats each row and column of an image (nearest-neighbour upsampling)."))
RESHAPE_DESC (permute, "Permute", permute_check,
              WEFT_N_("Reorders the axes of its input (the batch axis stays first)."))

const WeftOpDesc *const weft_layers_reshape[] = {
  &zeropad1d_op,
  &zeropad2d_op,
  &crop1d_op,
  &crop2d_op,
  &upsample1d_op,
  &upsample2d_op,
  &permute_op,
  NULL
};
