/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The plan's gradient bookkeeping: the first writer of a gradient assigns it (ops with
 * WEFT_OP_ASSIGNS_GRADS), every later writer adds, and only what nobody assigns is zeroed.
 * Fan-out, a shared layer called twice and a head whose tensor also feeds another layer
 * must still give the gradient of the whole graph, pass after pass. */
#include <glib.h>
#include <math.h>
#include <string.h>

#include "weft-plan.h"
#include "weft-test-graphs.h"

#define BATCH 3

/* x(4) -> h = Dense 3 tanh; a = Dense 3 (h); b = Dense 3 relu (h)      h fans out
 * s = Add(a, b); e1 = E(s), e2 = E(b) with one shared Dense 3 sigmoid E  b fans out
 * heads: y = Add(e1, e2), and a itself (its tensor also feeds the Add) */
static WeftGraph *
fan_graph (void)
{
  WeftGraph *g = weft_graph_new ();
  WeftId m = weft_graph_add_model (g, "fan", NULL);
  WeftId x = tg_input1 (g, m, "x", 4);
  WeftId h = tg_dense (g, m, "h", 3, "tanh", x, NULL);
  WeftId a = tg_dense (g, m, "a", 3, NULL, h, NULL);
  WeftId b = tg_dense (g, m, "b", 3, "relu", h, NULL);
  WeftId ab[2] = { a, b };
  WeftId s = tg_merge (g, m, "Add", "s", 2, ab);
  WeftId e;
  WeftId e1 = tg_dense (g, m, "e", 3, "sigmoid", s, &e);
  WeftId e2 = tg_call (g, m, e, 1, &b);
  WeftId ee[2] = { e1, e2 };
  WeftId y = tg_merge (g, m, "Add", "y", 2, ee);
  tg_head (g, m, y, WEFT_LOSS_MSE, 1, WEFT_METRIC_NONE);
  tg_head (g, m, a, WEFT_LOSS_MSE, 1, WEFT_METRIC_NONE);
  return g;
}

static const float r_y[BATCH * 3] = { 0.7f, -1.3f, 0.4f, 0.2f, 0.9f, -0.5f, -0.8f, 0.3f, 1.1f };
static const float r_a[BATCH * 3] = { -0.2f, 0.6f, 0.1f, 0.5f, -0.7f, 0.3f, 0.9f, -0.4f, 0.2f };

/* f = sum(y * r_y) + sum(a * r_a) after a forward pass */
static double
objective (WeftPlan *p)
{
  weft_plan_forward (p, BATCH, true);
  const float *y = weft_plan_output (p, 0), *a = weft_plan_output (p, 1);
  double f = 0;
  for (int i = 0; i < BATCH * 3; i++)
    f += (double) y[i] * r_y[i] + (double) a[i] * r_a[i];
  return f;
}

static WeftPlan *
fan_plan (WeftGraph *g)
{
  WeftError e = { 0 };
  WeftPlan *p = weft_plan_new (g, BATCH, 11, &e);
  g_assert_nonnull (p);
  float *x = weft_plan_input (p, 0);
  for (int k = 0; k < BATCH * 4; k++)
    x[k] = sinf (0.9f * k + 0.3f);
  return p;
}

static void
backward (WeftPlan *p)
{
  objective (p);
  memcpy (weft_plan_output_grad (p, 0), r_y, sizeof r_y);
  memcpy (weft_plan_output_grad (p, 1), r_a, sizeof r_a);
  weft_plan_backward (p, BATCH);
}

static void
test_fan_out_shared_matches_finite_difference (void)
{
  WeftGraph *g = fan_graph ();
  WeftPlan *p = fan_plan (g);
  size_t n = 0;
  float *params = weft_plan_params (p, &n);
  float *grads = weft_plan_grads (p, NULL);
  backward (p);
  float *analytic = g_memdup2 (grads, n * sizeof (float));
  int n_slices = 0, checked = 0;
  const WeftParamSlice *s = weft_plan_slices (p, &n_slices);
  g_assert_cmpint (n_slices, ==, 8);   /* h, a, b, e: kernel and bias each */
  for (int i = 0; i < n_slices; i++)
    for (size_t k = 0; k < s[i].count; k++)
      {
        float *w = &params[s[i].offset + k];
        float keep = *w;
        double h = 1e-3, f[2];
        for (int side = 0; side < 2; side++)
          {
            *w = keep + (side ? -h : h);
            f[side] = objective (p);
          }
        *w = keep;
        double numeric = (f[0] - f[1]) / (2 * h);
        double a = analytic[s[i].offset + k];
        g_assert_cmpfloat (fabs (a - numeric), <=, 2e-3 + 1e-2 * fabs (numeric));
        checked += fabs (numeric) > 1e-3;
      }
  g_assert_cmpint (checked, >, 30);
  g_free (analytic);
  weft_plan_free (p);
  weft_graph_free (g);
}

static void
test_repeated_passes_do_not_accumulate (void)
{
  WeftGraph *g = fan_graph ();
  WeftPlan *p = fan_plan (g);
  size_t n = 0;
  weft_plan_params (p, &n);
  float *grads = weft_plan_grads (p, NULL);
  backward (p);
  float *first = g_memdup2 (grads, n * sizeof (float));
  /* whatever a gradient buffer holds before a pass must not leak into the next one */
  for (size_t i = 0; i < n; i++)
    grads[i] = NAN;
  backward (p);
  backward (p);
  int n_slices = 0;
  const WeftParamSlice *s = weft_plan_slices (p, &n_slices);
  for (int i = 0; i < n_slices; i++)   /* the padding between slices is nobody's */
    g_assert_cmpmem (grads + s[i].offset, s[i].count * sizeof (float), first + s[i].offset,
                     s[i].count * sizeof (float));
  g_free (first);
  weft_plan_free (p);
  weft_graph_free (g);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/engine/plan-grads/fan-out-and-shared-match-finite-difference",
                   test_fan_out_shared_matches_finite_difference);
  g_test_add_func ("/engine/plan-grads/repeated-passes-do-not-accumulate",
                   test_repeated_passes_do_not_accumulate);
  return g_test_run ();
}
