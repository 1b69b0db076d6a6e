/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Tests of weft_trainer_gradient_share: per-head gradient norms reaching each layer. */
#include "weft-train.h"
#include "weft-test-graphs.h"

#include <glib.h>
#include <math.h>
#include <string.h>

#define REL_TOL 1e-5

static WeftTrainConfig
small_config (void)
{
  WeftTrainConfig c;
  weft_train_config_defaults (&c);
  weft_optim_config_defaults (WEFT_OPTIM_ADAM, &c.optimizer);
  c.epochs = 1;
  c.batch_size = 16;
  c.seed = 3;
  c.threads = 1;
  return c;
}

static const WeftGradientShare *
find_row (const WeftGradientShare *rows, int n, const char *layer)
{
  for (int i = 0; i < n; i++)
    if (strcmp (rows[i].layer, layer) == 0)
      return &rows[i];
  g_error ("no row for layer %s", layer);
  return NULL;
}

/* Head-only layers get gradient from their own head alone; the trunk from all three. */
static void
test_head_layers_get_only_their_head (void)
{
  WeftGraph *g = tg_three_heads ();
  WeftTrainConfig c = small_config ();
  WeftError e = { 0 };
  WeftDataset *d = weft_synthetic_make ("three-heads", g, 64, 5, &e);
  g_assert_nonnull (d);
  WeftTrainer *t = weft_trainer_new (g, &c, &e);
  g_assert_nonnull (t);
  WeftGradientShare rows[16];
  int n = weft_trainer_gradient_share (t, d, rows, 16, &e);
  g_assert_cmpint (n, ==, 5);   /* trunk_1, trunk_2, age, income, gender */
  const char *heads[3] = { "age", "income", "gender" };
  for (int j = 0; j < 3; j++)
    {
      const WeftGradientShare *r = find_row (rows, n, heads[j]);
      g_assert_cmpint (r->n_heads, ==, 3);
      for (int k = 0; k < 3; k++)
        if (k == j)
          g_assert_cmpfloat (r->norm[k], >, 0);
        else
          g_assert_cmpfloat (r->norm[k], ==, 0);
    }
  const WeftGradientShare *trunk = find_row (rows, n, "trunk_1");
  for (int k = 0; k < 3; k++)
    g_assert_cmpfloat (trunk->norm[k], >, 0);
  weft_trainer_free (t);
  weft_dataset_free (d);
  weft_graph_free (g);
}

/* A head's norm on its own layer equals the norm of the full (all heads) gradient of that
 * layer, computed here independently through the plan. */
static void
test_matches_full_gradient_on_head_layer (void)
{
  WeftGraph *g = tg_three_heads ();
  WeftTrainConfig c = small_config ();
  WeftError e = { 0 };
  WeftDataset *d = weft_synthetic_make ("three-heads", g, 64, 5, &e);
  WeftTrainer *t = weft_trainer_new (g, &c, &e);
  WeftGradientShare rows[16];
  int n = weft_trainer_gradient_share (t, d, rows, 16, &e);
  g_assert_cmpint (n, ==, 5);

  WeftPlan *p = weft_trainer_get_plan (t);
  int bs = c.batch_size;
  for (int i = 0; i < weft_plan_n_inputs (p); i++)
    {
      const WeftArray *a = weft_dataset_find (d, weft_plan_input_name (p, i));
      memcpy (weft_plan_input (p, i), a->data,
              (size_t) bs * weft_shape_size (&a->shape) * sizeof (float));
    }
  weft_plan_forward (p, bs, false);
  for (int j = 0; j < weft_plan_n_outputs (p); j++)
    {
      const WeftHead *h = weft_plan_head (p, j);
      /* the trainer hands softmax and sigmoid heads' pre-activation gradients over
       * (p - target); the reference goes through the probabilities' gradient and the
       * activation's backward */
      weft_plan_set_output_preact_grad (p, j, false);
      const WeftShape *s = weft_plan_output_shape (p, j);
      const WeftArray *a = weft_dataset_find (d, weft_plan_output_name (p, j));
      WeftLossSpec spec = { .loss = h->loss, .from_logits = h->from_logits,
                            .huber_delta = 1.0f };
      int width = (int) weft_shape_size (s);
      float *grad = weft_plan_output_grad (p, j);
      memset (grad, 0, (size_t) bs * width * sizeof (float));
      weft_loss_compute (&spec, weft_plan_output (p, j), a->data, bs, width,
                         s->dims[s->rank - 1], grad, h->weight);
    }
  weft_plan_backward (p, bs);
  int n_slices = 0;
  const WeftParamSlice *slices = weft_plan_slices (p, &n_slices);
  const float *grads = weft_plan_grads (p, NULL);
  const char *heads[3] = { "age", "income", "gender" };
  for (int j = 0; j < 3; j++)
    {
      double sq = 0;
      for (int s = 0; s < n_slices; s++)
        if (g_str_has_prefix (weft_plan_slice_name (p, s), heads[j])
            && weft_plan_slice_name (p, s)[strlen (heads[j])] == '/')
          for (size_t i = 0; i < slices[s].count; i++)
            sq += (double) grads[slices[s].offset + i] * grads[slices[s].offset + i];
      double want = sqrt (sq);
      double got = find_row (rows, n, heads[j])->norm[j];
      g_test_message ("%s: share norm %g, full gradient norm %g", heads[j], got, want);
      g_assert_cmpfloat (fabs (got - want), <=, REL_TOL * want);
    }
  weft_trainer_free (t);
  weft_dataset_free (d);
  weft_graph_free (g);
}

