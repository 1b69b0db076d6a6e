/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Merge layers: Add, Subtract, Multiply, Average, Maximum, Minimum, Concatenate, Dot. */
#include "weft-op.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "weft-blas.h"
#include "weft-conv-util.h"
#include "weft-parallel.h"

static size_t
shape_size (const WeftShape *s)
{
  return (size_t) weft_shape_size (s);
}

static bool
check_input_count (const WeftOpArgs *args, const char *layer, int min, int max, char *why,
                   size_t why_len)
{
  if (args->n_in >= min && args->n_in <= max)
    return true;
  if (min == max)
    snprintf (why, why_len, "%s takes exactly %d inputs, not %d", layer, min, args->n_in);
  else
    snprintf (why, why_len, "%s takes %d to %d inputs, not %d", layer, min, max, args->n_in);
  return false;
}

/* Appends to why; keeps it NUL-terminated when it runs out of room. */
static void
append (char *why, size_t why_len, size_t *used, const char *format, ...)
  __attribute__ ((format (printf, 4, 5)));

static void
append (char *why, size_t why_len, size_t *used, const char *format, ...)
{
  va_list ap;
  if (*used >= why_len)
    return;
  va_start (ap, format);
  int n = vsnprintf (why + *used, why_len - *used, format, ap);
  va_end (ap);
  if (n > 0)
    *used += (size_t) n;
}

/* ---- element-wise merges ---- */

static bool
equal_shapes_infer (const WeftOpArgs *args, WeftShape *out, const char *layer, int min,
                    int max, char *why, size_t why_len)
{
  char a[96], b[96];
  size_t used = 0;
  int bad = 0;

  if (!check_input_count (args, layer, min, max, why, why_len))
    return false;
  weft_shape_format (&args->in[0], a, sizeof a);
  for (int i = 1; i < args->n_in; i++)
    {
      if (weft_shape_equal (&args->in[0], &args->in[i]))
        continue;
      weft_shape_format (&args->in[i], b, sizeof b);
      if (bad++ == 0)
        append (why, why_len, &used,
                "%s needs inputs of the same shape: input 0 has shape %s but input %d has "
                "shape %s", layer, a, i, b);
      else
        append (why, why_len, &used, ", input %d has shape %s", i, b);
    }
  if (bad > 0)
    return false;
  *out = args->in[0];
  return true;
}

static size_t
merge_count (const WeftOpCtx *ctx)
{
  return (size_t) ctx->batch * shape_size (&ctx->out_shape);
}

/* Element ranges of one merge, split over threads for large tensors (weft-parallel.h). */
typedef struct
{
  const WeftOpCtx *ctx;
  const float     *scales;
} MergeJob;

static int
merge_parts (const WeftOpCtx *ctx)
{
  return weft_parallel_parts (ctx->threads, (double) merge_count (ctx) * (ctx->n_in + 1) * 2);
}

static void
add_part (void *data, int part, int n_parts)
{
  const WeftOpCtx *ctx = ((const MergeJob *) data)->ctx;
  long i0, i1;
  weft_parallel_range ((long) merge_count (ctx), part, n_parts, &i0, &i1);
  float *y = ctx->out + i0;
  memcpy (y, ctx->in[0] + i0, (size_t) (i1 - i0) * sizeof *y);
  for (int k = 1; k < ctx->n_in; k++)
    weft_add_to (y, ctx->in[k] + i0, (size_t) (i1 - i0));
}

static void
add_forward (const WeftOpCtx *ctx)
{
  MergeJob j = { ctx, NULL };
  weft_parallel_run (merge_parts (ctx), add_part, &j);
}

