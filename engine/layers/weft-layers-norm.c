/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Normalisation layers over the last axis: BatchNormalization, LayerNormalization. */
#include "weft-op.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static bool
check_axis (const WeftOpArgs *args, int axis_index, const char *layer, char *why,
            size_t why_len)
{
  char buf[96];

  if (args->n_in != 1)
    {
      snprintf (why, why_len, "%s takes 1 input, not %d", layer, args->n_in);
      return false;
    }
  const WeftShape *in = &args->in[0];
  if (in->rank < 1)
    {
      snprintf (why, why_len, "%s needs an input with at least one axis besides the batch",
                layer);
      return false;
    }
  int axis = weft_cfg_int (args->cfg, axis_index);
  if (axis != -1 && axis != in->rank)
    {
      snprintf (why, why_len, "%s normalises the last axis only (axis -1 or %d for input %s), "
                "not axis %d", layer, in->rank, weft_shape_format (in, buf, sizeof buf), axis);
      return false;
    }
  return true;
}

/* Accumulators in double: a batch of images sums 10^5..10^6 values per channel. The scratch
 * is a float array, so its start is aligned up for doubles. */
static double *
double_scratch (float *scratch)
{
  uintptr_t p = (uintptr_t) scratch;
  p = (p + sizeof (double) - 1) & ~(uintptr_t) (sizeof (double) - 1);
  return (double *) p;
}

static size_t
double_scratch_floats (size_t n_doubles)
{
  return n_doubles * (sizeof (double) / sizeof (float)) + 1;
}

static void
add_weight (WeftWeightSpec *spec, const char *name, int c, WeftInit init, bool trainable)
{
  memset (spec, 0, sizeof *spec);
  snprintf (spec->name, sizeof spec->name, "%s", name);
  spec->shape = weft_shape_make (1, c);
  spec->init = init;
  spec->trainable = trainable;
}

#define AXIS_SPEC \
  { .name = "axis", .type = WEFT_PARAM_INT, \
    .help = WEFT_N_("Axis of the features that are normalised: -1, the last one (channels)."), \
    .def = -1, .min = -1, .max = WEFT_MAX_RANK }
#define EPSILON_SPEC \
  { .name = "epsilon", .type = WEFT_PARAM_FLOAT, \
    .help = WEFT_N_("Small value added to the variance so that it never divides by zero."), \
    .def = 1e-3, .min = 0.0, .max = 1.0 }
#define CENTER_SPEC \
  { .name = "center", .type = WEFT_PARAM_BOOL, \
    .help = WEFT_N_("Learn an offset beta that is added after normalising."), \
    .def = 1, .min = 0, .max = 1 }
#define SCALE_SPEC \
  { .name = "scale", .type = WEFT_PARAM_BOOL, \
    .help = WEFT_N_("Learn a factor gamma that multiplies the normalised values."), \
    .def = 1, .min = 0, .max = 1 }

/* ---- BatchNormalization ---- */

enum { BN_AXIS, BN_MOMENTUM, BN_EPSILON, BN_CENTER, BN_SCALE };

static const WeftParamSpec bn_params[] = {
  AXIS_SPEC,
  { .name = "momentum", .type = WEFT_PARAM_FLOAT,
    .help = WEFT_N_("How much of the moving mean and variance is kept at each training step."),
    .def = 0.99, .min = 0.0, .max = 1.0 },
  EPSILON_SPEC, CENTER_SPEC, SCALE_SPEC,
};

typedef struct
{
  int gamma, beta, mean, var; /* weight indices, -1 when absent */
} BnIndex;

static BnIndex
bn_index (const WeftValue *cfg)
{
  BnIndex ix = { -1, -1, -1, -1 };
  int n = 0;

  if (weft_cfg_bool (cfg, BN_SCALE))
    ix.gamma = n++;
  if (weft_cfg_bool (cfg, BN_CENTER))
    ix.beta = n++;
  ix.mean = n++;
  ix.var = n++;
  return ix;
}

static bool
bn_infer (const WeftOpArgs *args, WeftShape *out, char *why, size_t why_len)
{
  if (!check_axis (args, BN_AXIS, "BatchNormalization", why, why_len))
    return false;
  *out = args->in[0];
  return true;
}

