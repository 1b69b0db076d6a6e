/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Core layers: Input, Dense, Activation, Dropout, Flatten, Reshape, RepeatVector. */
#include "weft-op.h"
#include "weft-layers-core.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "weft-activation.h"
#include "weft-blas.h"

/* Per-sample element counts are ints throughout the engine. */
#define MAX_SAMPLE_SIZE ((int64_t) INT_MAX)

static size_t
shape_size (const WeftShape *s)
{
  return (size_t) weft_shape_size (s);
}

static bool
expect_inputs (const WeftOpArgs *args, int n, const char *layer, char *why, size_t why_len)
{
  if (args->n_in == n)
    return true;
  snprintf (why, why_len, "%s takes %d input%s, not %d", layer, n, n == 1 ? "" : "s",
            args->n_in);
  return false;
}

/* ---- Input ---- */

static const char *const input_dtypes[] = { "float32", "int32", NULL };

static const WeftParamSpec input_params[] = {
  { .name = "shape", .type = WEFT_PARAM_INTS,
    .help = WEFT_N_("Shape of one sample, without the batch axis, e.g. 28,28,1 for an image."),
    .min = 1, .max = 100000000, .n_min = 1, .n_max = WEFT_MAX_RANK,
    .def_n = 1, .def_ints = { 32 }, .flags = WEFT_PARAM_KEY },
  { .name = "dtype", .type = WEFT_PARAM_CHOICE,
    .help = WEFT_N_("Element type of the data: float32 for values, int32 for token ids."),
    .def = 0, .choices = input_dtypes },
};

static bool
input_infer (const WeftOpArgs *args, WeftShape *out, char *why, size_t why_len)
{
  const WeftValue *shape = &args->cfg[0];
  if (shape->n < 1 || shape->n > WEFT_MAX_RANK)
    {
      snprintf (why, why_len, "shape needs 1 to %d values, not %d", WEFT_MAX_RANK, shape->n);
      return false;
    }
  out->rank = shape->n;
  for (int i = 0; i < shape->n; i++)
    {
      if (shape->ints[i] < 1)
        {
          snprintf (why, why_len, "shape[%d] = %d: every size must be at least 1", i,
                    shape->ints[i]);
          return false;
        }
      out->dims[i] = shape->ints[i];
    }
  if (weft_shape_size (out) > MAX_SAMPLE_SIZE)
    {
      char buf[96];
      snprintf (why, why_len, "one sample of shape %s has more than %d values",
                weft_shape_format (out, buf, sizeof buf), INT_MAX);
      return false;
    }
  return true;
}

/* The plan writes the data straight into the Input's output buffer. */
static void
input_forward (const WeftOpCtx *ctx)
{
  (void) ctx;
}

static void
input_backward (const WeftOpCtx *ctx)
{
  (void) ctx;
}

static const WeftOpDesc input_op = {
  .name = "Input",
  .category = "Inputs",
  .help = WEFT_N_("A model input: the data set feeds one sample of the given shape per row."),
  .params = input_params,
  .n_params = 2,
  .min_inputs = 0,
  .max_inputs = 0,
  .flags = WEFT_OP_INPUT,
  .infer = input_infer,
  .forward = input_forward,
  .backward = input_backward,
};

/* ---- Dense ---- */

static const WeftParamSpec dense_params[] = {
  { .name = "units", .type = WEFT_PARAM_INT,
    .help = WEFT_N_("Number of output values (neurons) per position."),
    .def = 32, .min = 1, .max = 1000000, .flags = WEFT_PARAM_KEY },
  { .name = "activation", .type = WEFT_PARAM_CHOICE,
    .help = WEFT_N_("Function applied to each output; linear leaves it unchanged."),
    .def = WEFT_ACT_LINEAR, .choices = weft_activation_names, .flags = WEFT_PARAM_KEY },
  { .name = "use_bias", .type = WEFT_PARAM_BOOL,
    .help = WEFT_N_("Whether a learned bias is added to each output."),
    .def = 1, .min = 0, .max = 1 },
};