/* The norms carry the loss weights: doubling one head's weight doubles its norm only. */
static void
test_scales_with_loss_weight (void)
{
  WeftGradientShare a[16], b[16];
  for (int pass = 0; pass < 2; pass++)
    {
      WeftGraph *g = tg_three_heads ();
      if (pass == 1)
        {
          WeftId m = weft_graph_get_main_model (g);
          WeftHead h = *weft_graph_model_output (g, m, 1);
          h.weight *= 2;
          g_assert_true (weft_graph_model_set_head (g, m, 1, &h));
        }
      WeftTrainConfig c = small_config ();
      WeftError e = { 0 };
      WeftDataset *d = weft_synthetic_make ("three-heads", g, 64, 5, &e);
      WeftTrainer *t = weft_trainer_new (g, &c, &e);
      g_assert_cmpint (weft_trainer_gradient_share (t, d, pass ? b : a, 16, &e), ==, 5);
      weft_trainer_free (t);
      weft_dataset_free (d);
      weft_graph_free (g);
    }
  const WeftGradientShare *ra = find_row (a, 5, "trunk_2"), *rb = find_row (b, 5, "trunk_2");
  g_assert_cmpfloat (fabs (rb->norm[1] - 2 * ra->norm[1]), <=, REL_TOL * ra->norm[1]);
  g_assert_cmpfloat (fabs (rb->norm[0] - ra->norm[0]), <=, REL_TOL * ra->norm[0]);
  g_assert_cmpfloat (fabs (rb->norm[2] - ra->norm[2]), <=, REL_TOL * ra->norm[2]);
}

typedef struct { GArray *totals; } Log;

static bool
log_step (const WeftStepReport *r, void *data)
{
  g_array_append_val (((Log *) data)->totals, r->total);
  return true;
}

/* Calling it between epochs changes nothing in training: same numbers as without. */
static void
test_leaves_training_unchanged (void)
{
  GArray *totals[2];
  for (int pass = 0; pass < 2; pass++)
    {
      WeftGraph *g = tg_three_heads ();
      WeftTrainConfig c = small_config ();
      WeftError e = { 0 };
      WeftDataset *d = weft_synthetic_make ("three-heads", g, 128, 5, &e);
      WeftTrainer *t = weft_trainer_new (g, &c, &e);
      Log log = { g_array_new (FALSE, FALSE, sizeof (double)) };
      WeftTrainCallbacks cb = { log_step, NULL, &log, NULL };
      for (int epoch = 0; epoch < 3; epoch++)
        {
          g_assert_true (weft_trainer_fit (t, d, &cb, &e));
          if (pass == 1)
            {
              WeftGradientShare rows[8];
              g_assert_cmpint (weft_trainer_gradient_share (t, d, rows, 8, &e), ==, 5);
            }
        }
      totals[pass] = log.totals;
      weft_trainer_free (t);
      weft_dataset_free (d);
      weft_graph_free (g);
    }
  g_assert_cmpuint (totals[0]->len, ==, 24);
  g_assert_cmpmem (totals[0]->data, totals[0]->len * sizeof (double),
                   totals[1]->data, totals[1]->len * sizeof (double));
  g_array_unref (totals[0]);
  g_array_unref (totals[1]);
}

/* Rows beyond max_rows are counted but not written; bad data is an error, not a crash. */
static void
test_truncates_and_reports_errors (void)
{
  WeftGraph *g = tg_three_heads ();
  WeftTrainConfig c = small_config ();
  WeftError e = { 0 };
  WeftDataset *d = weft_synthetic_make ("three-heads", g, 64, 5, &e);
  WeftTrainer *t = weft_trainer_new (g, &c, &e);
  WeftGradientShare rows[3];
  memset (rows, 0x5a, sizeof rows);
  WeftGradientShare guard = rows[2];
  g_assert_cmpint (weft_trainer_gradient_share (t, d, rows, 2, &e), ==, 5);
  g_assert_cmpmem (&rows[2], sizeof guard, &guard, sizeof guard);
  g_assert_cmpstr (rows[0].layer, ==, "trunk_1");

  WeftDataset *wrong = weft_dataset_new (8);
  WeftShape s = { .rank = 1, .dims = { 12 } };
  weft_dataset_add (wrong, "profile", &s, NULL);
  g_assert_cmpint (weft_trainer_gradient_share (t, wrong, rows, 3, &e), ==, -1);
  g_assert_cmpint (e.code, ==, WEFT_ERROR_DATA);
  g_assert_nonnull (strstr (e.message, "posts"));
  weft_dataset_free (wrong);
  weft_trainer_free (t);
  weft_dataset_free (d);
  weft_graph_free (g);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/engine/train/gradient-share/head-layers-get-only-their-head",
                   test_head_layers_get_only_their_head);
  g_test_add_func ("/engine/train/gradient-share/matches-full-gradient-on-head-layer",
                   test_matches_full_gradient_on_head_layer);
  g_test_add_func ("/engine/train/gradient-share/scales-with-loss-weight",
                   test_scales_with_loss_weight);
  g_test_add_func ("/engine/train/gradient-share/leaves-training-unchanged",
                   test_leaves_training_unchanged);
  g_test_add_func ("/engine/train/gradient-share/truncates-and-reports-errors",
                   test_truncates_and_reports_errors);
  return g_test_run ();
}
