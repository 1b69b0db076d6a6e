/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-engine-ops.c: the layer registry. Every op (but Input) has finite-difference gradient
 * cases (tests/ops-cases-*.h), plus forward references derived by hand and the messages of
 * invalid configurations. */
#include <glib.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "weft-activation.h"
#include "weft-blas.h"
#include "weft-op.h"

#include "ops-gradcheck.h"
#include "ops-cases-conv.h"
#include "ops-cases-core.h"
#include "ops-cases-merge.h"
#include "ops-cases-norm.h"
#include "ops-cases-pool.h"
#include "ops-cases-recurrent.h"
#include "ops-cases-reshape.h"

/* Finite differences: float32 ops, objective summed in double. The step is small enough to
 * stay on one side of the kinks the inputs keep away from, large enough for float noise. */
#define GRAD_STEP        1e-3
#define GRAD_REL_TOL     5e-3   /* case->tol replaces this and scales GRAD_ABS_TOL alike */
#define GRAD_ABS_TOL     1e-3
#define GRAD_BATCH       3
#define GRAD_PREFILL     0.5f   /* gradients start here: backward must add, not assign */
#define GUARD_FLOATS     16     /* canaries after every buffer catch overruns */
#define CANARY           (-7777.25f)
#define FORWARD_TOL      1e-5   /* forward references, relative to max(1, |expected|) */
#define MAX_PARAMS       32
#define PERF_MIN_RATIO   0.6    /* Dense forward+backward vs its three bare sgemm calls */

typedef struct
{
  const char       *name;
  const WeftOpCase *rows;
} CaseTable;

static const CaseTable case_tables[] = {
  { "core", ops_cases_core },
  { "merge", ops_cases_merge },
  { "conv", ops_cases_conv },
  { "pool", ops_cases_pool },
  { "reshape", ops_cases_reshape },
  { "recurrent", ops_cases_recurrent },
  { "norm", ops_cases_norm },
};

/* ---- guarded buffers ---- */

static float *
guarded_new (size_t n)
{
  float *p = g_new0 (float, n + GUARD_FLOATS);
  for (size_t i = 0; i < GUARD_FLOATS; i++)
    p[n + i] = CANARY;
  return p;
}

static bool
guard_intact (const float *p, size_t n)
{
  if (p == NULL)
    return true;
  for (size_t i = 0; i < GUARD_FLOATS; i++)
    if (p[n + i] != CANARY)
      return false;
  return true;
}

static void
fill (float *p, size_t n, float v)
{
  for (size_t i = 0; i < n; i++)
    p[i] = v;
}

/* ---- params "units=3 activation=tanh axes=2,1 use_bias=0" ---- */

static bool
parse_params (const WeftOpDesc *op, const char *text, WeftValue *cfg, char *why, size_t len)
{
  g_auto (GStrv) tokens = NULL;

  weft_op_defaults (op, cfg);
  if (text == NULL)
    text = "";
  tokens = g_strsplit_set (text, " \t", -1);
  for (int t = 0; tokens[t] != NULL; t++)
    {
      const char *tok = tokens[t];
      const char *eq = strchr (tok, '=');
      if (*tok == '\0')
        continue;
      if (eq == NULL)
        {
          g_snprintf (why, len, "\"%s\" is not name=value", tok);
          return false;
        }
      g_autofree char *name = g_strndup (tok, eq - tok);
      const char *value = eq + 1;
      int i = weft_op_param_index (op, name);
      if (i < 0)
        {
          g_snprintf (why, len, "%s has no parameter \"%s\"", op->name, name);
          return false;
        }
      const WeftParamSpec *spec = &op->params[i];
      WeftValue *v = &cfg[i];
      char *end = NULL;
      switch (spec->type)
        {
        case WEFT_PARAM_INT:
        case WEFT_PARAM_FLOAT:
        case WEFT_PARAM_BOOL:
          if (g_strcmp0 (value, "true") == 0)
            v->num = 1;
          else if (g_strcmp0 (value, "false") == 0)
            v->num = 0;
          else
            {
              v->num = g_ascii_strtod (value, &end);
              if (end == value || *end != '\0')
                {
                  g_snprintf (why, len, "%s: \"%s\" is not a number", name, value);
                  return false;
                }
            }
          break;
        case WEFT_PARAM_CHOICE:
          {
            int c;
            for (c = 0; spec->choices[c] != NULL; c++)
              if (g_strcmp0 (spec->choices[c], value) == 0)
                break;
            if (spec->choices[c] == NULL)
              {
                g_snprintf (why, len, "%s: \"%s\" is not one of the choices", name, value);
                return false;
              }
            v->num = c;
          }
          break;
        case WEFT_PARAM_INTS:
          {
            g_auto (GStrv) parts = g_strsplit (value, ",", -1);
            v->n = 0;
            for (int p = 0; parts[p] != NULL; p++)
              {
                if (v->n >= WEFT_MAX_RANK)
                  {
                    g_snprintf (why, len, "%s: too many values", name);
                    return false;
                  }
                gint64 x = g_ascii_strtoll (parts[p], &end, 10);
                if (end == parts[p] || *end != '\0')
                  {
                    g_snprintf (why, len, "%s: \"%s\" is not an integer", name, parts[p]);
                    return false;
                  }
                v->ints[v->n++] = (int) x;
              }
          }
          break;
        }
    }
  for (int i = 0; i < op->n_params; i++)
    if (!weft_op_check_value (&op->params[i], &cfg[i], why, len))
      return false;
  if (op->check != NULL && !op->check (cfg, why, len))
    return false;
  return true;
}

/* ---- one configured call with its own buffers ---- */

typedef struct
{
  const WeftOpDesc *op;
  WeftValue         cfg[MAX_PARAMS];
  int               n_in;
  WeftShape         in_shape[WEFT_MAX_INPUTS];
  WeftShape         out_shape;
  int               n_w;
  WeftWeightSpec    wspec[WEFT_MAX_WEIGHTS];
  int               batch;
  size_t            n_x[WEFT_MAX_INPUTS], n_out, n_wt[WEFT_MAX_WEIGHTS], n_aux, n_scratch;
  float            *x[WEFT_MAX_INPUTS], *dx[WEFT_MAX_INPUTS];
  float            *out, *dout;
  float            *w[WEFT_MAX_WEIGHTS], *dw[WEFT_MAX_WEIGHTS];
  float            *aux, *scratch;
  uint64_t          rng_seed;
  WeftRng           rng;
} Call;

/* Configures op on shapes; false with a message in why (parse, check or infer). */
static bool
call_init (Call *c, const WeftOpDesc *op, const char *params, const WeftShape *in, int n_in,
           int batch, char *why, size_t len)
{
  memset (c, 0, sizeof *c);
  g_assert_cmpint (op->n_params, <=, MAX_PARAMS);
  g_assert_cmpint (n_in, <=, WEFT_MAX_INPUTS);
  c->op = op;
  c->n_in = n_in;
  c->batch = batch;
  for (int i = 0; i < n_in; i++)
    c->in_shape[i] = in[i];
  if (!parse_params (op, params, c->cfg, why, len))
    return false;
  if (n_in < op->min_inputs || (op->max_inputs != WEFT_VARIADIC && n_in > op->max_inputs))
    {
      g_snprintf (why, len, "%s takes %d..%d inputs, the case gives %d", op->name,
                  op->min_inputs, op->max_inputs, n_in);
      return false;
    }
  WeftOpArgs args = { .cfg = c->cfg, .in = c->in_shape, .n_in = n_in, .out = NULL };
  why[0] = '\0';
  if (!op->infer (&args, &c->out_shape, why, len))
    return false;
  args.out = &c->out_shape;
  c->n_w = op->weights != NULL ? op->weights (&args, c->wspec) : 0;
  g_assert_cmpint (c->n_w, >=, 0);
  g_assert_cmpint (c->n_w, <=, WEFT_MAX_WEIGHTS);
  c->n_aux = op->aux_size != NULL ? op->aux_size (&args, batch) : 0;
  c->n_scratch = op->scratch_size != NULL ? op->scratch_size (&args, batch) : 0;

  for (int i = 0; i < n_in; i++)
    {
      c->n_x[i] = (size_t) batch * (size_t) weft_shape_size (&in[i]);
      c->x[i] = guarded_new (c->n_x[i]);
      c->dx[i] = guarded_new (c->n_x[i]);
    }
  c->n_out = (size_t) batch * (size_t) weft_shape_size (&c->out_shape);
  c->out = guarded_new (c->n_out);
  c->dout = guarded_new (c->n_out);
  for (int k = 0; k < c->n_w; k++)
    {
      c->n_wt[k] = (size_t) weft_shape_size (&c->wspec[k].shape);
      c->w[k] = guarded_new (c->n_wt[k]);
      c->dw[k] = guarded_new (c->n_wt[k]);
    }
  c->aux = c->n_aux > 0 ? guarded_new (c->n_aux) : NULL;
  c->scratch = c->n_scratch > 0 ? guarded_new (c->n_scratch) : NULL;
  c->rng_seed = 1234;
  return true;
}