static bool
dense_infer (const WeftOpArgs *args, WeftShape *out, char *why, size_t why_len)
{
  if (!expect_inputs (args, 1, "Dense", why, why_len))
    return false;
  const WeftShape *in = &args->in[0];
  if (in->rank < 1)
    {
      snprintf (why, why_len, "Dense needs an input with at least one axis besides the batch");
      return false;
    }
  *out = *in;
  out->dims[out->rank - 1] = weft_cfg_int (args->cfg, DENSE_UNITS);
  if (weft_shape_size (out) > MAX_SAMPLE_SIZE)
    {
      char buf[96];
      snprintf (why, why_len, "the output %s would have more than %d values per sample",
                weft_shape_format (out, buf, sizeof buf), INT_MAX);
      return false;
    }
  return true;
}

static int
dense_weights (const WeftOpArgs *args, WeftWeightSpec *specs)
{
  int units = weft_cfg_int (args->cfg, DENSE_UNITS);
  int in = args->in[0].dims[args->in[0].rank - 1];
  memset (specs, 0, 2 * sizeof *specs);
  snprintf (specs[0].name, sizeof specs[0].name, "kernel");
  specs[0].shape = weft_shape_make (2, in, units);
  specs[0].init = WEFT_INIT_GLOROT_UNIFORM;
  specs[0].trainable = true;
  if (!weft_cfg_bool (args->cfg, DENSE_USE_BIAS))
    return 1;
  snprintf (specs[1].name, sizeof specs[1].name, "bias");
  specs[1].shape = weft_shape_make (1, units);
  specs[1].init = WEFT_INIT_ZEROS;
  specs[1].trainable = true;
  return 2;
}

static size_t
dense_aux_size (const WeftOpArgs *args, int batch)
{
  WeftActivation act = (WeftActivation) weft_cfg_int (args->cfg, DENSE_ACTIVATION);
  /* The pre-activation is kept only for activations whose gradient needs it. */
  if (!weft_activation_needs_input (act))
    return 0;
  return (size_t) batch * shape_size (args->out);
}

static size_t
dense_scratch_size (const WeftOpArgs *args, int batch)
{
  WeftActivation act = (WeftActivation) weft_cfg_int (args->cfg, DENSE_ACTIVATION);
  if (act == WEFT_ACT_LINEAR)
    return 0;
  return (size_t) batch * shape_size (args->out);
}

static void
dense_forward (const WeftOpCtx *ctx)
{
  WeftActivation act = (WeftActivation) weft_cfg_int (ctx->cfg, DENSE_ACTIVATION);
  bool use_bias = weft_cfg_bool (ctx->cfg, DENSE_USE_BIAS);
  int units = weft_cfg_int (ctx->cfg, DENSE_UNITS);
  int in = ctx->in_shape[0].dims[ctx->in_shape[0].rank - 1];
  size_t total = (size_t) ctx->batch * shape_size (&ctx->out_shape);
  int rows = (int) (total / (size_t) units);
  float *z = weft_activation_needs_input (act) ? ctx->aux : ctx->out;

  /* small products add the bias and apply relu in the product's own stores */
  if (use_bias && (act == WEFT_ACT_RELU || act == WEFT_ACT_LINEAR)
      && weft_sgemm_bias (rows, units, in, ctx->in[0], in, ctx->w[0], units, ctx->out, units,
                          ctx->w[1], act == WEFT_ACT_RELU))
    return;
  weft_sgemm (false, false, rows, units, in, 1.0f, ctx->in[0], in, ctx->w[0], units, 0.0f, z,
              units);
  /* bias and activation in one pass over the product while it is in cache */
  if (use_bias || act != WEFT_ACT_LINEAR)
    weft_activation_forward_bias (act, z, use_bias ? ctx->w[1] : NULL, ctx->out, total, units);
}

/* Every gradient is assigned when the plan says this call writes it first (see weft-op.h),
 * added otherwise: beta 0 or 1 in the products. */