static void
linear_backward_part (void *data, int part, int n_parts)
{
  const MergeJob *j = data;
  const WeftOpCtx *ctx = j->ctx;
  long i0, i1;
  weft_parallel_range ((long) merge_count (ctx), part, n_parts, &i0, &i1);
  const float *dy = ctx->dout + i0;
  const size_t n = (size_t) (i1 - i0);
  for (int k = 0; k < ctx->n_in; k++)
    {
      float *dx = ctx->din[k];
      float s = j->scales[k];
      if (dx == NULL)
        continue;
      dx += i0;
      if (s == 1.0f)
        weft_add_to (dx, dy, n);
      else
        for (size_t i = 0; i < n; i++)
          dx[i] += s * dy[i];
    }
}

/* din[k] += scale_k * dout for every input. */
static void
linear_backward (const WeftOpCtx *ctx, const float *scales)
{
  MergeJob j = { ctx, scales };
  weft_parallel_run (merge_parts (ctx), linear_backward_part, &j);
}

static void
add_backward (const WeftOpCtx *ctx)
{
  float ones[WEFT_MAX_INPUTS];
  for (int k = 0; k < WEFT_MAX_INPUTS; k++)
    ones[k] = 1.0f;
  linear_backward (ctx, ones);
}

static bool
add_infer (const WeftOpArgs *args, WeftShape *out, char *why, size_t why_len)
{
  return equal_shapes_infer (args, out, "Add", 2, WEFT_MAX_INPUTS, why, why_len);
}

static const WeftOpDesc add_op = {
  .name = "Add",
  .category = "Merge",
  .help = WEFT_N_("Adds its inputs element by element; all inputs must have the same shape."),
  .min_inputs = 2,
  .max_inputs = WEFT_VARIADIC,
  .flags = WEFT_OP_MERGE,
  .infer = add_infer,
  .forward = add_forward,
  .backward = add_backward,
};

static bool
subtract_infer (const WeftOpArgs *args, WeftShape *out, char *why, size_t why_len)
{
  return equal_shapes_infer (args, out, "Subtract", 2, 2, why, why_len);
}

static void
subtract_forward (const WeftOpCtx *ctx)
{
  size_t n = merge_count (ctx);
  const float *a = ctx->in[0], *b = ctx->in[1];
  for (size_t i = 0; i < n; i++)
    ctx->out[i] = a[i] - b[i];
}

static void
subtract_backward (const WeftOpCtx *ctx)
{
  static const float scales[2] = { 1.0f, -1.0f };
  linear_backward (ctx, scales);
}

static const WeftOpDesc subtract_op = {
  .name = "Subtract",
  .category = "Merge",
  .help = WEFT_N_("Subtracts the second input from the first, element by element."),
  .min_inputs = 2,
  .max_inputs = 2,
  .flags = WEFT_OP_MERGE,
  .infer = subtract_infer,
  .forward = subtract_forward,
  .backward = subtract_backward,
};

static bool
multiply_infer (const WeftOpArgs *args, WeftShape *out, char *why, size_t why_len)
{
  return equal_shapes_infer (args, out, "Multiply", 2, WEFT_MAX_INPUTS, why, why_len);
}

static void
multiply_forward (const WeftOpCtx *ctx)
{
  size_t n = merge_count (ctx);
  float *y = ctx->out;
  memcpy (y, ctx->in[0], n * sizeof *y);
  for (int k = 1; k < ctx->n_in; k++)
    {
      const float *x = ctx->in[k];
      for (size_t i = 0; i < n; i++)
        y[i] *= x[i];
    }
}

/* The product of the other inputs, not out / x: x may be zero. */
static void
multiply_backward (const WeftOpCtx *ctx)
{
  size_t n = merge_count (ctx);
  for (int k = 0; k < ctx->n_in; k++)
    {
      float *dx = ctx->din[k];
      if (dx == NULL)
        continue;
      for (size_t i = 0; i < n; i++)
        {
          float p = ctx->dout[i];
          for (int j = 0; j < ctx->n_in; j++)
            if (j != k)
              p *= ctx->in[j][i];
          dx[i] += p;
        }
    }
}