static int
bn_weights (const WeftOpArgs *args, WeftWeightSpec *specs)
{
  const WeftShape *in = &args->in[0];
  int c = in->dims[in->rank - 1];
  BnIndex ix = bn_index (args->cfg);

  if (ix.gamma >= 0)
    add_weight (&specs[ix.gamma], "gamma", c, WEFT_INIT_ONES, true);
  if (ix.beta >= 0)
    add_weight (&specs[ix.beta], "beta", c, WEFT_INIT_ZEROS, true);
  add_weight (&specs[ix.mean], "moving_mean", c, WEFT_INIT_ZEROS, false);
  add_weight (&specs[ix.var], "moving_variance", c, WEFT_INIT_ONES, false);
  return ix.var + 1;
}

/* aux: mean[C], invstd[C] used by the forward pass, then 1 if it used batch statistics. */
static size_t
bn_aux_size (const WeftOpArgs *args, int batch)
{
  return 2 * (size_t) args->in[0].dims[args->in[0].rank - 1] + 1;
}

static size_t
bn_scratch_size (const WeftOpArgs *args, int batch)
{
  return double_scratch_floats (2 * (size_t) args->in[0].dims[args->in[0].rank - 1]);
}

static void
bn_forward (const WeftOpCtx *ctx)
{
  const WeftShape *in = &ctx->in_shape[0];
  const size_t c = (size_t) in->dims[in->rank - 1];
  const size_t rows = (size_t) ctx->batch * (size_t) (weft_shape_size (in) / (int64_t) c);
  const double eps = ctx->cfg[BN_EPSILON].num, momentum = ctx->cfg[BN_MOMENTUM].num;
  const BnIndex ix = bn_index (ctx->cfg);
  const float *x = ctx->in[0];
  float *mean = ctx->aux, *invstd = ctx->aux + c;
  float *mmean = ctx->w[ix.mean], *mvar = ctx->w[ix.var];

  ctx->aux[2 * c] = ctx->training ? 1.0f : 0.0f;
  if (ctx->training && rows > 0)
    {
      double *sum = double_scratch (ctx->scratch), *sq = sum + c;

      memset (sum, 0, sizeof (double) * 2 * c);
      for (size_t r = 0; r < rows; r++)
        for (size_t j = 0; j < c; j++)
          sum[j] += x[r * c + j];
      for (size_t j = 0; j < c; j++)
        sum[j] /= (double) rows;
      for (size_t r = 0; r < rows; r++)
        for (size_t j = 0; j < c; j++)
          {
            double d = x[r * c + j] - sum[j];
            sq[j] += d * d;
          }
      for (size_t j = 0; j < c; j++)
        {
          double var = sq[j] / (double) rows;
          mean[j] = (float) sum[j];
          invstd[j] = (float) (1.0 / sqrt (var + eps));
          /* Moving statistics are state, not trainable weights: updated here, in place. */
          mmean[j] = (float) (momentum * mmean[j] + (1.0 - momentum) * sum[j]);
          mvar[j] = (float) (momentum * mvar[j] + (1.0 - momentum) * var);
        }
    }
  else
    for (size_t j = 0; j < c; j++)
      {
        mean[j] = mmean[j];
        invstd[j] = (float) (1.0 / sqrt ((double) mvar[j] + eps));
      }

  const float *gamma = ix.gamma >= 0 ? ctx->w[ix.gamma] : NULL;
  const float *beta = ix.beta >= 0 ? ctx->w[ix.beta] : NULL;
  for (size_t r = 0; r < rows; r++)
    for (size_t j = 0; j < c; j++)
      {
        float v = (x[r * c + j] - mean[j]) * invstd[j];
        if (gamma != NULL)
          v *= gamma[j];
        if (beta != NULL)
          v += beta[j];
        ctx->out[r * c + j] = v;
      }
}