static void
call_clear (Call *c)
{
  for (int i = 0; i < c->n_in; i++)
    {
      g_free (c->x[i]);
      g_free (c->dx[i]);
    }
  g_free (c->out);
  g_free (c->dout);
  for (int k = 0; k < c->n_w; k++)
    {
      g_free (c->w[k]);
      g_free (c->dw[k]);
    }
  g_free (c->aux);
  g_free (c->scratch);
  memset (c, 0, sizeof *c);
}

static void
call_check_guards (const Call *c)
{
  for (int i = 0; i < c->n_in; i++)
    {
      g_assert_true (guard_intact (c->x[i], c->n_x[i]));
      g_assert_true (guard_intact (c->dx[i], c->n_x[i]));
    }
  g_assert_true (guard_intact (c->out, c->n_out));
  g_assert_true (guard_intact (c->dout, c->n_out));
  for (int k = 0; k < c->n_w; k++)
    {
      g_assert_true (guard_intact (c->w[k], c->n_wt[k]));
      g_assert_true (guard_intact (c->dw[k], c->n_wt[k]));
    }
  g_assert_true (guard_intact (c->aux, c->n_aux));
  g_assert_true (guard_intact (c->scratch, c->n_scratch));
}

static WeftOpCtx
call_ctx (Call *c, bool training, bool want_din, bool want_dw)
{
  WeftOpCtx ctx = { 0 };
  ctx.op = c->op;
  ctx.cfg = c->cfg;
  ctx.batch = c->batch;
  ctx.training = training;
  ctx.n_in = c->n_in;
  for (int i = 0; i < c->n_in; i++)
    {
      ctx.in[i] = c->x[i];
      ctx.din[i] = want_din ? c->dx[i] : NULL;
      ctx.in_shape[i] = c->in_shape[i];
    }
  ctx.out = c->out;
  ctx.dout = c->dout;
  ctx.out_shape = c->out_shape;
  for (int k = 0; k < c->n_w; k++)
    {
      ctx.w[k] = c->w[k];
      ctx.dw[k] = want_dw && c->wspec[k].trainable ? c->dw[k] : NULL;
    }
  ctx.aux = c->aux;
  ctx.scratch = c->scratch;
  ctx.rng = &c->rng;
  ctx.threads = 1;
  return ctx;
}

/* Scratch is poisoned before every call: an op must not expect it to survive. The RNG
 * restarts from the same seed, so dropout masks repeat across finite-difference probes. */
static void
call_forward (Call *c, bool training)
{
  WeftOpCtx ctx = call_ctx (c, training, false, false);
  if (c->scratch != NULL)
    fill (c->scratch, c->n_scratch, NAN);
  weft_rng_seed (&c->rng, c->rng_seed);
  c->op->forward (&ctx);
}

static void
call_backward (Call *c, bool training, bool want_din, bool want_dw)
{
  WeftOpCtx ctx = call_ctx (c, training, want_din, want_dw);
  if (c->scratch != NULL)
    fill (c->scratch, c->n_scratch, NAN);
  c->op->backward (&ctx);
}

/* ---- the gradient check ---- */

static double
objective (const Call *c, const float *r)
{
  double s = 0.0;
  for (size_t i = 0; i < c->n_out; i++)
    s += (double) c->out[i] * r[i];
  return s;
}

static guint64
case_seed (const WeftOpCase *oc)
{
  guint64 h = 1469598103934665603ull;
  for (const char *p = oc->op; *p; p++)
    h = (h ^ (guchar) *p) * 1099511628211ull;
  for (const char *p = oc->label; *p; p++)
    h = (h ^ (guchar) *p) * 1099511628211ull;
  return h;
}

/* Distinct magnitudes in [0.1, 1] with random signs: away from relu's kink at 0 and with
 * no ties for Maximum/Minimum or max pooling. */
static void
fill_inputs (Call *c, const WeftOpCase *oc, WeftRng *rng)
{
  size_t total = 0;
  for (int i = 0; i < c->n_in; i++)
    total += c->n_x[i];
  g_autofree int32_t *perm = g_new (int32_t, MAX (total, 1));
  for (size_t j = 0; j < total; j++)
    perm[j] = (int32_t) j;
  weft_rng_shuffle (rng, perm, (int32_t) total);
  size_t j = 0;
  for (int i = 0; i < c->n_in; i++)
    for (size_t e = 0; e < c->n_x[i]; e++, j++)
      {
        if (oc->int_input_max > 0)
          {
            c->x[i][e] = (float) weft_rng_below (rng, (uint32_t) oc->int_input_max);
            continue;
          }
        float mag = 0.1f + 0.9f * ((float) perm[j] + 0.25f + 0.5f * weft_rng_uniform (rng))
                                  / (float) total;
        c->x[i][e] = weft_rng_uniform (rng) < 0.5f ? -mag : mag;
      }
}

static void
fill_weights (Call *c, WeftRng *rng)
{
  for (int k = 0; k < c->n_w; k++)
    for (size_t e = 0; e < c->n_wt[k]; e++)
      {
        float u = weft_rng_uniform (rng) * 2.0f - 1.0f;
        switch (c->wspec[k].init)
          {
          case WEFT_INIT_ONES:    /* gamma, moving variance: positive */
            c->w[k][e] = 1.0f + 0.3f * u;
            break;
          case WEFT_INIT_ZEROS:   /* biases, beta, moving mean: non-zero to be seen */
            c->w[k][e] = 0.3f * u;
            break;
          default:
            c->w[k][e] = 0.5f * u;
            break;
          }
      }
}

typedef struct
{
  double      worst;      /* largest error / allowed error */
  double      max_abs;    /* largest |analytic - numeric| */
  int         checked;
  char        where[200];
} Compare;

static void
compare (Compare *cmp, const char *what, size_t index, double analytic, double numeric,
         double rtol, double atol)
{
  double err = fabs (analytic - numeric);
  double allowed = atol + rtol * MAX (fabs (analytic), fabs (numeric));
  double ratio = isfinite (analytic) ? err / allowed : INFINITY;
  cmp->checked++;
  cmp->max_abs = MAX (cmp->max_abs, err);
  if (ratio > cmp->worst || !isfinite (ratio))
    {
      cmp->worst = isfinite (ratio) ? ratio : INFINITY;
      g_snprintf (cmp->where, sizeof cmp->where, "%s[%zu]: analytic %.6g, numeric %.6g", what,
                  index, analytic, numeric);
    }
}

static double
numeric_derivative (Call *c, float *p, const float *r)
{
  float v = *p;
  float up = (float) (v + GRAD_STEP), down = (float) (v - GRAD_STEP);
  *p = up;
  call_forward (c, true);
  double f_up = objective (c, r);
  *p = down;
  call_forward (c, true);
  double f_down = objective (c, r);
  *p = v;
  return (f_up - f_down) / ((double) up - (double) down);
}