static const WeftOpDesc multiply_op = {
  .name = "Multiply",
  .category = "Merge",
  .help = WEFT_N_("Multiplies its inputs element by element; all inputs must have the same "
                  "shape."),
  .min_inputs = 2,
  .max_inputs = WEFT_VARIADIC,
  .flags = WEFT_OP_MERGE,
  .infer = multiply_infer,
  .forward = multiply_forward,
  .backward = multiply_backward,
};

static bool
average_infer (const WeftOpArgs *args, WeftShape *out, char *why, size_t why_len)
{
  return equal_shapes_infer (args, out, "Average", 2, WEFT_MAX_INPUTS, why, why_len);
}

static void
average_forward (const WeftOpCtx *ctx)
{
  size_t n = merge_count (ctx);
  float inv = 1.0f / (float) ctx->n_in;
  add_forward (ctx);
  for (size_t i = 0; i < n; i++)
    ctx->out[i] *= inv;
}

static void
average_backward (const WeftOpCtx *ctx)
{
  float scales[WEFT_MAX_INPUTS];
  for (int k = 0; k < WEFT_MAX_INPUTS; k++)
    scales[k] = 1.0f / (float) ctx->n_in;
  linear_backward (ctx, scales);
}

static const WeftOpDesc average_op = {
  .name = "Average",
  .category = "Merge",
  .help = WEFT_N_("Averages its inputs element by element; all inputs must have the same "
                  "shape."),
  .min_inputs = 2,
  .max_inputs = WEFT_VARIADIC,
  .flags = WEFT_OP_MERGE,
  .infer = average_infer,
  .forward = average_forward,
  .backward = average_backward,
};

/* Index of the input holding the extreme value at element i; ties go to the first input,
 * as TensorFlow's maximum/minimum gradients do when Keras folds the inputs left to right. */
static inline int
extreme_index (const WeftOpCtx *ctx, size_t i, bool want_max)
{
  int best = 0;
  float v = ctx->in[0][i];
  for (int k = 1; k < ctx->n_in; k++)
    {
      float x = ctx->in[k][i];
      if (want_max ? x > v : x < v)
        {
          v = x;
          best = k;
        }
    }
  return best;
}

static void
extreme_forward (const WeftOpCtx *ctx, bool want_max)
{
  size_t n = merge_count (ctx);
  for (size_t i = 0; i < n; i++)
    ctx->out[i] = ctx->in[extreme_index (ctx, i, want_max)][i];
}

static void
extreme_backward (const WeftOpCtx *ctx, bool want_max)
{
  size_t n = merge_count (ctx);
  for (size_t i = 0; i < n; i++)
    {
      float *dx = ctx->din[extreme_index (ctx, i, want_max)];
      if (dx != NULL)
        dx[i] += ctx->dout[i];
    }
}

static bool
maximum_infer (const WeftOpArgs *args, WeftShape *out, char *why, size_t why_len)
{
  return equal_shapes_infer (args, out, "Maximum", 2, WEFT_MAX_INPUTS, why, why_len);
}

static void
maximum_forward (const WeftOpCtx *ctx)
{
  extreme_forward (ctx, true);
}

static void
maximum_backward (const WeftOpCtx *ctx)
{
  extreme_backward (ctx, true);
}

static const WeftOpDesc maximum_op = {
  .name = "Maximum",
  .category = "Merge",
  .help = WEFT_N_("Takes the largest of its inputs element by element."),
  .min_inputs = 2,
  .max_inputs = WEFT_VARIADIC,
  .flags = WEFT_OP_MERGE,
  .infer = maximum_infer,
  .forward = maximum_forward,
  .backward = maximum_backward,
};

static bool
minimum_infer (const WeftOpArgs *args, WeftShape *out, char *why, size_t why_len)
{
  return equal_shapes_infer (args, out, "Minimum", 2, WEFT_MAX_INPUTS, why, why_len);
}

static void
minimum_forward (const WeftOpCtx *ctx)
{
  extreme_forward (ctx, false);
}

static void
minimum_backward (const WeftOpCtx *ctx)
{
  extreme_backward (ctx, false);
}