static void
bn_backward (const WeftOpCtx *ctx)
{
  const WeftShape *in = &ctx->in_shape[0];
  const size_t c = (size_t) in->dims[in->rank - 1];
  const size_t rows = (size_t) ctx->batch * (size_t) (weft_shape_size (in) / (int64_t) c);
  const BnIndex ix = bn_index (ctx->cfg);
  const float *x = ctx->in[0], *dy = ctx->dout;
  const float *mean = ctx->aux, *invstd = ctx->aux + c;
  const bool batch_stats = ctx->aux[2 * c] != 0.0f;
  const float *gamma = ix.gamma >= 0 ? ctx->w[ix.gamma] : NULL;
  float *dgamma = ix.gamma >= 0 ? ctx->dw[ix.gamma] : NULL;
  float *dbeta = ix.beta >= 0 ? ctx->dw[ix.beta] : NULL;
  float *dx = ctx->din[0];
  double *sdy = double_scratch (ctx->scratch), *sdyx = sdy + c;

  if (rows == 0)
    return;
  memset (sdy, 0, sizeof (double) * 2 * c);
  for (size_t r = 0; r < rows; r++)
    for (size_t j = 0; j < c; j++)
      {
        double g = dy[r * c + j];
        sdy[j] += g;
        sdyx[j] += g * ((x[r * c + j] - mean[j]) * invstd[j]);
      }
  for (size_t j = 0; j < c; j++)
    {
      if (dgamma != NULL)
        dgamma[j] += (float) sdyx[j];
      if (dbeta != NULL)
        dbeta[j] += (float) sdy[j];
    }
  if (dx == NULL)
    return;
  if (!batch_stats)
    {
      for (size_t r = 0; r < rows; r++)
        for (size_t j = 0; j < c; j++)
          dx[r * c + j] += dy[r * c + j] * invstd[j] * (gamma != NULL ? gamma[j] : 1.0f);
      return;
    }
  /* The mean and variance depend on every row: dx = g*s/N (N dy - sum dy - xhat sum dy xhat). */
  for (size_t j = 0; j < c; j++)
    {
      sdy[j] /= (double) rows;
      sdyx[j] /= (double) rows;
    }
  for (size_t r = 0; r < rows; r++)
    for (size_t j = 0; j < c; j++)
      {
        double xhat = (x[r * c + j] - mean[j]) * invstd[j];
        double k = invstd[j] * (gamma != NULL ? gamma[j] : 1.0f);
        dx[r * c + j] += (float) (k * (dy[r * c + j] - sdy[j] - xhat * sdyx[j]));
      }
}

static const WeftOpDesc batch_norm_op = {
  .name = "BatchNormalization",
  .category = "Normalisation",
  .help = WEFT_N_("Normalises each feature with the statistics of the batch while training "
                  "and with moving averages of them afterwards."),
  .params = bn_params,
  .n_params = (int) (sizeof bn_params / sizeof bn_params[0]),
  .min_inputs = 1,
  .max_inputs = 1,
  .infer = bn_infer,
  .weights = bn_weights,
  .aux_size = bn_aux_size,
  .scratch_size = bn_scratch_size,
  .forward = bn_forward,
  .backward = bn_backward,
};

/* ---- LayerNormalization ---- */

enum { LN_AXIS, LN_EPSILON, LN_CENTER, LN_SCALE };

static const WeftParamSpec ln_params[] = {
  AXIS_SPEC, EPSILON_SPEC, CENTER_SPEC, SCALE_SPEC,
};

static bool
ln_infer (const WeftOpArgs *args, WeftShape *out, char *why, size_t why_len)
{
  if (!check_axis (args, LN_AXIS, "LayerNormalization", why, why_len))
    return false;
  *out = args->in[0];
  return true;
}

static int
ln_weights (const WeftOpArgs *args, WeftWeightSpec *specs)
{
  const WeftShape *in = &args->in[0];
  int c = in->dims[in->rank - 1], n = 0;

  if (weft_cfg_bool (args->cfg, LN_SCALE))
    add_weight (&specs[n++], "gamma", c, WEFT_INIT_ONES, true);
  if (weft_cfg_bool (args->cfg, LN_CENTER))
    add_weight (&specs[n++], "beta", c, WEFT_INIT_ZEROS, true);
  return n;
}

static size_t
ln_rows (const WeftShape *in, int batch)
{
  return (size_t) batch * (size_t) (weft_shape_size (in) / in->dims[in->rank - 1]);
}