static void
test_gradient_case (gconstpointer data)
{
  const WeftOpCase *oc = data;
  const WeftOpDesc *op = weft_op_lookup (oc->op);
  char why[512] = "";
  Call c;
  WeftRng rng;
  double rtol = oc->tol > 0 ? oc->tol : GRAD_REL_TOL;
  double atol = GRAD_ABS_TOL * (rtol / GRAD_REL_TOL);

  if (op == NULL)
    {
      g_test_fail_printf ("case %s/%s names no registered op", oc->op, oc->label);
      return;
    }
  g_assert_cmpint (oc->n_in, >=, 0);
  g_assert_cmpint (oc->n_in, <=, 4);
  if (!call_init (&c, op, oc->params, oc->in, oc->n_in, GRAD_BATCH, why, sizeof why))
    {
      g_test_fail_printf ("%s/%s does not configure: %s", oc->op, oc->label, why);
      call_clear (&c);
      return;
    }
  weft_rng_seed (&rng, case_seed (oc));
  c.rng_seed = case_seed (oc) ^ 0x5eedull;
  fill_inputs (&c, oc, &rng);
  fill_weights (&c, &rng);
  g_autofree float *r = g_new (float, MAX (c.n_out, 1));
  for (size_t i = 0; i < c.n_out; i++)
    r[i] = weft_rng_uniform (&rng) * 2.0f - 1.0f;

  /* Forward twice: the result must not depend on anything but the inputs and weights. */
  if (c.aux != NULL)
    fill (c.aux, c.n_aux, NAN);
  call_forward (&c, true);
  g_autofree float *out0 = g_memdup2 (c.out, c.n_out * sizeof (float));
  for (size_t i = 0; i < c.n_out; i++)
    g_assert_true (isfinite (out0[i]));
  call_forward (&c, true);
  g_assert_cmpmem (out0, c.n_out * sizeof (float), c.out, c.n_out * sizeof (float));

  /* Analytic gradients, accumulated onto a non-zero start. */
  bool int_in = oc->int_input_max > 0;
  memcpy (c.dout, r, c.n_out * sizeof (float));
  for (int i = 0; i < c.n_in; i++)
    fill (c.dx[i], c.n_x[i], GRAD_PREFILL);
  for (int k = 0; k < c.n_w; k++)
    fill (c.dw[k], c.n_wt[k], GRAD_PREFILL);
  call_backward (&c, true, !int_in, true);
  g_assert_cmpmem (r, c.n_out * sizeof (float), c.dout, c.n_out * sizeof (float));
  call_check_guards (&c);

  Compare cmp = { 0 };
  for (int i = 0; i < c.n_in && !int_in; i++)
    for (size_t e = 0; e < c.n_x[i]; e++)
      {
        char what[32];
        g_snprintf (what, sizeof what, "d input %d", i);
        compare (&cmp, what, e, c.dx[i][e] - GRAD_PREFILL,
                 numeric_derivative (&c, &c.x[i][e], r), rtol, atol);
      }
  for (int k = 0; k < c.n_w; k++)
    {
      if (!c.wspec[k].trainable)
        {
          for (size_t e = 0; e < c.n_wt[k]; e++)
            g_assert_cmpfloat (c.dw[k][e], ==, GRAD_PREFILL);
          continue;
        }
      for (size_t e = 0; e < c.n_wt[k]; e++)
        {
          char what[WEFT_NAME_MAX + 4];
          g_snprintf (what, sizeof what, "d %s", c.wspec[k].name);
          compare (&cmp, what, e, c.dw[k][e] - GRAD_PREFILL,
                   numeric_derivative (&c, &c.w[k][e], r), rtol, atol);
        }
    }
  if (int_in)
    for (int i = 0; i < c.n_in; i++)
      for (size_t e = 0; e < c.n_x[i]; e++)
        g_assert_cmpfloat (c.dx[i][e], ==, GRAD_PREFILL);

  g_test_message ("%s/%s: %d derivatives, max |error| %.3g, worst %.2f of tolerance (%s)",
                  oc->op, oc->label, cmp.checked, cmp.max_abs, cmp.worst, cmp.where);
  if (cmp.worst > 1.0)
    g_test_fail_printf ("%s/%s: gradient differs from finite differences: %s (rtol %g, "
                        "atol %g)", oc->op, oc->label, cmp.where, rtol, atol);

  /* Frozen weights (dw NULL) and unwanted input gradients (din NULL) leave the rest alone:
   * the same input gradients without dw, the same weight gradients without din. */
  if (!int_in && c.n_in > 0)
    {
      g_autofree float *dx0 = g_memdup2 (c.dx[0], c.n_x[0] * sizeof (float));
      for (int i = 0; i < c.n_in; i++)
        fill (c.dx[i], c.n_x[i], GRAD_PREFILL);
      for (int k = 0; k < c.n_w; k++)
        fill (c.dw[k], c.n_wt[k], 0.0f);
      call_forward (&c, true);
      call_backward (&c, true, true, false);
      g_assert_cmpmem (dx0, c.n_x[0] * sizeof (float), c.dx[0], c.n_x[0] * sizeof (float));
      for (int k = 0; k < c.n_w; k++)
        for (size_t e = 0; e < c.n_wt[k]; e++)
          g_assert_cmpfloat (c.dw[k][e], ==, 0.0f);
    }
  if (c.n_w > 0)
    {
      for (int k = 0; k < c.n_w; k++)
        fill (c.dw[k], c.n_wt[k], 0.0f);
      call_forward (&c, true);
      call_backward (&c, true, true, true);
      g_autofree float *dw0 = g_memdup2 (c.dw[0], c.n_wt[0] * sizeof (float));
      for (int k = 0; k < c.n_w; k++)
        fill (c.dw[k], c.n_wt[k], 0.0f);
      call_forward (&c, true);
      call_backward (&c, true, false, true);
      for (size_t e = 0; e < c.n_wt[0]; e++)
        g_assert_cmpfloat_with_epsilon (c.dw[0][e], dw0[e], 1e-6 * MAX (1.0, fabs (dw0[e])));
    }
  call_check_guards (&c);
  call_clear (&c);
}

/* ---- the registry as a whole ---- */

static bool
op_has_case (const char *name)
{
  for (size_t t = 0; t < G_N_ELEMENTS (case_tables); t++)
    for (const WeftOpCase *oc = case_tables[t].rows; oc->op != NULL; oc++)
      if (strcmp (oc->op, name) == 0)
        return true;
  return false;
}

static void
test_every_op_has_a_gradient_case (void)
{
  g_autoptr (GString) missing = g_string_new (NULL);
  int n = weft_op_count ();
  g_assert_cmpint (n, >, 0);
  for (int i = 0; i < n; i++)
    {
      const WeftOpDesc *op = weft_op_get (i);
      if (op->flags & WEFT_OP_INPUT)
        continue;
      if (!op_has_case (op->name))
        g_string_append_printf (missing, " %s", op->name);
    }
  if (missing->len > 0)
    g_test_fail_printf ("ops without a row in tests/ops-cases-*.h:%s", missing->str);
}

static void
test_every_case_names_an_op (void)
{
  for (size_t t = 0; t < G_N_ELEMENTS (case_tables); t++)
    for (const WeftOpCase *oc = case_tables[t].rows; oc->op != NULL; oc++)
      {
        if (weft_op_lookup (oc->op) == NULL)
          g_test_fail_printf ("ops-cases-%s.h: \"%s\" is not a registered op",
                              case_tables[t].name, oc->op);
        if (oc->label == NULL || oc->label[0] == '\0' || strchr (oc->label, '/') != NULL)
          g_test_fail_printf ("ops-cases-%s.h: %s needs a label without '/'",
                              case_tables[t].name, oc->op);
      }
}