static const WeftOpDesc minimum_op = {
  .name = "Minimum",
  .category = "Merge",
  .help = WEFT_N_("Takes the smallest of its inputs element by element."),
  .min_inputs = 2,
  .max_inputs = WEFT_VARIADIC,
  .flags = WEFT_OP_MERGE,
  .infer = minimum_infer,
  .forward = minimum_forward,
  .backward = minimum_backward,
};

/* ---- Concatenate ---- */

static const WeftParamSpec concat_params[] = {
  { .name = "axis", .type = WEFT_PARAM_INT,
    .help = WEFT_N_("Axis to join along, counting the batch axis as 0; -1 is the last axis "
                    "(channels)."),
    .def = -1, .min = -WEFT_MAX_RANK, .max = WEFT_MAX_RANK, .flags = WEFT_PARAM_KEY },
};

static bool
concat_check (const WeftValue *cfg, char *why, size_t why_len)
{
  if (weft_cfg_int (cfg, 0) == 0)
    {
      snprintf (why, why_len,
                "axis 0 is the batch axis, which cannot be concatenated: use 1 or later, or "
                "-1 for the last axis");
      return false;
    }
  return true;
}

/* Keras axis (batch = 0, negative from the end) to a per-sample axis, or -1. */
static int
sample_axis (int axis, int rank)
{
  int a = axis > 0 ? axis - 1 : rank + axis;
  return a >= 0 && a < rank ? a : -1;
}

/* Lists every input shape; when why is too short for all of them, the list ends in "..."
 * so that `reserve` bytes stay free for a hint after it. */
static void
append_all_shapes (const WeftOpArgs *args, char *why, size_t why_len, size_t *used,
                   size_t reserve)
{
  char list[WEFT_MAX_INPUTS * 100];
  size_t n = 0, last_fit = 0;
  size_t budget = why_len > *used + reserve + 1 ? why_len - *used - reserve - 1 : 0;
  for (int i = 0; i < args->n_in; i++)
    {
      char buf[96];
      size_t before = n;
      append (list, sizeof list, &n, "%s%s", i == 0 ? "" : ", ",
              weft_shape_format (&args->in[i], buf, sizeof buf));
      if (n + 5 <= budget)
        last_fit = n;
      else if (before + 5 <= budget)
        last_fit = before;
    }
  if (n > budget && last_fit < n)
    {
      list[last_fit] = '\0';
      append (why, why_len, used, "%s, ...", list);
      return;
    }
  append (why, why_len, used, "%s", list);
}

static bool
concat_infer (const WeftOpArgs *args, WeftShape *out, char *why, size_t why_len)
{
  int axis = weft_cfg_int (args->cfg, 0);
  int rank = args->in[0].rank;
  size_t used = 0;

  if (!check_input_count (args, "Concatenate", 2, WEFT_MAX_INPUTS, why, why_len))
    return false;
  if (!concat_check (args->cfg, why, why_len))
    return false;
  for (int i = 1; i < args->n_in; i++)
    if (args->in[i].rank != rank)
      {
        append (why, why_len, &used, "Concatenate needs inputs with the same number of axes, "
                "but the inputs have shapes ");
        append_all_shapes (args, why, why_len, &used, 0);
        return false;
      }
  int a = sample_axis (axis, rank);
  if (a < 0)
    {
      char buf[96];
      snprintf (why, why_len, "axis %d does not exist for inputs of shape %s", axis,
                weft_shape_format (&args->in[0], buf, sizeof buf));
      return false;
    }

  bool differ = false, spatial_differ = false;
  int64_t joined = 0;
  for (int i = 0; i < args->n_in; i++)
    {
      joined += args->in[i].dims[a];
      for (int d = 0; d < rank; d++)
        if (d != a && args->in[i].dims[d] != args->in[0].dims[d])
          {
            differ = true;
            /* Keras is channels-last: every axis but the last is spatial (or time). */
            if (d < rank - 1)
              spatial_differ = true;
          }
    }
  if (differ)
    {
      /* Short enough that four inception branches and the hint fit in 256 bytes; the hint
       * is kept even when the shapes must be cut. */
      static const char hint[] = "; the branches' spatial sizes differ: use padding='same' "
                                 "in their convolutions and poolings";
      bool with_hint = rank >= 2 && spatial_differ; /* (None, steps, channels) and up */
      append (why, why_len, &used, "Concatenate on axis %d needs all other axes equal, but "
              "got ", axis);
      append_all_shapes (args, why, why_len, &used, with_hint ? sizeof hint : 0);
      if (with_hint)
        append (why, why_len, &used, "%s", hint);
      return false;
    }
  if (joined > 2147483647 || weft_shape_size (&args->in[0]) / args->in[0].dims[a] * joined
      > 2147483647)
    {
      snprintf (why, why_len, "the concatenated output would be too large");
      return false;
    }
  *out = args->in[0];
  out->dims[a] = (int) joined;
  return true;
}