static void
dense_backward (const WeftOpCtx *ctx)
{
  WeftActivation act = (WeftActivation) weft_cfg_int (ctx->cfg, DENSE_ACTIVATION);
  bool use_bias = weft_cfg_bool (ctx->cfg, DENSE_USE_BIAS);
  int units = weft_cfg_int (ctx->cfg, DENSE_UNITS);
  int in = ctx->in_shape[0].dims[ctx->in_shape[0].rank - 1];
  size_t total = (size_t) ctx->batch * shape_size (&ctx->out_shape);
  int rows = (int) (total / (size_t) units);
  const float *g = ctx->dout;
  bool want_db = use_bias && ctx->dw[1] != NULL;

  if (act != WEFT_ACT_LINEAR && !ctx->dout_preact)
    {
      const float *x = weft_activation_needs_input (act) ? ctx->aux : NULL;
      if (want_db)   /* the bias gradient in the same pass */
        weft_activation_grad_sum_rows (act, x, ctx->out, ctx->dout, ctx->scratch, total, units,
                                       ctx->dw[1], ctx->dw_assign[1]);
      else
        weft_activation_grad (act, x, ctx->out, ctx->dout, ctx->scratch, total, units);
      g = ctx->scratch;
    }
  else if (want_db)
    weft_sum_rows (g, rows, units, ctx->dw_assign[1], ctx->dw[1]);
  if (ctx->dw[0] != NULL)
    weft_sgemm (true, false, in, units, rows, 1.0f, ctx->in[0], in, g, units,
                ctx->dw_assign[0] ? 0.0f : 1.0f, ctx->dw[0], units);
  if (ctx->din[0] != NULL)
    weft_sgemm (false, true, rows, in, units, 1.0f, g, units, ctx->w[0], units,
                ctx->din_assign[0] ? 0.0f : 1.0f, ctx->din[0], in);
}

static int
dense_output_activation (const WeftValue *cfg)
{
  return weft_cfg_int (cfg, DENSE_ACTIVATION);
}

const WeftOpDesc weft_dense_op = {
  .name = "Dense",
  .category = "Core",
  .help = WEFT_N_("Fully connected layer: output = activation(input · kernel + bias) on the "
                  "last axis."),
  .params = dense_params,
  .n_params = 3,
  .min_inputs = 1,
  .max_inputs = 1,
  .flags = WEFT_OP_ASSIGNS_GRADS,
  .infer = dense_infer,
  .weights = dense_weights,
  .aux_size = dense_aux_size,
  .scratch_size = dense_scratch_size,
  .forward = dense_forward,
  .backward = dense_backward,
  .output_activation = dense_output_activation,
};

/* ---- Activation ---- */

static const WeftParamSpec activation_params[] = {
  { .name = "activation", .type = WEFT_PARAM_CHOICE,
    .help = WEFT_N_("Function applied to every value; softmax works along the last axis."),
    .def = WEFT_ACT_RELU, .choices = weft_activation_names, .flags = WEFT_PARAM_KEY },
};

static bool
same_shape_infer (const WeftOpArgs *args, WeftShape *out, const char *layer, char *why,
                  size_t why_len)
{
  if (!expect_inputs (args, 1, layer, why, why_len))
    return false;
  *out = args->in[0];
  return true;
}

static bool
activation_infer (const WeftOpArgs *args, WeftShape *out, char *why, size_t why_len)
{
  return same_shape_infer (args, out, "Activation", why, why_len);
}

static int
last_axis (const WeftShape *s)
{
  return s->rank > 0 ? s->dims[s->rank - 1] : 1;
}

static void
activation_forward (const WeftOpCtx *ctx)
{
  WeftActivation act = (WeftActivation) weft_cfg_int (ctx->cfg, 0);
  size_t n = (size_t) ctx->batch * shape_size (&ctx->out_shape);
  weft_activation_forward (act, ctx->in[0], ctx->out, n, last_axis (&ctx->out_shape));
}

static void
activation_backward (const WeftOpCtx *ctx)
{
  WeftActivation act = (WeftActivation) weft_cfg_int (ctx->cfg, 0);
  size_t n = (size_t) ctx->batch * shape_size (&ctx->out_shape);
  if (ctx->din[0] == NULL)
    return;
  if (ctx->dout_preact)
    {
      for (size_t i = 0; i < n; i++)
        ctx->din[0][i] += ctx->dout[i];
      return;
    }
  weft_activation_backward (act, ctx->in[0], ctx->out, ctx->dout, ctx->din[0], n,
                            last_axis (&ctx->out_shape));
}