/* aux: mean and invstd of every row. */
static size_t
ln_aux_size (const WeftOpArgs *args, int batch)
{
  return 2 * ln_rows (&args->in[0], batch);
}

static void
ln_forward (const WeftOpCtx *ctx)
{
  const WeftShape *in = &ctx->in_shape[0];
  const size_t c = (size_t) in->dims[in->rank - 1], rows = ln_rows (in, ctx->batch);
  const double eps = ctx->cfg[LN_EPSILON].num;
  const bool scale = weft_cfg_bool (ctx->cfg, LN_SCALE);
  const float *gamma = scale ? ctx->w[0] : NULL;
  const float *beta = weft_cfg_bool (ctx->cfg, LN_CENTER) ? ctx->w[scale ? 1 : 0] : NULL;
  float *mean = ctx->aux, *invstd = ctx->aux + rows;

  for (size_t r = 0; r < rows; r++)
    {
      const float *xr = ctx->in[0] + r * c;
      float *yr = ctx->out + r * c;
      double m = 0.0, v = 0.0;

      for (size_t j = 0; j < c; j++)
        m += xr[j];
      m /= (double) c;
      for (size_t j = 0; j < c; j++)
        v += (xr[j] - m) * (xr[j] - m);
      v /= (double) c;
      mean[r] = (float) m;
      invstd[r] = (float) (1.0 / sqrt (v + eps));
      for (size_t j = 0; j < c; j++)
        {
          float t = (xr[j] - mean[r]) * invstd[r];
          if (gamma != NULL)
            t *= gamma[j];
          if (beta != NULL)
            t += beta[j];
          yr[j] = t;
        }
    }
}

static void
ln_backward (const WeftOpCtx *ctx)
{
  const WeftShape *in = &ctx->in_shape[0];
  const size_t c = (size_t) in->dims[in->rank - 1], rows = ln_rows (in, ctx->batch);
  const bool scale = weft_cfg_bool (ctx->cfg, LN_SCALE);
  const bool center = weft_cfg_bool (ctx->cfg, LN_CENTER);
  const float *gamma = scale ? ctx->w[0] : NULL;
  float *dgamma = scale ? ctx->dw[0] : NULL;
  float *dbeta = center ? ctx->dw[scale ? 1 : 0] : NULL;
  const float *mean = ctx->aux, *invstd = ctx->aux + rows;
  float *dx = ctx->din[0];

  for (size_t r = 0; r < rows; r++)
    {
      const float *xr = ctx->in[0] + r * c, *dyr = ctx->dout + r * c;
      double s1 = 0.0, s2 = 0.0;

      for (size_t j = 0; j < c; j++)
        {
          double xhat = (xr[j] - mean[r]) * invstd[r];
          double g = dyr[j] * (gamma != NULL ? gamma[j] : 1.0f);
          s1 += g;
          s2 += g * xhat;
          if (dgamma != NULL)
            dgamma[j] += (float) (dyr[j] * xhat);
          if (dbeta != NULL)
            dbeta[j] += dyr[j];
        }
      if (dx == NULL)
        continue;
      s1 /= (double) c;
      s2 /= (double) c;
      for (size_t j = 0; j < c; j++)
        {
          double xhat = (xr[j] - mean[r]) * invstd[r];
          double g = dyr[j] * (gamma != NULL ? gamma[j] : 1.0f);
          dx[r * c + j] += (float) (invstd[r] * (g - s1 - xhat * s2));
        }
    }
}

static const WeftOpDesc layer_norm_op = {
  .name = "LayerNormalization",
  .category = "Normalisation",
  .help = WEFT_N_("Normalises the features of each sample (each time step) to zero mean and "
                  "unit variance."),
  .params = ln_params,
  .n_params = (int) (sizeof ln_params / sizeof ln_params[0]),
  .min_inputs = 1,
  .max_inputs = 1,
  .infer = ln_infer,
  .weights = ln_weights,
  .aux_size = ln_aux_size,
  .forward = ln_forward,
  .backward = ln_backward,
};

const WeftOpDesc *const weft_layers_norm[] = {
  &batch_norm_op,
  &layer_norm_op,
  NULL
};