/* Every sample is `outer` blocks; input i contributes inner_i contiguous floats per block. */
static void
concat_layout (const WeftOpCtx *ctx, size_t *outer, size_t *inner, size_t *out_inner)
{
  int a = sample_axis (weft_cfg_int (ctx->cfg, 0), ctx->out_shape.rank);
  size_t o = (size_t) ctx->batch, tail = 1;
  for (int d = 0; d < a; d++)
    o *= (size_t) ctx->out_shape.dims[d];
  for (int d = a + 1; d < ctx->out_shape.rank; d++)
    tail *= (size_t) ctx->out_shape.dims[d];
  *outer = o;
  *out_inner = 0;
  for (int i = 0; i < ctx->n_in; i++)
    {
      inner[i] = (size_t) ctx->in_shape[i].dims[a] * tail;
      *out_inner += inner[i];
    }
}

static void
concat_forward (const WeftOpCtx *ctx)
{
  size_t outer, inner[WEFT_MAX_INPUTS], out_inner;
  concat_layout (ctx, &outer, inner, &out_inner);
  for (size_t o = 0; o < outer; o++)
    {
      float *y = ctx->out + o * out_inner;
      for (int i = 0; i < ctx->n_in; i++)
        {
          memcpy (y, ctx->in[i] + o * inner[i], inner[i] * sizeof *y);
          y += inner[i];
        }
    }
}

static void
concat_backward (const WeftOpCtx *ctx)
{
  size_t outer, inner[WEFT_MAX_INPUTS], out_inner;
  concat_layout (ctx, &outer, inner, &out_inner);
  for (size_t o = 0; o < outer; o++)
    {
      const float *dy = ctx->dout + o * out_inner;
      for (int i = 0; i < ctx->n_in; i++)
        {
          float *dx = ctx->din[i];
          if (dx != NULL)
            {
              dx += o * inner[i];
              weft_add_to (dx, dy, inner[i]);
            }
          dy += inner[i];
        }
    }
}

static const WeftOpDesc concat_op = {
  .name = "Concatenate",
  .category = "Merge",
  .help = WEFT_N_("Joins its inputs along one axis; every other axis must have the same "
                  "size."),
  .params = concat_params,
  .n_params = 1,
  .min_inputs = 2,
  .max_inputs = WEFT_VARIADIC,
  .flags = WEFT_OP_MERGE,
  .infer = concat_infer,
  .forward = concat_forward,
  .backward = concat_backward,
  .check = concat_check,
};

/* ---- Dot ---- */

enum { DOT_AXES, DOT_NORMALIZE };

static const WeftParamSpec dot_params[] = {
  { .name = "axes", .type = WEFT_PARAM_INTS,
    .help = WEFT_N_("Axis of each input to multiply and sum over (batch axis = 0); one value "
                    "is used for both inputs."),
    .min = -2, .max = 2, .n_min = 1, .n_max = 2, .def_n = 1, .def_ints = { -1 },
    .flags = WEFT_PARAM_KEY },
  { .name = "normalize", .type = WEFT_PARAM_BOOL,
    .help = WEFT_N_("Whether both inputs are L2-normalised along the axes first, giving the "
                    "cosine similarity."),
    .def = 0, .min = 0, .max = 1 },
};