static void
test_case_labels_are_unique (void)
{
  g_autoptr (GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  for (size_t t = 0; t < G_N_ELEMENTS (case_tables); t++)
    for (const WeftOpCase *oc = case_tables[t].rows; oc->op != NULL; oc++)
      {
        char *key = g_strdup_printf ("%s/%s", oc->op, oc->label ? oc->label : "");
        if (!g_hash_table_add (seen, key))
          g_test_fail_printf ("case %s appears twice", key);
      }
}

static void
test_descriptions_are_complete (void)
{
  g_autoptr (GHashTable) names = g_hash_table_new (g_str_hash, g_str_equal);
  for (int i = 0; i < weft_op_count (); i++)
    {
      const WeftOpDesc *op = weft_op_get (i);
      char why[256];
      WeftValue cfg[MAX_PARAMS];

      g_assert_nonnull (op->name);
      if (!g_hash_table_add (names, (gpointer) op->name))
        g_test_fail_printf ("%s is registered twice", op->name);
      if (op->category == NULL || op->help == NULL || op->help[0] == '\0')
        g_test_fail_printf ("%s needs a category and a help sentence", op->name);
      if (op->infer == NULL || op->forward == NULL || op->backward == NULL)
        g_test_fail_printf ("%s needs infer, forward and backward", op->name);
      if (op->max_inputs != WEFT_VARIADIC && op->max_inputs < op->min_inputs)
        g_test_fail_printf ("%s: max_inputs < min_inputs", op->name);
      if ((op->flags & WEFT_OP_INPUT) && op->min_inputs != 0)
        g_test_fail_printf ("%s is an input but wants inputs", op->name);
      g_assert_cmpint (op->n_params, <=, MAX_PARAMS);
      g_assert_true (op->n_params == 0 || op->params != NULL);
      for (int p = 0; p < op->n_params; p++)
        {
          const WeftParamSpec *spec = &op->params[p];
          if (spec->name == NULL || spec->help == NULL || spec->help[0] == '\0')
            g_test_fail_printf ("%s: parameter %d needs a name and a help sentence", op->name,
                                p);
          if (spec->type == WEFT_PARAM_CHOICE && spec->choices == NULL)
            g_test_fail_printf ("%s.%s: a choice without choices", op->name, spec->name);
          if (weft_op_param_index (op, spec->name) != p)
            g_test_fail_printf ("%s.%s appears twice", op->name, spec->name);
        }
      weft_op_defaults (op, cfg);
      for (int p = 0; p < op->n_params; p++)
        if (!weft_op_check_value (&op->params[p], &cfg[p], why, sizeof why))
          g_test_fail_printf ("%s: the default is invalid: %s", op->name, why);
      if (op->check != NULL && !op->check (cfg, why, sizeof why))
        g_test_fail_printf ("%s: the defaults fail the check: %s", op->name, why);
    }
}

/* ---- forward references derived by hand ---- */

static void
assert_floats (const float *got, const double *want, size_t n)
{
  for (size_t i = 0; i < n; i++)
    {
      double tol = FORWARD_TOL * MAX (1.0, fabs (want[i]));
      if (!(fabs (got[i] - want[i]) <= tol))
        g_test_fail_printf ("value %zu: got %.9g, want %.9g", i, got[i], want[i]);
    }
}

static void
init_call (Call *c, const char *op_name, const char *params, const WeftShape *in, int n_in,
           int batch)
{
  char why[512];
  const WeftOpDesc *op = weft_op_lookup (op_name);
  g_assert_nonnull (op);
  if (!call_init (c, op, params, in, n_in, batch, why, sizeof why))
    g_error ("%s %s: %s", op_name, params, why);
}

/* Returns the infer message, or NULL when the configuration is accepted. */
static char *
config_error (const char *op_name, const char *params, const WeftShape *in, int n_in)
{
  char why[512] = "";
  Call c;
  const WeftOpDesc *op = weft_op_lookup (op_name);
  g_assert_nonnull (op);
  bool ok = call_init (&c, op, params, in, n_in, 1, why, sizeof why);
  call_clear (&c);
  return ok ? NULL : g_strdup (why);
}

static void
test_dense_forward (void)
{
  /* x = [[1, 2], [3, -1]], kernel [[1, 0, -1], [2, 1, 0.5]], bias [0.5, -1, 0]. */
  static const float x[] = { 1, 2, 3, -1 };
  static const float kernel[] = { 1, 0, -1, 2, 1, 0.5f };
  static const float bias[] = { 0.5f, -1, 0 };
  static const double linear[] = { 5.5, 1, 0, 1.5, -2, -3.5 };
  static const double relu[] = { 5.5, 1, 0, 1.5, 0, 0 };
  static const double no_bias[] = { 5, 2, 0, 1, -1, -3.5 };
  WeftShape in = weft_shape_make (1, 2);
  Call c;

  init_call (&c, "Dense", "units=3", &in, 1, 2);
  g_assert_cmpint (c.n_w, ==, 2);
  g_assert_cmpint (c.wspec[0].shape.dims[0], ==, 2);
  g_assert_cmpint (c.wspec[0].shape.dims[1], ==, 3);
  g_assert_cmpint (c.wspec[0].init, ==, WEFT_INIT_GLOROT_UNIFORM);
  g_assert_cmpint (c.wspec[1].init, ==, WEFT_INIT_ZEROS);
  memcpy (c.x[0], x, sizeof x);
  memcpy (c.w[0], kernel, sizeof kernel);
  memcpy (c.w[1], bias, sizeof bias);
  call_forward (&c, false);
  assert_floats (c.out, linear, 6);
  call_clear (&c);

  init_call (&c, "Dense", "units=3 activation=relu", &in, 1, 2);
  memcpy (c.x[0], x, sizeof x);
  memcpy (c.w[0], kernel, sizeof kernel);
  memcpy (c.w[1], bias, sizeof bias);
  call_forward (&c, false);
  assert_floats (c.out, relu, 6);
  call_clear (&c);

  init_call (&c, "Dense", "units=3 use_bias=0", &in, 1, 2);
  g_assert_cmpint (c.n_w, ==, 1);
  memcpy (c.x[0], x, sizeof x);
  memcpy (c.w[0], kernel, sizeof kernel);
  call_forward (&c, false);
  assert_floats (c.out, no_bias, 6);
  call_clear (&c);

  /* On (None, 2, 2) Dense acts on the last axis of each position: same rows, one sample. */
  in = weft_shape_make (2, 2, 2);
  init_call (&c, "Dense", "units=3", &in, 1, 1);
  g_assert_cmpint (c.out_shape.rank, ==, 2);
  g_assert_cmpint (c.out_shape.dims[0], ==, 2);
  g_assert_cmpint (c.out_shape.dims[1], ==, 3);
  memcpy (c.x[0], x, sizeof x);
  memcpy (c.w[0], kernel, sizeof kernel);
  memcpy (c.w[1], bias, sizeof bias);
  call_forward (&c, false);
  assert_floats (c.out, linear, 6);
  call_check_guards (&c);
  call_clear (&c);
}

static double
ref_sigmoid (double x)
{
  return 1.0 / (1.0 + exp (-x));
}

static void
test_activation_values (void)
{
  static const double xs[] = { -3.0, -1.0, -0.5, 0.25, 1.0, 2.0, 4.0 };
  enum { N = G_N_ELEMENTS (xs) };
  const double selu_a = 1.6732632423543772, selu_s = 1.0507009873554805;

  for (int a = 0; a < WEFT_ACT_COUNT; a++)
    {
      float x[N], y[N];
      double want[N];
      if (a == WEFT_ACT_SOFTMAX)
        continue;
      for (int i = 0; i < N; i++)
        {
          double v = xs[i];
          x[i] = (float) v;
          switch ((WeftActivation) a)
            {
            case WEFT_ACT_LINEAR: want[i] = v; break;
            case WEFT_ACT_RELU: want[i] = v > 0 ? v : 0; break;
            case WEFT_ACT_LEAKY_RELU: want[i] = v > 0 ? v : 0.3 * v; break;
            case WEFT_ACT_ELU: want[i] = v > 0 ? v : exp (v) - 1; break;
            case WEFT_ACT_SELU: want[i] = selu_s * (v > 0 ? v : selu_a * (exp (v) - 1)); break;
            case WEFT_ACT_GELU: want[i] = 0.5 * v * (1 + erf (v / sqrt (2.0))); break;
            case WEFT_ACT_SIGMOID: want[i] = ref_sigmoid (v); break;
            case WEFT_ACT_HARD_SIGMOID: want[i] = CLAMP (0.2 * v + 0.5, 0.0, 1.0); break;
            case WEFT_ACT_TANH: want[i] = tanh (v); break;
            case WEFT_ACT_SOFTPLUS: want[i] = log1p (exp (v)); break;
            case WEFT_ACT_SOFTSIGN: want[i] = v / (1 + fabs (v)); break;
            case WEFT_ACT_SWISH: want[i] = v * ref_sigmoid (v); break;
            default: g_assert_not_reached ();
            }
        }
      weft_activation_forward (a, x, y, N, N);
      assert_floats (y, want, N);
      /* In place (x == y) gives the same. */
      weft_activation_forward (a, x, x, N, N);
      assert_floats (x, want, N);
    }

  /* A few points written out, so that a wrong constant cannot hide in both formulas. */
  {
    static const float x[] = { -1.0f, 1.0f, 3.0f, -3.0f };
    float y[4];
    weft_activation_forward (WEFT_ACT_SELU, x, y, 1, 1);
    assert_floats (y, (const double[]) { -1.1113307378125628 }, 1);
    weft_activation_forward (WEFT_ACT_GELU, x + 1, y, 1, 1);
    assert_floats (y, (const double[]) { 0.8413447460685429 }, 1);
    weft_activation_forward (WEFT_ACT_HARD_SIGMOID, x, y, 4, 4);
    assert_floats (y, (const double[]) { 0.3, 0.7, 1.0, 0.0 }, 4);
    weft_activation_forward (WEFT_ACT_LEAKY_RELU, x, y, 1, 1);
    assert_floats (y, (const double[]) { -0.3 }, 1);
  }

  /* Stable at the extremes: no inf or NaN. */
  {
    static const float x[] = { -100.0f, 100.0f };
    float y[2];
    weft_activation_forward (WEFT_ACT_SIGMOID, x, y, 2, 2);
    assert_floats (y, (const double[]) { 0.0, 1.0 }, 2);
    weft_activation_forward (WEFT_ACT_SOFTPLUS, x, y, 2, 2);
    assert_floats (y, (const double[]) { 0.0, 100.0 }, 2);
    weft_activation_forward (WEFT_ACT_SWISH, x, y, 2, 2);
    assert_floats (y, (const double[]) { 0.0, 100.0 }, 2);
  }

  /* Softmax on rows of the last axis, with the row maximum subtracted first. */
  {
    static const float x[] = { 1, 2, 3, 1000, 1001, 1002 };
    static const double want[] = { 0.09003057317038046, 0.24472847105479767,
                                   0.6652409557748219, 0.09003057317038046,
                                   0.24472847105479767, 0.6652409557748219 };
    float y[6];
    weft_activation_forward (WEFT_ACT_SOFTMAX, x, y, 6, 3);
    assert_floats (y, want, 6);
  }
}

/* Softmax against a double reference over the widths and row counts its kernels split on
 * (blocks of 16 rows of at most 16 values, wider rows, leftover rows): out of place, in
 * place, and with a bias added first (the Dense output pass), with rows far apart in scale
 * and values far below their row's maximum. */
static void
test_softmax_matches_double (void)
{
  static const int widths[] = { 1, 2, 3, 7, 10, 15, 16, 17, 31, 32, 33, 100, 500 };
  static const int row_counts[] = { 1, 5, 16, 17, 33, 64 };
  for (size_t wi = 0; wi < G_N_ELEMENTS (widths); wi++)
    for (size_t ri = 0; ri < G_N_ELEMENTS (row_counts); ri++)
      for (int mode = 0; mode < 3; mode++)
        {
          int w = widths[wi], rows = row_counts[ri];
          size_t n = (size_t) w * rows;
          float *x = g_new (float, n), *y = g_new (float, n), *bias = g_new (float, w);
          double *want = g_new (double, n), *z = g_new (double, w);
          for (int j = 0; j < w; j++)
            bias[j] = mode == 2 ? (float) (3.0 * cos (0.7 * j)) : 0.0f;
          for (size_t i = 0; i < n; i++)
            {
              size_t r = i / w;
              /* rows shifted by up to +-1000; some values 100 below the rest (underflow) */
              x[i] = (float) (sin (0.37 * i + 0.1) * 6.0 + (double) (r % 5) * 500.0 - 1000.0
                              - (i % 13 == 5 ? 100.0 : 0.0));
            }
          for (int r = 0; r < rows; r++)
            {
              double m = -INFINITY, sum = 0;
              for (int j = 0; j < w; j++)
                m = fmax (m, z[j] = (double) (x[(size_t) r * w + j] + bias[j]));  /* float add */
              for (int j = 0; j < w; j++)
                sum += exp (z[j] - m);
              for (int j = 0; j < w; j++)
                want[(size_t) r * w + j] = exp (z[j] - m) / sum;
            }
          float *out = mode == 0 ? y : x;
          if (mode == 2)
            weft_activation_forward_bias (WEFT_ACT_SOFTMAX, x, bias, x, n, w);
          else
            weft_activation_forward (WEFT_ACT_SOFTMAX, x, out, n, w);
          for (size_t i = 0; i < n; i++)
            if (!(fabs (out[i] - want[i]) <= 1e-7 + 2e-6 * want[i]))
              g_error ("softmax width %d, %d rows, %s: value %zu is %.9g, want %.9g", w, rows,
                       mode == 0 ? "out of place" : mode == 1 ? "in place" : "with bias", i,
                       out[i], want[i]);
          /* a NaN in a row makes that row NaN (never a quiet 0 the loss would not see) */
          if (mode == 0 && rows > 2)
            {
              x[w + w / 2] = NAN;
              weft_activation_forward (WEFT_ACT_SOFTMAX, x, y, n, w);
              g_assert_true (isnan (y[w + w / 2]));
            }
          g_free (x);
          g_free (y);
          g_free (bias);
          g_free (want);
          g_free (z);
        }
}

/* The gradient with the bias gradient in the same pass equals the gradient and then the
 * column sums, for every element-wise activation, assigned and added, at widths with and
 * without a path of their own (relu at 16, 32, 64; sums of rows narrower than 16 in blocks
 * of 16 rows) and row counts on and off the four- and sixteen-row steps. */
static void
test_activation_grad_sum_rows (void)
{
  const int widths[] = { 7, 10, 16, 32, 64 };
  const int row_counts[] = { 1, 5, 9, 70, 83 };
  for (size_t wi = 0; wi < G_N_ELEMENTS (widths); wi++)
    for (size_t ri = 0; ri < G_N_ELEMENTS (row_counts); ri++)
      for (int a = 0; a < WEFT_ACT_COUNT; a++)
        for (int assign = 0; assign < 2; assign++)
          {
            const int W = widths[wi], rows = row_counts[ri];
            size_t n = (size_t) rows * W;
            if (a == WEFT_ACT_SOFTMAX)
              continue;
            float *x = g_new (float, n), *y = g_new (float, n), *dy = g_new (float, n);
            float *g1 = g_new (float, n), *g2 = g_new (float, n);
            float db1[64], db2[64];
            for (size_t i = 0; i < n; i++)
              {
                x[i] = sinf (1.3f * i + 0.4f) * 2.0f;
                dy[i] = cosf (0.7f * i);
              }
            weft_activation_forward (a, x, y, n, W);
            for (int j = 0; j < W; j++)
              db1[j] = db2[j] = assign ? NAN : 0.25f * j;
            weft_activation_grad (a, x, y, dy, g1, n, W);
            for (int j = 0; j < W; j++)
              {
                double sum = assign ? 0.0 : db1[j];
                for (int r = 0; r < rows; r++)
                  sum += g1[r * W + j];
                db1[j] = (float) sum;
              }
            weft_activation_grad_sum_rows (a, x, y, dy, g2, n, W, db2, assign);
            for (size_t i = 0; i < n; i++)
              g_assert_cmpfloat (g2[i], ==, g1[i]);
            for (int j = 0; j < W; j++)
              if (!(fabsf (db2[j] - db1[j]) <= 1e-5f * (1.0f + fabsf (db1[j]))))
                g_error ("%s, %d x %d, %s: db[%d] %.9g, want %.9g", weft_activation_names[a],
                         rows, W, assign ? "assigned" : "added", j, db2[j], db1[j]);
            g_free (x);
            g_free (y);
            g_free (dy);
            g_free (g1);
            g_free (g2);
          }
}

/* sigmoid and tanh run on 16-wide vectors (weft-vmath.h): against double across [-30, 30],
 * including the tail lanes of a length that is not a multiple of 16 and tanh's switch to
 * its series near 0. */
static void
test_sigmoid_tanh_match_double (void)
{
  enum { N = 2003 };
  float *x = g_new (float, N), *y = g_new (float, N);
  for (int i = 0; i < N; i++)
    x[i] = -30.0f + 60.0f * i / (N - 1);
  for (int a = 0; a < 2; a++)
    {
      WeftActivation act = a == 0 ? WEFT_ACT_SIGMOID : WEFT_ACT_TANH;
      weft_activation_forward (act, x, y, N, N);
      for (int i = 0; i < N; i++)
        {
          double v = x[i];
          double want = a == 0 ? 1.0 / (1.0 + exp (-v)) : tanh (v);
          if (!(fabs (y[i] - want) <= 1e-7 * fabs (want) * 4 + 1e-30))
            g_error ("%s(%.9g) = %.9g, want %.9g", a == 0 ? "sigmoid" : "tanh", v, y[i], want);
        }
    }
  g_free (x);
  g_free (y);
}

/* The element-wise derivatives against central differences in double. */
static void
test_activation_derivatives (void)
{
  static const float xs[] = { -2.7f, -0.7f, -0.2f, 0.3f, 0.9f, 2.2f };
  enum { N = G_N_ELEMENTS (xs) };
  for (int a = 0; a < WEFT_ACT_COUNT; a++)
    {
      float y[N], dy[N], dx[N], g[N], yp[N], ym[N], xp[N], xm[N];
      const float h = 1e-2f;
      weft_activation_forward (a, xs, y, N, N);
      for (int i = 0; i < N; i++)
        {
          dy[i] = 1.0f;
          dx[i] = 0.0f;
          g[i] = 1.0f;
        }
      weft_activation_backward (a, xs, y, dy, dx, N, a == WEFT_ACT_SOFTMAX ? N : N);
      weft_activation_grad_inplace (a, xs, y, g, N, N);
      for (int i = 0; i < N; i++)
        g_assert_cmpfloat_with_epsilon (dx[i], g[i], 1e-6);
      if (a == WEFT_ACT_SOFTMAX)
        {
          /* d(sum y)/dx = 0 for softmax. */
          for (int i = 0; i < N; i++)
            g_assert_cmpfloat_with_epsilon (dx[i], 0.0, 1e-6);
          continue;
        }
      for (int i = 0; i < N; i++)
        {
          xp[i] = xs[i] + h;
          xm[i] = xs[i] - h;
        }
      weft_activation_forward (a, xp, yp, N, N);
      weft_activation_forward (a, xm, ym, N, N);
      for (int i = 0; i < N; i++)
        {
          double num = ((double) yp[i] - ym[i]) / ((double) xp[i] - xm[i]);
          if (fabs (num - dx[i]) > 2e-3 * MAX (1.0, fabs (num)))
            g_test_fail_printf ("%s'(%g): analytic %g, numeric %g", weft_activation_names[a],
                                xs[i], dx[i], num);
        }
      /* elu, selu and leaky_relu also work from y alone (x NULL). */
      if (a == WEFT_ACT_ELU || a == WEFT_ACT_SELU || a == WEFT_ACT_LEAKY_RELU
          || !weft_activation_needs_input (a))
        {
          float dx2[N] = { 0 };
          weft_activation_backward (a, NULL, y, dy, dx2, N, N);
          for (int i = 0; i < N; i++)
            g_assert_cmpfloat_with_epsilon (dx2[i], dx[i], 1e-6);
        }
    }
}

static void
test_input_infer (void)
{
  Call c;
  init_call (&c, "Input", "shape=28,28,1 dtype=int32", NULL, 0, 1);
  g_assert_cmpint (c.out_shape.rank, ==, 3);
  g_assert_cmpint (c.out_shape.dims[0], ==, 28);
  g_assert_cmpint (c.out_shape.dims[2], ==, 1);
  g_assert_cmpint (c.n_w, ==, 0);
  call_clear (&c);
  init_call (&c, "Input", "", NULL, 0, 1);
  g_assert_cmpint (c.out_shape.rank, ==, 1);
  g_assert_cmpint (c.out_shape.dims[0], ==, 32);
  call_clear (&c);
  g_autofree char *e = config_error ("Input", "shape=0,3", NULL, 0);
  g_assert_nonnull (e);
  g_autofree char *e2 = config_error ("Input", "shape=100000,100000,100", NULL, 0);
  g_assert_nonnull (e2);
  g_assert_nonnull (strstr (e2, "more than"));
}

static void
test_concatenate_order (void)
{
  WeftShape in[3] = { weft_shape_make (1, 2), weft_shape_make (1, 3) };
  Call c;

  /* Last axis: each row is [a, b]. */
  init_call (&c, "Concatenate", "", in, 2, 2);
  g_assert_cmpint (c.out_shape.dims[0], ==, 5);
  memcpy (c.x[0], (float[]) { 1, 2, 10, 20 }, 4 * sizeof (float));
  memcpy (c.x[1], (float[]) { 3, 4, 5, 30, 40, 50 }, 6 * sizeof (float));
  call_forward (&c, false);
  assert_floats (c.out, (const double[]) { 1, 2, 3, 4, 5, 10, 20, 30, 40, 50 }, 10);
  call_clear (&c);

  /* axis=1 on (None, r, 2): the rows of a, then of b, then of c, per sample. */
  in[0] = weft_shape_make (2, 1, 2);
  in[1] = weft_shape_make (2, 2, 2);
  in[2] = weft_shape_make (2, 1, 2);
  init_call (&c, "Concatenate", "axis=1", in, 3, 2);
  g_assert_cmpint (c.out_shape.rank, ==, 2);
  g_assert_cmpint (c.out_shape.dims[0], ==, 4);
  g_assert_cmpint (c.out_shape.dims[1], ==, 2);
  memcpy (c.x[0], (float[]) { 1, 2, -1, -2 }, 4 * sizeof (float));
  memcpy (c.x[1], (float[]) { 3, 4, 5, 6, -3, -4, -5, -6 }, 8 * sizeof (float));
  memcpy (c.x[2], (float[]) { 7, 8, -7, -8 }, 4 * sizeof (float));
  call_forward (&c, false);
  assert_floats (c.out, (const double[]) { 1, 2, 3, 4, 5, 6, 7, 8,
                                           -1, -2, -3, -4, -5, -6, -7, -8 }, 16);
  call_clear (&c);

  /* axis=-2 is the same axis as 1 here. */
  init_call (&c, "Concatenate", "axis=-2", in, 3, 1);
  g_assert_cmpint (c.out_shape.dims[0], ==, 4);
  call_clear (&c);
}

static void
test_dot_forward (void)
{
  WeftShape in[2] = { weft_shape_make (1, 3), weft_shape_make (1, 3) };
  Call c;

  init_call (&c, "Dot", "axes=1", in, 2, 1);
  g_assert_cmpint (c.out_shape.rank, ==, 1);
  g_assert_cmpint (c.out_shape.dims[0], ==, 1);
  memcpy (c.x[0], (float[]) { 1, 2, 3 }, 3 * sizeof (float));
  memcpy (c.x[1], (float[]) { 4, 5, 6 }, 3 * sizeof (float));
  call_forward (&c, false);
  assert_floats (c.out, (const double[]) { 32 }, 1);
  call_clear (&c);

  /* normalize: the cosine similarity 32 / (sqrt 14 sqrt 77). */
  init_call (&c, "Dot", "axes=1 normalize=1", in, 2, 1);
  memcpy (c.x[0], (float[]) { 1, 2, 3 }, 3 * sizeof (float));
  memcpy (c.x[1], (float[]) { 4, 5, 6 }, 3 * sizeof (float));
  call_forward (&c, false);
  assert_floats (c.out, (const double[]) { 32.0 / sqrt (14.0 * 77.0) }, 1);
  call_clear (&c);

  /* (None, 2, 3) · (None, 2, 3) on axes 2: x y^T, (None, 2, 2). */
  in[0] = weft_shape_make (2, 2, 3);
  in[1] = weft_shape_make (2, 2, 3);
  init_call (&c, "Dot", "axes=2", in, 2, 1);
  g_assert_cmpint (c.out_shape.rank, ==, 2);
  g_assert_cmpint (c.out_shape.dims[0], ==, 2);
  g_assert_cmpint (c.out_shape.dims[1], ==, 2);
  memcpy (c.x[0], (float[]) { 1, 2, 3, 4, 5, 6 }, 6 * sizeof (float));
  memcpy (c.x[1], (float[]) { 1, 0, -1, 2, 1, 0 }, 6 * sizeof (float));
  call_forward (&c, false);
  assert_floats (c.out, (const double[]) { -2, 4, -2, 13 }, 4);
  call_clear (&c);

  /* Same inputs on axes 1: x^T y, (None, 3, 3). */
  init_call (&c, "Dot", "axes=1", in, 2, 1);
  g_assert_cmpint (c.out_shape.dims[0], ==, 3);
  g_assert_cmpint (c.out_shape.dims[1], ==, 3);
  memcpy (c.x[0], (float[]) { 1, 2, 3, 4, 5, 6 }, 6 * sizeof (float));
  memcpy (c.x[1], (float[]) { 1, 0, -1, 2, 1, 0 }, 6 * sizeof (float));
  call_forward (&c, false);
  assert_floats (c.out, (const double[]) { 9, 4, -1, 12, 5, -2, 15, 6, -3 }, 9);
  call_clear (&c);

  /* (None, 2, 3) · (None, 3) on axes (2, 1): a matrix-vector product, (None, 2). */
  in[1] = weft_shape_make (1, 3);
  init_call (&c, "Dot", "axes=2,1", in, 2, 1);
  g_assert_cmpint (c.out_shape.rank, ==, 1);
  g_assert_cmpint (c.out_shape.dims[0], ==, 2);
  memcpy (c.x[0], (float[]) { 1, 2, 3, 4, 5, 6 }, 6 * sizeof (float));
  memcpy (c.x[1], (float[]) { 1, -1, 2 }, 3 * sizeof (float));
  call_forward (&c, false);
  assert_floats (c.out, (const double[]) { 5, 11 }, 2);
  call_clear (&c);

  /* The next two were also checked against TensorFlow.js 4.22's Dot layer. */
  static const float x12[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 };
  static const float y12[] = { 1, 0, -1, 2, 1, 0, 3, 1, 1, -2, 0, 1 };
  /* (None, 4, 3) · (None, 2, 4) on axes (1, 2): x^T y^T, (None, 3, 2). */
  in[0] = weft_shape_make (2, 4, 3);
  in[1] = weft_shape_make (2, 2, 4);
  init_call (&c, "Dot", "axes=1,2", in, 2, 1);
  memcpy (c.x[0], x12, 12 * sizeof (float));
  memcpy (c.x[1], y12, 8 * sizeof (float));
  call_forward (&c, false);
  assert_floats (c.out, (const double[]) { 14, 32, 16, 37, 18, 42 }, 6);
  call_clear (&c);

  /* (None, 3, 2) · (None, 3, 4) on axes 1, normalised: cosines of columns, (None, 2, 4). */
  in[0] = weft_shape_make (2, 3, 2);
  in[1] = weft_shape_make (2, 3, 4);
  init_call (&c, "Dot", "axes=1 normalize=1", in, 2, 1);
  memcpy (c.x[0], x12, 6 * sizeof (float));
  memcpy (c.x[1], y12, 12 * sizeof (float));
  call_forward (&c, false);
  assert_floats (c.out, (const double[]) { 0.8783100657, -0.8451542547, 0.4276179871, 0.6900655593,
                                           0.9258200998, -0.8017837257, 0.4225771274, 0.7637626158 },
                 8);
  call_clear (&c);
}

static void
test_reshape_infers_minus_one (void)
{
  WeftShape in = weft_shape_make (2, 3, 4);
  Call c;

  init_call (&c, "Reshape", "target_shape=-1,2", &in, 1, 2);
  g_assert_cmpint (c.out_shape.rank, ==, 2);
  g_assert_cmpint (c.out_shape.dims[0], ==, 6);
  g_assert_cmpint (c.out_shape.dims[1], ==, 2);
  for (size_t i = 0; i < c.n_x[0]; i++)
    c.x[0][i] = (float) i;
  call_forward (&c, false);
  g_assert_cmpmem (c.x[0], c.n_x[0] * sizeof (float), c.out, c.n_out * sizeof (float));
  call_clear (&c);

  init_call (&c, "Reshape", "target_shape=2,-1,2", &in, 1, 1);
  g_assert_cmpint (c.out_shape.dims[1], ==, 3);
  call_clear (&c);

  g_autofree char *e1 = config_error ("Reshape", "target_shape=5,2", &in, 1);
  g_assert_nonnull (e1);
  g_assert_nonnull (strstr (e1, "(None, 3, 4)"));
  g_assert_nonnull (strstr (e1, "12"));
  g_assert_nonnull (strstr (e1, "10"));
  g_autofree char *e2 = config_error ("Reshape", "target_shape=-1,5", &in, 1);
  g_assert_nonnull (e2);
  g_assert_nonnull (strstr (e2, "not a multiple of 5"));
  g_autofree char *e3 = config_error ("Reshape", "target_shape=-1,-1", &in, 1);
  g_assert_nonnull (e3);
  g_assert_nonnull (strstr (e3, "only once"));
}

static void
test_dropout_inference_and_training (void)
{
  enum { F = 1000, B = 10 };
  WeftShape in = weft_shape_make (1, F);
  Call c;
  size_t zeros = 0;

  init_call (&c, "Dropout", "rate=0.4", &in, 1, B);
  g_assert_true (c.op->flags & WEFT_OP_IDENTITY_INFERENCE);
  for (size_t i = 0; i < c.n_x[0]; i++)
    c.x[0][i] = 1.0f + (float) (i % 7);
  call_forward (&c, false);
  g_assert_cmpmem (c.x[0], c.n_x[0] * sizeof (float), c.out, c.n_out * sizeof (float));

  call_forward (&c, true);
  for (size_t i = 0; i < c.n_out; i++)
    {
      if (c.out[i] == 0.0f)
        zeros++;
      else
        g_assert_cmpfloat_with_epsilon (c.out[i], c.x[0][i] / 0.6f, 1e-5);
    }
  /* 10000 draws at p = 0.4: the standard deviation of the fraction is 0.005. */
  g_assert_cmpfloat (fabs ((double) zeros / c.n_out - 0.4), <, 0.03);

  /* The gradient flows through exactly the kept values, scaled alike. */
  fill (c.dout, c.n_out, 1.0f);
  fill (c.dx[0], c.n_x[0], 0.0f);
  call_backward (&c, true, true, true);
  for (size_t i = 0; i < c.n_out; i++)
    g_assert_cmpfloat_with_epsilon (c.dx[0][i], c.out[i] == 0.0f ? 0.0f : 1.0f / 0.6f, 1e-5);
  /* Backward follows the forward it belongs to, whatever its own training flag says. */
  fill (c.dx[0], c.n_x[0], 0.0f);
  call_backward (&c, false, true, true);
  for (size_t i = 0; i < c.n_out; i++)
    g_assert_cmpfloat_with_epsilon (c.dx[0][i], c.out[i] == 0.0f ? 0.0f : 1.0f / 0.6f, 1e-5);
  call_forward (&c, false);
  fill (c.dx[0], c.n_x[0], 0.0f);
  call_backward (&c, true, true, true);
  for (size_t i = 0; i < c.n_out; i++)
    g_assert_cmpfloat (c.dx[0][i], ==, 1.0f);
  call_check_guards (&c);
  call_clear (&c);
}

static void
test_repeat_vector_and_flatten (void)
{
  WeftShape in = weft_shape_make (1, 2);
  Call c;
  init_call (&c, "RepeatVector", "n=3", &in, 1, 2);
  memcpy (c.x[0], (float[]) { 1, 2, 3, 4 }, 4 * sizeof (float));
  call_forward (&c, false);
  assert_floats (c.out, (const double[]) { 1, 2, 1, 2, 1, 2, 3, 4, 3, 4, 3, 4 }, 12);
  call_clear (&c);

  in = weft_shape_make (3, 2, 3, 4);
  init_call (&c, "Flatten", "", &in, 1, 1);
  g_assert_cmpint (c.out_shape.rank, ==, 1);
  g_assert_cmpint (c.out_shape.dims[0], ==, 24);
  call_clear (&c);

  in = weft_shape_make (2, 2, 3);
  g_autofree char *e = config_error ("RepeatVector", "n=2", &in, 1);
  g_assert_nonnull (e);
  g_assert_nonnull (strstr (e, "(None, 2, 3)"));
}

/* ---- messages of invalid configurations ---- */

static void
test_merge_mismatch_names_both_shapes (void)
{
  WeftShape in[3] = { weft_shape_make (1, 32), weft_shape_make (1, 16),
                      weft_shape_make (1, 8) };
  static const char *const ops[] = { "Add", "Subtract", "Multiply", "Average", "Maximum",
                                     "Minimum" };
  for (size_t i = 0; i < G_N_ELEMENTS (ops); i++)
    {
      g_autofree char *e = config_error (ops[i], "", in, 2);
      g_assert_nonnull (e);
      g_assert_nonnull (strstr (e, "input 0 has shape (None, 32) but input 1 has shape "
                                   "(None, 16)"));
    }

  /* Three inputs, two of them differing: both are named. */
  g_autofree char *e3 = config_error ("Add", "", in, 3);
  g_assert_nonnull (e3);
  g_assert_nonnull (strstr (e3, "input 1 has shape (None, 16)"));
  g_assert_nonnull (strstr (e3, "input 2 has shape (None, 8)"));

  /* Equal shapes are fine; Subtract takes exactly two. */
  in[1] = in[2] = in[0];
  g_autofree char *ok = config_error ("Maximum", "", in, 3);
  g_assert_null (ok);
  g_autofree char *e4 = config_error ("Subtract", "", in, 3);
  g_assert_nonnull (e4);
}

static void
test_concatenate_explains_spatial_mismatch (void)
{
  /* The inception module with padding='valid': branches shrink by different amounts. */
  WeftShape in[3] = { weft_shape_make (3, 28, 28, 64), weft_shape_make (3, 26, 26, 32),
                      weft_shape_make (3, 24, 24, 16) };
  g_autofree char *e = config_error ("Concatenate", "axis=-1", in, 3);
  g_assert_nonnull (e);
  g_assert_nonnull (strstr (e, "(None, 28, 28, 64)"));
  g_assert_nonnull (strstr (e, "(None, 26, 26, 32)"));
  g_assert_nonnull (strstr (e, "(None, 24, 24, 16)"));
  g_assert_nonnull (strstr (e, "spatial sizes differ"));
  g_assert_nonnull (strstr (e, "padding='same'"));

  /* In the 256 bytes the graph gives: four inception branches with the hint in full; eight
   * branches cut the list ("...") but keep the hint. */
  {
    const WeftOpDesc *op = weft_op_lookup ("Concatenate");
    WeftValue cfg[1];
    WeftShape many[8], out;
    char why[256];
    weft_op_defaults (op, cfg);
    for (int i = 0; i < 8; i++)
      many[i] = weft_shape_make (3, 28 - 2 * (i % 4), 28 - 2 * (i % 4), 128);
    WeftOpArgs args = { .cfg = cfg, .in = many, .n_in = 4 };
    g_assert_false (op->infer (&args, &out, why, sizeof why));
    g_assert_nonnull (strstr (why, "(None, 22, 22, 128); the branches' spatial sizes differ: "
                                    "use padding='same' in their convolutions and poolings"));
    args.n_in = 8;
    g_assert_false (op->infer (&args, &out, why, sizeof why));
    g_assert_nonnull (strstr (why, ", ...; the branches' spatial sizes differ"));
    g_assert_nonnull (strstr (why, "poolings"));
  }

  /* Differing channels along another axis: no spatial hint. */
  WeftShape flat[2] = { weft_shape_make (2, 4, 3), weft_shape_make (2, 5, 2) };
  g_autofree char *e2 = config_error ("Concatenate", "axis=1", flat, 2);
  g_assert_nonnull (e2);
  g_assert_null (strstr (e2, "spatial"));
  g_assert_nonnull (strstr (e2, "(None, 4, 3)"));

  /* Channels may differ along the concatenated axis. */
  WeftShape ok_in[2] = { weft_shape_make (3, 8, 8, 3), weft_shape_make (3, 8, 8, 5) };
  g_autofree char *ok = config_error ("Concatenate", "", ok_in, 2);
  g_assert_null (ok);

  /* The batch axis and a missing axis are refused. */
  g_autofree char *e3 = config_error ("Concatenate", "axis=0", ok_in, 2);
  g_assert_nonnull (e3);
  g_assert_nonnull (strstr (e3, "batch"));
  g_autofree char *e4 = config_error ("Concatenate", "axis=5", ok_in, 2);
  g_assert_nonnull (e4);
  /* Different ranks list every shape. */
  WeftShape ranks[2] = { weft_shape_make (1, 4), weft_shape_make (2, 4, 4) };
  g_autofree char *e5 = config_error ("Concatenate", "", ranks, 2);
  g_assert_nonnull (e5);
  g_assert_nonnull (strstr (e5, "(None, 4), (None, 4, 4)"));
}

static void
test_invalid_configs_are_explained (void)
{
  WeftShape v = weft_shape_make (1, 4);
  WeftShape both[2] = { weft_shape_make (1, 32), weft_shape_make (1, 16) };
  char *e;

  e = config_error ("Dense", "units=0", &v, 1);
  g_assert_nonnull (e);
  g_assert_nonnull (strstr (e, "units"));
  g_free (e);
  e = config_error ("Dense", "units=2.5", &v, 1);
  g_assert_nonnull (e);
  g_free (e);
  e = config_error ("Dropout", "rate=1", &v, 1);
  g_assert_nonnull (e);
  g_assert_nonnull (strstr (e, "rate"));
  g_free (e);
  e = config_error ("Dot", "axes=1", both, 2);
  g_assert_nonnull (e);
  g_assert_nonnull (strstr (e, "32 != 16"));
  g_free (e);
  e = config_error ("Dot", "axes=0", both, 2);
  g_assert_nonnull (e);
  g_free (e);
  WeftShape deep[2] = { weft_shape_make (3, 2, 2, 2), weft_shape_make (3, 2, 2, 2) };
  e = config_error ("Dot", "axes=1", deep, 2);
  g_assert_nonnull (e);
  g_assert_nonnull (strstr (e, "rank"));
  g_free (e);

  /* Out-of-range values reach weft_op_check_value directly too. */
  const WeftOpDesc *dense = weft_op_lookup ("Dense");
  char why[256];
  WeftValue bad = { .num = WEFT_ACT_COUNT };
  g_assert_false (weft_op_check_value (&dense->params[1], &bad, why, sizeof why));
}

/* Only with -m perf: Dense (relu, bias) against the three sgemm calls it is made of. */
static void
test_dense_throughput (void)
{
  enum { B = 256, IN = 1024, U = 1024, REPS = 10 };
  WeftShape in = weft_shape_make (1, IN);
  Call c;
  double t_dense = G_MAXDOUBLE, t_gemm = G_MAXDOUBLE;

  init_call (&c, "Dense", "units=1024 activation=relu", &in, 1, B);
  for (size_t i = 0; i < c.n_x[0]; i++)
    c.x[0][i] = (float) (i % 13) * 0.1f - 0.6f;
  for (size_t i = 0; i < c.n_wt[0]; i++)
    c.w[0][i] = (float) (i % 7) * 0.01f - 0.03f;
  fill (c.dout, c.n_out, 0.01f);
  for (int round = 0; round < 3; round++)
    {
      g_test_timer_start ();
      for (int r = 0; r < REPS; r++)
        {
          WeftOpCtx ctx = call_ctx (&c, true, true, true);
          c.op->forward (&ctx);
          c.op->backward (&ctx);
        }
      t_dense = MIN (t_dense, g_test_timer_elapsed () / REPS);
      g_test_timer_start ();
      for (int r = 0; r < REPS; r++)
        {
          weft_sgemm (false, false, B, U, IN, 1, c.x[0], IN, c.w[0], U, 0, c.out, U);
          weft_sgemm (true, false, IN, U, B, 1, c.x[0], IN, c.dout, U, 1, c.dw[0], U);
          weft_sgemm (false, true, B, IN, U, 1, c.dout, U, c.w[0], U, 1, c.dx[0], IN);
        }
      t_gemm = MIN (t_gemm, g_test_timer_elapsed () / REPS);
    }
  double gflops = 3 * 2.0 * B * IN * U / t_dense * 1e-9;
  g_test_minimized_result (t_dense, "Dense %dx%d->%d forward+backward: %.3f ms, %.1f GFLOP/s, "
                           "%.0f%% of bare sgemm (%s)", B, IN, U, t_dense * 1e3, gflops,
                           100 * t_gemm / t_dense, weft_blas_core_name ());
  g_assert_cmpfloat (t_gemm / t_dense, >=, PERF_MIN_RATIO);
  call_clear (&c);
}

int
main (int argc, char **argv)
{
  g_autoptr (GHashTable) registered = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                                             NULL);
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/engine/ops/registry/every-op-has-a-gradient-case",
                   test_every_op_has_a_gradient_case);
  g_test_add_func ("/engine/ops/registry/every-case-names-a-registered-op",
                   test_every_case_names_an_op);
  g_test_add_func ("/engine/ops/registry/case-labels-are-unique", test_case_labels_are_unique);
  g_test_add_func ("/engine/ops/registry/descriptions-are-complete",
                   test_descriptions_are_complete);

  g_test_add_func ("/engine/ops/activation/softmax-matches-double-at-every-width",
                   test_softmax_matches_double);
  g_test_add_func ("/engine/ops/activation/grad-with-bias-sums-matches-two-passes",
                   test_activation_grad_sum_rows);
  g_test_add_func ("/engine/ops/activation/sigmoid-and-tanh-match-double",
                   test_sigmoid_tanh_match_double);
  g_test_add_func ("/engine/ops/activation/values-match-keras-formulas",
                   test_activation_values);
  g_test_add_func ("/engine/ops/activation/derivatives-match-finite-difference",
                   test_activation_derivatives);
  g_test_add_func ("/engine/ops/Input/infers-its-shape", test_input_infer);
  g_test_add_func ("/engine/ops/Dense/forward-matches-hand-computed", test_dense_forward);
  g_test_add_func ("/engine/ops/Concatenate/forward-keeps-input-order",
                   test_concatenate_order);
  g_test_add_func ("/engine/ops/Dot/forward-matches-hand-computed", test_dot_forward);
  g_test_add_func ("/engine/ops/Reshape/infers-minus-one", test_reshape_infers_minus_one);
  g_test_add_func ("/engine/ops/Dropout/identity-in-inference-scaled-in-training",
                   test_dropout_inference_and_training);
  g_test_add_func ("/engine/ops/RepeatVector/forward-repeats", test_repeat_vector_and_flatten);
  g_test_add_func ("/engine/ops/merge/mismatch-names-both-shapes",
                   test_merge_mismatch_names_both_shapes);
  g_test_add_func ("/engine/ops/Concatenate/mismatch-explains-padding",
                   test_concatenate_explains_spatial_mismatch);
  g_test_add_func ("/engine/ops/config/invalid-values-are-explained",
                   test_invalid_configs_are_explained);

  if (g_test_perf ())
    g_test_add_func ("/engine/ops/Dense/perf/reaches-sgemm-throughput", test_dense_throughput);

  for (size_t t = 0; t < G_N_ELEMENTS (case_tables); t++)
    for (const WeftOpCase *oc = case_tables[t].rows; oc->op != NULL; oc++)
      {
        char *path = g_strdup_printf ("/engine/ops/%s/%s/gradient-matches-finite-difference",
                                      oc->op, oc->label ? oc->label : "unlabelled");
        /* A duplicate fails /engine/ops/registry/case-labels-are-unique instead. */
        if (g_hash_table_add (registered, path))
          g_test_add_data_func (path, oc, test_gradient_case);
      }
  return g_test_run ();
}