static int
activation_output_activation (const WeftValue *cfg)
{
  return weft_cfg_int (cfg, 0);
}

static const WeftOpDesc activation_op = {
  .name = "Activation",
  .category = "Activation",
  .help = WEFT_N_("Applies an activation function to every value of its input."),
  .params = activation_params,
  .n_params = 1,
  .min_inputs = 1,
  .max_inputs = 1,
  .infer = activation_infer,
  .forward = activation_forward,
  .backward = activation_backward,
  .output_activation = activation_output_activation,
};

/* ---- Dropout ---- */

static const WeftParamSpec dropout_params[] = {
  { .name = "rate", .type = WEFT_PARAM_FLOAT,
    .help = WEFT_N_("Fraction of the values set to zero during training (the rest are scaled "
                    "up to keep the sum)."),
    .def = 0.5, .min = 0.0, .max = 0.999, .flags = WEFT_PARAM_KEY },
};

static bool
dropout_infer (const WeftOpArgs *args, WeftShape *out, char *why, size_t why_len)
{
  return same_shape_infer (args, out, "Dropout", why, why_len);
}

/* aux[0] records whether the last forward dropped anything (backward may run with another
 * training flag than the forward it follows); the mask follows. */
static size_t
dropout_aux_size (const WeftOpArgs *args, int batch)
{
  return 1 + (size_t) batch * shape_size (&args->in[0]);
}

static bool
dropout_active (const WeftOpCtx *ctx)
{
  return ctx->training && weft_cfg_float (ctx->cfg, 0) > 0.0f;
}

static void
dropout_forward (const WeftOpCtx *ctx)
{
  size_t n = (size_t) ctx->batch * shape_size (&ctx->out_shape);
  const float *x = ctx->in[0];
  float *y = ctx->out;
  ctx->aux[0] = dropout_active (ctx) ? 1.0f : 0.0f;
  if (!dropout_active (ctx))
    {
      if (y != x)
        memcpy (y, x, n * sizeof *y);
      return;
    }
  WEFT_CHECK (ctx->rng != NULL);
  float rate = weft_cfg_float (ctx->cfg, 0);
  float scale = 1.0f / (1.0f - rate);
  float *mask = ctx->aux + 1;
  for (size_t i = 0; i < n; i++)
    {
      mask[i] = weft_rng_uniform (ctx->rng) >= rate ? scale : 0.0f;
      y[i] = x[i] * mask[i];
    }
}

static void
dropout_backward (const WeftOpCtx *ctx)
{
  size_t n = (size_t) ctx->batch * shape_size (&ctx->out_shape);
  float *dx = ctx->din[0];
  if (dx == NULL)
    return;
  if (ctx->aux[0] == 0.0f)
    {
      for (size_t i = 0; i < n; i++)
        dx[i] += ctx->dout[i];
      return;
    }
  const float *mask = ctx->aux + 1;
  for (size_t i = 0; i < n; i++)
    dx[i] += ctx->dout[i] * mask[i];
}

static const WeftOpDesc dropout_op = {
  .name = "Dropout",
  .category = "Regularisation",
  .help = WEFT_N_("During training, zeroes a random fraction of the values; does nothing "
                  "when predicting."),
  .params = dropout_params,
  .n_params = 1,
  .min_inputs = 1,
  .max_inputs = 1,
  .flags = WEFT_OP_IDENTITY_INFERENCE,
  .infer = dropout_infer,
  .aux_size = dropout_aux_size,
  .forward = dropout_forward,
  .backward = dropout_backward,
};

/* ---- Flatten and Reshape: same values, another shape ---- */

static void
copy_forward (const WeftOpCtx *ctx)
{
  size_t n = (size_t) ctx->batch * shape_size (&ctx->out_shape);
  if (ctx->out != ctx->in[0])
    memcpy (ctx->out, ctx->in[0], n * sizeof *ctx->out);
}