#define L2_EPSILON 1e-12f /* tf.math.l2_normalize's default */

static bool
dot_check (const WeftValue *cfg, char *why, size_t why_len)
{
  for (int i = 0; i < cfg[DOT_AXES].n; i++)
    if (cfg[DOT_AXES].ints[i] == 0)
      {
        snprintf (why, why_len, "axes: 0 is the batch axis and cannot be summed over");
        return false;
      }
  return true;
}

/* One call's matrix product, per sample: out[m, n] = op(A)[m, k] · op(B)[k, n], A being
 * input 0 and B input 1 as stored; a 1-D input is a row (A) or a column (B). */
typedef struct
{
  int  m, n, k;
  bool trans_a, trans_b;
  int  lda, ldb;
  int  axis0, axis1;  /* per-sample contracted axes */
} DotGeom;

static bool
dot_geometry (const WeftValue *cfg, const WeftShape *x, const WeftShape *y, DotGeom *g,
              char *why, size_t why_len)
{
  char xb[96], yb[96];
  const WeftValue *axes = &cfg[DOT_AXES];
  int ax0 = axes->ints[0], ax1 = axes->n > 1 ? axes->ints[1] : axes->ints[0];

  weft_shape_format (x, xb, sizeof xb);
  weft_shape_format (y, yb, sizeof yb);
  if (x->rank < 1 || x->rank > 2 || y->rank < 1 || y->rank > 2)
    {
      snprintf (why, why_len, "Dot works on inputs of rank 2 or 3 (batch axis included), "
                "as Keras' batch_dot; the inputs have shapes %s and %s", xb, yb);
      return false;
    }
  g->axis0 = sample_axis (ax0, x->rank);
  g->axis1 = sample_axis (ax1, y->rank);
  if (ax0 == 0 || ax1 == 0 || g->axis0 < 0 || g->axis1 < 0)
    {
      snprintf (why, why_len, "axes (%d, %d) do not fit inputs of shapes %s and %s", ax0, ax1,
                xb, yb);
      return false;
    }
  if (x->dims[g->axis0] != y->dims[g->axis1])
    {
      snprintf (why, why_len, "Dot sums axis %d of %s against axis %d of %s, but their sizes "
                "differ: %d != %d", g->axis0 + 1, xb, g->axis1 + 1, yb, x->dims[g->axis0],
                y->dims[g->axis1]);
      return false;
    }
  g->k = x->dims[g->axis0];
  if (x->rank == 1)
    {
      g->m = 1;
      g->trans_a = false;
      g->lda = g->k;
    }
  else
    {
      g->m = x->dims[1 - g->axis0];
      g->trans_a = g->axis0 == 0;
      g->lda = x->dims[1];
    }
  if (y->rank == 1)
    {
      g->n = 1;
      g->trans_b = false;
      g->ldb = 1;
    }
  else
    {
      g->n = y->dims[1 - g->axis1];
      g->trans_b = g->axis1 == 1;
      g->ldb = y->dims[1];
    }
  return true;
}

static bool
dot_infer (const WeftOpArgs *args, WeftShape *out, char *why, size_t why_len)
{
  DotGeom g;
  if (!check_input_count (args, "Dot", 2, 2, why, why_len))
    return false;
  if (!dot_check (args->cfg, why, why_len))
    return false;
  if (!dot_geometry (args->cfg, &args->in[0], &args->in[1], &g, why, why_len))
    return false;
  out->rank = 0;
  if (args->in[0].rank == 2)
    out->dims[out->rank++] = g.m;
  if (args->in[1].rank == 2)
    out->dims[out->rank++] = g.n;
  if (out->rank == 0)
    *out = weft_shape_make (1, 1);
  return true;
}

