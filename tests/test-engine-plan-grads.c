/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The plan's gradient bookkeeping: the first writer of a gradient assigns it (ops with
 * WEFT_OP_ASSIGNS_GRADS), every later writer adds, and only what nobody assigns is zeroed.
 * Fan-out, a shared layer called twice and a head whose tensor also feeds another layer
 * must still give the gradient of the whole graph, pass after pass. */
#include <glib.h>
#include <math.h>
#include <string.h>

#include "weft-activation.h"
#include "weft-loss.h"
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

/* Every weight's gradient in the plan (after a backward pass) against central differences
 * of objective; returns how many were clearly non-zero. */
static int
check_finite_differences (WeftPlan *p, double (*objective) (WeftPlan *))
{
  float *params = weft_plan_params (p, NULL);
  size_t n = 0;
  const float *grads = weft_plan_grads (p, &n);
  float *analytic = g_memdup2 (grads, n * sizeof (float));
  int n_slices = 0, checked = 0;
  const WeftParamSlice *s = weft_plan_slices (p, &n_slices);
  for (int i = 0; i < n_slices; i++)   /* the padding between slices is nobody's */
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
  g_free (analytic);
  return checked;
}

static void
test_fan_out_shared_matches_finite_difference (void)
{
  WeftGraph *g = fan_graph ();
  WeftPlan *p = fan_plan (g);
  int n_slices = 0;
  weft_plan_slices (p, &n_slices);
  g_assert_cmpint (n_slices, ==, 8);   /* h, a, b, e: kernel and bias each */
  backward (p);
  g_assert_cmpint (check_finite_differences (p, objective), >, 30);
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

/* x(4) -> h = Dense 5 tanh -> y = Dense 3 with act (head with loss); with also_feeds, y
 * feeds a further Dense head too. */
static WeftGraph *
preact_graph (const char *act, WeftLoss loss, bool also_feeds)
{
  WeftGraph *g = weft_graph_new ();
  WeftId m = weft_graph_add_model (g, "sm", NULL);
  WeftId x = tg_input1 (g, m, "x", 4);
  WeftId h = tg_dense (g, m, "h", 5, "tanh", x, NULL);
  WeftId y = tg_dense (g, m, "y", 3, act, h, NULL);
  tg_head (g, m, y, loss, 1, WEFT_METRIC_NONE);
  if (also_feeds)
    tg_head (g, m, tg_dense (g, m, "z", 2, NULL, y, NULL), WEFT_LOSS_MSE, 1,
             WEFT_METRIC_NONE);
  return g;
}

/* Handing a head the pre-activation gradient (the trainer does for cross-entropy on softmax
 * and on sigmoid) gives the same weight gradients as the probabilities' gradient through
 * the activation's backward; an output that feeds another layer is not handed it. */
static void
test_head_pre_activation_gradient (void)
{
  static const struct { const char *act; WeftActivation a; WeftLoss loss; } cases[] = {
    { "softmax", WEFT_ACT_SOFTMAX, WEFT_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY },
    { "sigmoid", WEFT_ACT_SIGMOID, WEFT_LOSS_BINARY_CROSSENTROPY },
  };
  /* class labels for the softmax, per-unit 0/1 targets for the sigmoid */
  static const float labels[BATCH * 3] = { 2, 0, 1, 1, 0, 1, 0, 0, 1 };
  for (size_t c = 0; c < G_N_ELEMENTS (cases); c++)
    {
      WeftGraph *g = preact_graph (cases[c].act, cases[c].loss, false);
      WeftPlan *p = fan_plan (g);
      WeftLossSpec spec = { .loss = cases[c].loss };
      size_t n = 0;
      weft_plan_params (p, &n);
      float *grads = weft_plan_grads (p, NULL);
      float *via_probs = NULL;
      g_assert_cmpint (weft_plan_output_activation (p, 0), ==, cases[c].a);
      g_assert_true (weft_loss_fuses_activation (&spec, cases[c].a));
      for (int fused = 0; fused < 2; fused++)
        {
          g_assert_true (weft_plan_set_output_preact_grad (p, 0, fused));
          weft_plan_forward (p, BATCH, true);
          float *og = weft_plan_output_grad (p, 0);
          if (fused)
            weft_loss_preact (&spec, weft_plan_output (p, 0), labels, BATCH, 3, 3, og, 1.0f);
          else
            {
              memset (og, 0, BATCH * 3 * sizeof (float));
              weft_loss_compute (&spec, weft_plan_output (p, 0), labels, BATCH, 3, 3, og, 1.0f);
            }
          weft_plan_backward (p, BATCH);
          if (!fused)
            via_probs = g_memdup2 (grads, n * sizeof (float));
        }
      int n_slices = 0, nonzero = 0;
      const WeftParamSlice *s = weft_plan_slices (p, &n_slices);
      for (int i = 0; i < n_slices; i++)
        for (size_t k = 0; k < s[i].count; k++)
          {
            float a = grads[s[i].offset + k], b = via_probs[s[i].offset + k];
            g_assert_cmpfloat (fabsf (a - b), <=, 1e-6f + 1e-4f * fabsf (b));
            nonzero += fabsf (b) > 1e-4f;
          }
      g_assert_cmpint (nonzero, >, 20);
      g_free (via_probs);
      weft_plan_free (p);
      weft_graph_free (g);

      g = preact_graph (cases[c].act, cases[c].loss, true);
      p = fan_plan (g);
      g_assert_cmpint (weft_plan_output_activation (p, 0), ==, -1);
      g_assert_false (weft_plan_set_output_preact_grad (p, 0, true));
      g_assert_true (weft_plan_set_output_preact_grad (p, 0, false));
      weft_plan_free (p);
      weft_graph_free (g);
    }
}

/* Reading a batch straight from the caller's rows gives the outputs of copying them in, and
 * leaves the rows untouched; asking for the plan's own buffer again reads that one. */
static void
test_input_rows_in_place (void)
{
  WeftGraph *g = fan_graph ();
  WeftPlan *p = fan_plan (g);
  float copied[BATCH * 3], viewed[BATCH * 3], rows[BATCH * 4], keep[BATCH * 4];
  memcpy (rows, weft_plan_input (p, 0), sizeof rows);
  memcpy (keep, rows, sizeof rows);
  weft_plan_forward (p, BATCH, false);
  memcpy (copied, weft_plan_output (p, 0), sizeof copied);
  float *own = weft_plan_input (p, 0);
  weft_plan_set_input_rows (p, 0, rows);
  for (int k = 0; k < BATCH * 4; k++)
    own[k] = 100.0f;   /* the plan must not read its own buffer now */
  weft_plan_forward (p, BATCH, true);
  backward (p);   /* backward too, through a view */
  memcpy (viewed, weft_plan_output (p, 0), sizeof viewed);
  g_assert_cmpmem (viewed, sizeof viewed, copied, sizeof copied);
  g_assert_cmpmem (rows, sizeof rows, keep, sizeof keep);
  g_assert_true (weft_plan_input (p, 0) == own);   /* and back to the own buffer */
  weft_plan_forward (p, BATCH, false);
  g_assert_cmpfloat (fabsf (weft_plan_output (p, 0)[0] - copied[0]), >, 1e-3f);
  weft_plan_free (p);
  weft_graph_free (g);
}

/* x(4) -> d0 -> d1 -> ... -> d(n-1), Dense(width) each (relu), with Add skips from every
 * second layer's input (a residual chain: gradient lifetimes that overlap), head y = Dense 3
 * on the last. */
static WeftGraph *
chain_graph (int n, int width)
{
  WeftGraph *g = weft_graph_new ();
  WeftId m = weft_graph_add_model (g, "chain", NULL);
  WeftId cur = tg_input1 (g, m, "x", 4);
  cur = tg_dense (g, m, "in", width, "tanh", cur, NULL);
  for (int i = 0; i < n; i++)
    {
      char name[16];
      g_snprintf (name, sizeof name, "d%d", i);
      WeftId next = tg_dense (g, m, name, width, "tanh", cur, NULL);
      if (i % 2 == 1)
        {
          WeftId ab[2] = { cur, next };
          g_snprintf (name, sizeof name, "s%d", i);
          next = tg_merge (g, m, "Add", name, 2, ab);
        }
      cur = next;
    }
  tg_head (g, m, tg_dense (g, m, "y", 3, NULL, cur, NULL), WEFT_LOSS_MSE, 1,
           WEFT_METRIC_NONE);
  return g;
}

static double
chain_objective (WeftPlan *p)
{
  weft_plan_forward (p, BATCH, true);
  const float *y = weft_plan_output (p, 0);
  double f = 0;
  for (int i = 0; i < BATCH * 3; i++)
    f += (double) y[i] * r_y[i];
  return f;
}

/* Gradients share memory where their lifetimes in the backward pass do not overlap: a
 * residual chain still matches finite differences, and each further layer costs its
 * activation, not its activation and its gradient. */
static void
test_gradients_share_memory (void)
{
  WeftGraph *g = chain_graph (6, 5);
  WeftPlan *p = fan_plan (g);
  chain_objective (p);
  memcpy (weft_plan_output_grad (p, 0), r_y, sizeof r_y);
  weft_plan_backward (p, BATCH);
  g_assert_cmpint (check_finite_differences (p, chain_objective), >, 60);
  weft_plan_free (p);
  weft_graph_free (g);

  /* 8 more layers of 256 units at batch 64: each adds its activation (64 KiB), its weights
   * and their gradients (2 x 257 KiB) and no gradient buffer of its own (64 KiB) */
  size_t bytes[2];
  for (int c = 0; c < 2; c++)
    {
      WeftError e = { 0 };
      g = chain_graph (8 + 8 * c, 256);
      p = weft_plan_new (g, 64, 1, &e);
      g_assert_nonnull (p);
      bytes[c] = weft_plan_arena_bytes (p);
      weft_plan_free (p);
      weft_graph_free (g);
    }
  double per_layer = (double) (bytes[1] - bytes[0]) / 8;
  double act = 64.0 * 256 * 4, weights = 2.0 * (256 * 256 + 256) * 4;
  g_test_message ("per layer: %.0f bytes (activation %.0f, weights and gradients %.0f)",
                  per_layer, act, weights);
  /* every second layer adds an Add whose output is one more activation */
  g_assert_cmpfloat (per_layer, <=, weights + 1.5 * act + 1024);
}

/* A forward-only plan shares its values' memory: the same outputs as a training plan for the
 * fan-out graph (shared layer, a head that also feeds a layer) and the residual chain, and a
 * deeper chain costs its weights, not its activations. */
static void
test_inference_plan_shares_values (void)
{
  for (int c = 0; c < 2; c++)
    {
      WeftGraph *g = c == 0 ? fan_graph () : chain_graph (6, 5);
      WeftError e = { 0 };
      WeftPlan *train = fan_plan (g);
      WeftPlan *infer = weft_plan_new_inference (g, BATCH, 11, &e);
      g_assert_nonnull (infer);
      memcpy (weft_plan_input (infer, 0), weft_plan_input (train, 0), BATCH * 4 * sizeof (float));
      weft_plan_forward (train, BATCH, false);
      weft_plan_forward (infer, BATCH, false);
      g_assert_cmpint (weft_plan_n_outputs (infer), ==, weft_plan_n_outputs (train));
      for (int j = 0; j < weft_plan_n_outputs (train); j++)
        g_assert_cmpmem (weft_plan_output (infer, j), BATCH * 3 * sizeof (float),
                         weft_plan_output (train, j), BATCH * 3 * sizeof (float));
      weft_plan_free (train);
      weft_plan_free (infer);
      weft_graph_free (g);
    }
  size_t bytes[2];
  for (int c = 0; c < 2; c++)
    {
      WeftError e = { 0 };
      WeftGraph *g = chain_graph (8 + 8 * c, 256);
      WeftPlan *p = weft_plan_new_inference (g, 64, 1, &e);
      g_assert_nonnull (p);
      bytes[c] = weft_plan_arena_bytes (p);
      weft_plan_free (p);
      weft_graph_free (g);
    }
  double per_layer = (double) (bytes[1] - bytes[0]) / 8;
  double weights = (256.0 * 256 + 256) * 4;   /* no gradients */
  g_test_message ("inference, per layer: %.0f bytes", per_layer);
  g_assert_cmpfloat (per_layer, <=, weights + 1024);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/engine/plan-grads/fan-out-and-shared-match-finite-difference",
                   test_fan_out_shared_matches_finite_difference);
  g_test_add_func ("/engine/plan-grads/repeated-passes-do-not-accumulate",
                   test_repeated_passes_do_not_accumulate);
  g_test_add_func ("/engine/plan-grads/input-rows-read-in-place", test_input_rows_in_place);
  g_test_add_func ("/engine/plan-grads/gradients-share-memory", test_gradients_share_memory);
  g_test_add_func ("/engine/plan-grads/inference-plan-shares-values",
                   test_inference_plan_shares_values);
  g_test_add_func ("/engine/plan-grads/cross-entropy-heads-take-pre-activation-gradient",
                   test_head_pre_activation_gradient);
  return g_test_run ();
}