static void
copy_backward (const WeftOpCtx *ctx)
{
  size_t n = (size_t) ctx->batch * shape_size (&ctx->out_shape);
  float *dx = ctx->din[0];
  if (dx == NULL)
    return;
  for (size_t i = 0; i < n; i++)
    dx[i] += ctx->dout[i];
}

static bool
flatten_infer (const WeftOpArgs *args, WeftShape *out, char *why, size_t why_len)
{
  if (!expect_inputs (args, 1, "Flatten", why, why_len))
    return false;
  int64_t n = weft_shape_size (&args->in[0]);
  if (n < 1 || n > MAX_SAMPLE_SIZE)
    {
      char buf[96];
      snprintf (why, why_len, "cannot flatten %s: it has %s values per sample",
                weft_shape_format (&args->in[0], buf, sizeof buf),
                n < 1 ? "no" : "too many");
      return false;
    }
  *out = weft_shape_make (1, (int) n);
  return true;
}

static const WeftOpDesc flatten_op = {
  .name = "Flatten",
  .category = "Reshaping",
  .help = WEFT_N_("Turns each sample into one long vector (channels run fastest)."),
  .params = NULL,
  .n_params = 0,
  .min_inputs = 1,
  .max_inputs = 1,
  .infer = flatten_infer,
  .forward = copy_forward,
  .backward = copy_backward,
};

static const WeftParamSpec reshape_params[] = {
  { .name = "target_shape", .type = WEFT_PARAM_INTS,
    .help = WEFT_N_("New shape of one sample without the batch axis; one -1 is inferred "
                    "from the size."),
    .min = 1, .max = 100000000, .n_min = 1, .n_max = WEFT_MAX_RANK,
    .def_n = 1, .def_ints = { -1 }, .flags = WEFT_PARAM_KEY | WEFT_PARAM_ALLOW_MINUS_ONE },
};

static bool
reshape_check (const WeftValue *cfg, char *why, size_t why_len)
{
  int unknown = 0;
  for (int i = 0; i < cfg[0].n; i++)
    if (cfg[0].ints[i] == -1)
      unknown++;
  if (unknown > 1)
    {
      snprintf (why, why_len, "target_shape may contain -1 only once (it has %d)", unknown);
      return false;
    }
  return true;
}

static void
format_target (const WeftValue *v, char *buf, size_t len)
{
  size_t used = snprintf (buf, len, "(");
  for (int i = 0; i < v->n && used < len; i++)
    used += snprintf (buf + used, len - used, i == 0 ? "%d" : ", %d", v->ints[i]);
  if (used < len)
    snprintf (buf + used, len - used, v->n == 1 ? ",)" : ")");
}

static bool
reshape_infer (const WeftOpArgs *args, WeftShape *out, char *why, size_t why_len)
{
  if (!expect_inputs (args, 1, "Reshape", why, why_len))
    return false;
  const WeftValue *t = &args->cfg[0];
  char ibuf[96], tbuf[96];
  int64_t have = weft_shape_size (&args->in[0]);
  int64_t known = 1;
  int unknown = -1;

  if (!reshape_check (args->cfg, why, why_len))
    return false;
  if (t->n < 1 || t->n > WEFT_MAX_RANK)
    {
      snprintf (why, why_len, "target_shape needs 1 to %d values, not %d", WEFT_MAX_RANK,
                t->n);
      return false;
    }
  weft_shape_format (&args->in[0], ibuf, sizeof ibuf);
  format_target (t, tbuf, sizeof tbuf);
  if (have < 1 || have > MAX_SAMPLE_SIZE)
    {
      snprintf (why, why_len, "cannot reshape %s: it has %s values per sample", ibuf,
                have < 1 ? "no" : "too many");
      return false;
    }
  for (int i = 0; i < t->n; i++)
    {
      if (t->ints[i] == -1)
        {
          unknown = i;
          continue;
        }
      if (t->ints[i] < 1)
        {
          snprintf (why, why_len, "target_shape %s: sizes must be at least 1 (or -1 once)",
                    tbuf);
          return false;
        }
      /* Stop multiplying once past the input's size: the message below says enough. */
      if (known <= have)
        known *= t->ints[i];
    }
  out->rank = t->n;
  for (int i = 0; i < t->n; i++)
    out->dims[i] = t->ints[i];
  if (unknown >= 0)
    {
      if (known > have || have % known != 0)
        {
          snprintf (why, why_len,
                    "cannot reshape %s (%lld values per sample) into target_shape %s: "
                    "%lld is not a multiple of %lld",
                    ibuf, (long long) have, tbuf, (long long) have, (long long) known);
          return false;
        }
      out->dims[unknown] = (int) (have / known);
      return true;
    }
  if (known != have)
    {
      snprintf (why, why_len,
                "cannot reshape %s (%lld values per sample) into target_shape %s "
                "(%s%lld values): the sizes must multiply to the same number",
                ibuf, (long long) have, tbuf, known > have ? "more than " : "",
                (long long) known);
      return false;
    }
  return true;
}