static size_t
dot_aux_size (const WeftOpArgs *args, int batch)
{
  if (!weft_cfg_bool (args->cfg, DOT_NORMALIZE))
    return 0;
  return (size_t) batch * (shape_size (&args->in[0]) + shape_size (&args->in[1]));
}

static size_t
dot_scratch_size (const WeftOpArgs *args, int batch)
{
  return dot_aux_size (args, batch);
}

/* Vectors along per-sample axis `axis` of shape s: count, length, stride, start of v. */
static void
vector_layout (const WeftShape *s, int axis, size_t *count, size_t *len, size_t *stride)
{
  if (s->rank == 1)
    {
      *count = 1, *len = (size_t) s->dims[0], *stride = 1;
      return;
    }
  *len = (size_t) s->dims[axis];
  *count = (size_t) s->dims[1 - axis];
  *stride = axis == 1 ? 1 : (size_t) s->dims[1];
}

static inline size_t
vector_start (const WeftShape *s, int axis, size_t v)
{
  return s->rank == 2 && axis == 1 ? v * (size_t) s->dims[1] : v;
}

static void
l2_normalize (const float *x, float *xn, const WeftShape *s, int axis, int batch)
{
  size_t count, len, stride, size = shape_size (s);
  vector_layout (s, axis, &count, &len, &stride);
  for (int b = 0; b < batch; b++)
    for (size_t v = 0; v < count; v++)
      {
        size_t o = (size_t) b * size + vector_start (s, axis, v);
        double ss = 0.0;
        for (size_t j = 0; j < len; j++)
          ss += (double) x[o + j * stride] * x[o + j * stride];
        float inv = (float) (1.0 / sqrt (fmax (ss, L2_EPSILON)));
        for (size_t j = 0; j < len; j++)
          xn[o + j * stride] = x[o + j * stride] * inv;
      }
}

/* dx += d(xn)/dx^T dxn, with xn = x / max(|x|, sqrt(eps)). */
static void
l2_normalize_backward (const float *x, const float *xn, const float *dxn, float *dx,
                       const WeftShape *s, int axis, int batch)
{
  size_t count, len, stride, size = shape_size (s);
  vector_layout (s, axis, &count, &len, &stride);
  for (int b = 0; b < batch; b++)
    for (size_t v = 0; v < count; v++)
      {
        size_t o = (size_t) b * size + vector_start (s, axis, v);
        double ss = 0.0, dot = 0.0;
        for (size_t j = 0; j < len; j++)
          {
            size_t p = o + j * stride;
            ss += (double) x[p] * x[p];
            dot += (double) xn[p] * dxn[p];
          }
        bool clipped = ss < L2_EPSILON;
        float inv = (float) (1.0 / sqrt (fmax (ss, L2_EPSILON)));
        for (size_t j = 0; j < len; j++)
          {
            size_t p = o + j * stride;
            dx[p] += clipped ? dxn[p] * inv : (dxn[p] - xn[p] * (float) dot) * inv;
          }
      }
}

static void
dot_forward (const WeftOpCtx *ctx)
{
  DotGeom g;
  char why[8];
  bool normalize = weft_cfg_bool (ctx->cfg, DOT_NORMALIZE);
  const float *x = ctx->in[0], *y = ctx->in[1];
  size_t sx = shape_size (&ctx->in_shape[0]), sy = shape_size (&ctx->in_shape[1]);
  size_t so = shape_size (&ctx->out_shape);

  WEFT_CHECK (dot_geometry (ctx->cfg, &ctx->in_shape[0], &ctx->in_shape[1], &g, why,
                            sizeof why));
  if (normalize)
    {
      float *xn = ctx->aux, *yn = ctx->aux + (size_t) ctx->batch * sx;
      l2_normalize (x, xn, &ctx->in_shape[0], g.axis0, ctx->batch);
      l2_normalize (y, yn, &ctx->in_shape[1], g.axis1, ctx->batch);
      x = xn;
      y = yn;
    }
  for (int b = 0; b < ctx->batch; b++)
    weft_sgemm (g.trans_a, g.trans_b, g.m, g.n, g.k, 1.0f, x + b * sx, g.lda, y + b * sy,
                g.ldb, 0.0f, ctx->out + b * so, g.n);
}