static const WeftOpDesc reshape_op = {
  .name = "Reshape",
  .category = "Reshaping",
  .help = WEFT_N_("Gives each sample a new shape with the same number of values."),
  .params = reshape_params,
  .n_params = 1,
  .min_inputs = 1,
  .max_inputs = 1,
  .infer = reshape_infer,
  .forward = copy_forward,
  .backward = copy_backward,
  .check = reshape_check,
};

/* ---- RepeatVector ---- */

static const WeftParamSpec repeat_params[] = {
  { .name = "n", .type = WEFT_PARAM_INT,
    .help = WEFT_N_("How many times the input vector is repeated along a new time axis."),
    .def = 2, .min = 1, .max = 1000000, .flags = WEFT_PARAM_KEY },
};

static bool
repeat_infer (const WeftOpArgs *args, WeftShape *out, char *why, size_t why_len)
{
  if (!expect_inputs (args, 1, "RepeatVector", why, why_len))
    return false;
  if (args->in[0].rank != 1)
    {
      char buf[96];
      snprintf (why, why_len,
                "RepeatVector needs a 2-D input (None, features), not %s; use Flatten first",
                weft_shape_format (&args->in[0], buf, sizeof buf));
      return false;
    }
  int n = weft_cfg_int (args->cfg, 0);
  *out = weft_shape_make (2, n, args->in[0].dims[0]);
  if (weft_shape_size (out) > MAX_SAMPLE_SIZE)
    {
      snprintf (why, why_len, "repeating %d values %d times gives too many values",
                args->in[0].dims[0], n);
      return false;
    }
  return true;
}

static void
repeat_forward (const WeftOpCtx *ctx)
{
  int n = ctx->out_shape.dims[0], f = ctx->out_shape.dims[1];
  for (int b = 0; b < ctx->batch; b++)
    {
      const float *x = ctx->in[0] + (size_t) b * f;
      float *y = ctx->out + (size_t) b * n * f;
      for (int t = 0; t < n; t++)
        memcpy (y + (size_t) t * f, x, (size_t) f * sizeof *y);
    }
}

static void
repeat_backward (const WeftOpCtx *ctx)
{
  int n = ctx->out_shape.dims[0], f = ctx->out_shape.dims[1];
  if (ctx->din[0] == NULL)
    return;
  for (int b = 0; b < ctx->batch; b++)
    {
      float *dx = ctx->din[0] + (size_t) b * f;
      const float *dy = ctx->dout + (size_t) b * n * f;
      for (int t = 0; t < n; t++)
        for (int j = 0; j < f; j++)
          dx[j] += dy[(size_t) t * f + j];
    }
}

static const WeftOpDesc repeat_op = {
  .name = "RepeatVector",
  .category = "Reshaping",
  .help = WEFT_N_("Repeats a vector n times, turning (None, features) into (None, n, "
                  "features)."),
  .params = repeat_params,
  .n_params = 1,
  .min_inputs = 1,
  .max_inputs = 1,
  .infer = repeat_infer,
  .forward = repeat_forward,
  .backward = repeat_backward,
};

const WeftOpDesc *const weft_layers_core[] = {
  &input_op,
  &weft_dense_op,
  &activation_op,
  &dropout_op,
  &flatten_op,
  &reshape_op,
  &repeat_op,
  NULL
};