static void
dot_backward (const WeftOpCtx *ctx)
{
  DotGeom g;
  char why[8];
  bool normalize = weft_cfg_bool (ctx->cfg, DOT_NORMALIZE);
  const float *x = ctx->in[0], *y = ctx->in[1];
  float *dx = ctx->din[0], *dy = ctx->din[1];
  size_t sx = shape_size (&ctx->in_shape[0]), sy = shape_size (&ctx->in_shape[1]);
  size_t so = shape_size (&ctx->out_shape);

  WEFT_CHECK (dot_geometry (ctx->cfg, &ctx->in_shape[0], &ctx->in_shape[1], &g, why,
                            sizeof why));
  if (normalize)
    {
      /* Gradients reach the normalised inputs first (scratch), then go through the norm. */
      x = ctx->aux;
      y = ctx->aux + (size_t) ctx->batch * sx;
      dx = ctx->din[0] != NULL ? ctx->scratch : NULL;
      dy = ctx->din[1] != NULL ? ctx->scratch + (size_t) ctx->batch * sx : NULL;
      if (dx != NULL)
        memset (dx, 0, (size_t) ctx->batch * sx * sizeof *dx);
      if (dy != NULL)
        memset (dy, 0, (size_t) ctx->batch * sy * sizeof *dy);
    }
  for (int b = 0; b < ctx->batch; b++)
    {
      const float *xa = x + b * sx, *yb = y + b * sy, *go = ctx->dout + b * so;
      if (dx != NULL)
        {
          if (!g.trans_a)
            weft_sgemm (false, !g.trans_b, g.m, g.k, g.n, 1.0f, go, g.n, yb, g.ldb, 1.0f,
                        dx + b * sx, g.lda);
          else
            weft_sgemm (g.trans_b, true, g.k, g.m, g.n, 1.0f, yb, g.ldb, go, g.n, 1.0f,
                        dx + b * sx, g.lda);
        }
      if (dy != NULL)
        {
          if (!g.trans_b)
            weft_sgemm (!g.trans_a, false, g.k, g.n, g.m, 1.0f, xa, g.lda, go, g.n, 1.0f,
                        dy + b * sy, g.ldb);
          else
            weft_sgemm (true, g.trans_a, g.n, g.k, g.m, 1.0f, go, g.n, xa, g.lda, 1.0f,
                        dy + b * sy, g.ldb);
        }
    }
  if (normalize)
    {
      if (dx != NULL)
        l2_normalize_backward (ctx->in[0], x, dx, ctx->din[0], &ctx->in_shape[0], g.axis0,
                               ctx->batch);
      if (dy != NULL)
        l2_normalize_backward (ctx->in[1], y, dy, ctx->din[1], &ctx->in_shape[1], g.axis1,
                               ctx->batch);
    }
}

static const WeftOpDesc dot_op = {
  .name = "Dot",
  .category = "Merge",
  .help = WEFT_N_("Dot product of two inputs along the given axes for every sample, as Keras' "
                  "batch_dot (cosine similarity with normalize)."),
  .params = dot_params,
  .n_params = 2,
  .min_inputs = 2,
  .max_inputs = 2,
  .flags = WEFT_OP_MERGE,
  .infer = dot_infer,
  .aux_size = dot_aux_size,
  .scratch_size = dot_scratch_size,
  .forward = dot_forward,
  .backward = dot_backward,
  .check = dot_check,
};

const WeftOpDesc *const weft_layers_merge[] = {
  &add_op,
  &subtract_op,
  &multiply_op,
  &average_op,
  &maximum_op,
  &minimum_op,
  &concat_op,
  &dot_op,
  NULL
};
