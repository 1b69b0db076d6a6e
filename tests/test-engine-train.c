/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Training: convergence on held-out synthetic data, per-head reports, determinism, NaN
 * handling, cancellation, validation split, continuing, data binding errors. */
#include <math.h>
#include <string.h>

#include "weft-train.h"
#include "weft-test-graphs.h"

typedef struct
{
  int             steps;
  int             epochs;
  int             cancel_at;
  volatile int    cancel;
  WeftStepReport  last_step;
  WeftEpochReport last_epoch;
  double          first_total;
  GArray         *totals;
} Log;

static bool
on_step (const WeftStepReport *r, void *data)
{
  Log *log = data;
  if (log->steps == 0)
    log->first_total = r->total;
  log->steps++;
  log->last_step = *r;
  if (log->totals != NULL)
    g_array_append_val (log->totals, r->total);
  if (log->cancel_at > 0 && log->steps == log->cancel_at)
    log->cancel = 1;
  return true;
}

static void
on_epoch (const WeftEpochReport *r, void *data)
{
  Log *log = data;
  log->epochs++;
  log->last_epoch = *r;
}

static WeftTrainConfig
config (WeftOptimKind kind, float lr, int epochs, int batch)
{
  WeftTrainConfig c;
  weft_train_config_defaults (&c);
  weft_optim_config_defaults (kind, &c.optimizer);
  c.optimizer.learning_rate = lr;
  c.epochs = epochs;
  c.batch_size = batch;
  c.seed = 1;
  c.threads = 1;
  return c;
}

/* trains on `train`, evaluates on `test` (a different seed: held-out data) */
static WeftEpochReport
fit_and_evaluate (WeftGraph *g, const char *set, const WeftTrainConfig *c, int n_train,
                  Log *log)
{
  WeftError e = { 0 };
  WeftDataset *train = weft_synthetic_make (set, g, n_train, 100, &e);
  if (train == NULL)
    g_error ("%s", e.message);
  WeftDataset *test = weft_synthetic_make (set, g, 1000, 999, &e);
  g_assert_nonnull (test);
  WeftTrainer *t = weft_trainer_new (g, c, &e);
  if (t == NULL)
    g_error ("%s", e.message);
  WeftTrainCallbacks cb = { on_step, on_epoch, log, &log->cancel };
  if (!weft_trainer_fit (t, train, &cb, &e))
    g_error ("%s", e.message);
  WeftEpochReport r;
  g_assert_true (weft_trainer_evaluate (t, test, &r, &e));
  weft_trainer_store_weights (t);
  weft_trainer_free (t);
  weft_dataset_free (train);
  weft_dataset_free (test);
  return r;
}

static void
test_mlp_converges (void)
{
  WeftGraph *g = tg_mlp ();
  WeftTrainConfig c = config (WEFT_OPTIM_ADAM, 3e-3f, 12, 32);
  Log log = { 0 };
  WeftEpochReport r = fit_and_evaluate (g, "blobs", &c, 3000, &log);
  g_test_message ("mlp held-out: loss %.4f accuracy %.4f", r.loss[0], r.metric[0]);
  g_assert_cmpint (log.epochs, ==, 12);
  g_assert_cmpint (log.steps, ==, 12 * 94);   /* 3000 / 32 rounded up: last partial batch */
  g_assert_cmpfloat (r.metric[0], >=, 0.90);
  g_assert_cmpfloat (r.loss[0], <, log.first_total);
  weft_graph_free (g);
}

static void
test_three_heads_converge_with_loss_weights (void)
{
  WeftGraph *g = tg_three_heads ();
  WeftTrainConfig c = config (WEFT_OPTIM_ADAM, 3e-3f, 30, 32);
  c.validation_split = 0.2f;
  Log log = { 0 };
  WeftEpochReport r = fit_and_evaluate (g, "three-heads", &c, 4000, &log);
  g_test_message ("three heads held-out: age mae %.2f years, income acc %.3f, gender acc %.3f",
                  r.metric[0], r.metric[1], r.metric[2]);
  g_assert_cmpint (log.last_step.n_heads, ==, 3);
  g_assert_true (log.last_epoch.has_validation);
  g_assert_true (isfinite (log.last_epoch.val_loss[2]));
  /* total = sum of weight x loss, as Keras reports it */
  g_assert_cmpfloat_with_epsilon (log.last_step.total,
                                  0.25 * log.last_step.loss[0] + log.last_step.loss[1]
                                    + 10 * log.last_step.loss[2], 1e-3 * log.last_step.total);
  g_assert_cmpfloat (r.metric[0], <, 3.0);    /* age within 3 years (spread ~14) */
  g_assert_cmpfloat (r.metric[1], >=, 0.60);  /* income class out of 10 */
  g_assert_cmpfloat (r.metric[2], >=, 0.90);  /* gender */
  weft_graph_free (g);
}

static void
test_siamese_converges (void)
{
  WeftGraph *g = weft_graph_new ();
  WeftId m = weft_graph_add_model (g, "siamese", NULL);
  WeftId a = tg_input1 (g, m, "left", 16);
  WeftId b = tg_input1 (g, m, "right", 16);
  WeftId l1, l2;
  WeftId ea = tg_dense (g, m, "shared_1", 32, "relu", a, &l1);
  ea = tg_dense (g, m, "shared_2", 16, NULL, ea, &l2);
  WeftId eb = tg_call (g, m, l1, 1, &b);
  eb = tg_call (g, m, l2, 1, &eb);
  WeftId both[2] = { ea, eb };
  WeftId diff = tg_merge (g, m, "Subtract", "difference", 2, both);
  WeftId sq_in[2] = { diff, diff };
  WeftId sq = tg_merge (g, m, "Multiply", "squared", 2, sq_in);
  WeftId y = tg_dense (g, m, "same", 1, "sigmoid", sq, NULL);
  tg_head (g, m, y, WEFT_LOSS_BINARY_CROSSENTROPY, 1, WEFT_METRIC_BINARY_ACCURACY);
  WeftTrainConfig c = config (WEFT_OPTIM_ADAM, 3e-3f, 15, 32);
  Log log = { 0 };
  WeftEpochReport r = fit_and_evaluate (g, "siamese-pairs", &c, 4000, &log);
  g_test_message ("siamese held-out: loss %.4f accuracy %.4f", r.loss[0], r.metric[0]);
  g_assert_cmpfloat (r.metric[0], >=, 0.90);
  weft_graph_free (g);
}

static void
test_nested_two_views_converges (void)
{
  WeftGraph *g = weft_graph_new ();
  WeftId main_m = weft_graph_add_model (g, "dual_camera", NULL);
  WeftId enc = weft_graph_add_model (g, "camera_encoder", NULL);
  WeftId ex = tg_input1 (g, enc, "image", 24);
  WeftId eh = tg_dense (g, enc, "features_1", 32, "relu", ex, NULL);
  WeftId eo = tg_dense (g, enc, "features_2", 16, "relu", eh, NULL);
  tg_head (g, enc, eo, WEFT_LOSS_NONE, 1, WEFT_METRIC_NONE);
  WeftId l = tg_input1 (g, main_m, "left_camera", 24);
  WeftId r = tg_input1 (g, main_m, "right_camera", 24);
  WeftId cl = tg_call (g, main_m, enc, 1, &l);
  WeftId cr = tg_call (g, main_m, enc, 1, &r);
  WeftId both[2] = { cl, cr };
  WeftId c2 = tg_merge (g, main_m, "Concatenate", "views", 2, both);
  WeftId y = tg_dense (g, main_m, "reading", 1, NULL, c2, NULL);
  tg_head (g, main_m, y, WEFT_LOSS_MSE, 1, WEFT_METRIC_MAE);
  WeftTrainConfig c = config (WEFT_OPTIM_ADAM, 3e-3f, 25, 32);
  Log log = { 0 };
  WeftEpochReport rep = fit_and_evaluate (g, "two-views", &c, 4000, &log);
  g_test_message ("two views held-out: mse %.4f (first batch %.3f)", rep.loss[0],
                  log.first_total);
  /* the target's variance is ~ 2 * sum(u^2) * var(tanh z) ~ 4; a fit explains >= 90% */
  g_assert_cmpfloat (rep.loss[0], <, 0.1 * log.first_total);
  g_assert_cmpfloat (rep.loss[0], <, 0.4);
  weft_graph_free (g);
}

static GArray *
run_totals (uint64_t seed, int threads)
{
  WeftGraph *g = tg_three_heads ();
  WeftTrainConfig c = config (WEFT_OPTIM_ADAM, 1e-3f, 2, 16);
  c.seed = seed;
  c.threads = threads;
  WeftError e = { 0 };
  WeftDataset *d = weft_synthetic_make ("three-heads", g, 256, 5, &e);
  WeftTrainer *t = weft_trainer_new (g, &c, &e);
  Log log = { 0 };
  log.totals = g_array_new (FALSE, FALSE, sizeof (double));
  WeftTrainCallbacks cb = { on_step, on_epoch, &log, NULL };
  g_assert_true (weft_trainer_fit (t, d, &cb, &e));
  weft_trainer_free (t);
  weft_dataset_free (d);
  weft_graph_free (g);
  return log.totals;
}

static void
test_same_seed_same_numbers (void)
{
  GArray *a = run_totals (42, 1), *b = run_totals (42, 1), *c = run_totals (43, 1);
  g_assert_cmpuint (a->len, ==, 32);
  g_assert_cmpmem (a->data, a->len * sizeof (double), b->data, b->len * sizeof (double));
  g_assert_true (memcmp (a->data, c->data, a->len * sizeof (double)) != 0);
  g_array_unref (a);
  g_array_unref (b);
  g_array_unref (c);
}

static void
test_nan_names_head_and_layer_and_keeps_weights (void)
{
  WeftGraph *g = tg_three_heads ();
  WeftTrainConfig c = config (WEFT_OPTIM_SGD, 1e3f, 5, 32);
  WeftError e = { 0 };
  WeftDataset *d = weft_synthetic_make ("three-heads", g, 512, 5, &e);
  WeftTrainer *t = weft_trainer_new (g, &c, &e);
  size_t n = 0;
  float *params = weft_plan_params (weft_trainer_get_plan (t), &n);
  float *before = g_memdup2 (params, n * sizeof (float));
  g_assert_false (weft_trainer_fit (t, d, NULL, &e));
  g_assert_cmpint (e.code, ==, WEFT_ERROR_NOT_FINITE);
  g_test_message ("%s", e.message);
  g_assert_nonnull (strstr (e.message, "head '"));
  g_assert_nonnull (strstr (e.message, "layer '"));
  g_assert_nonnull (strstr (e.message, "epoch 1"));
  /* it failed in the first epoch: the weights are those before it */
  g_assert_cmpmem (before, n * sizeof (float), params, n * sizeof (float));
  for (size_t k = 0; k < n; k++)
    g_assert_true (isfinite (params[k]));
  g_free (before);
  weft_trainer_free (t);
  weft_dataset_free (d);
  weft_graph_free (g);
}

static void
test_nan_in_targets (void)
{
  WeftGraph *g = tg_mlp ();
  WeftTrainConfig c = config (WEFT_OPTIM_ADAM, 1e-3f, 1, 32);
  WeftError e = { 0 };
  WeftDataset *d = weft_synthetic_make ("blobs", g, 64, 5, &e);
  ((float *) weft_dataset_find (d, "digit")->data)[3] = NAN;
  WeftTrainer *t = weft_trainer_new (g, &c, &e);
  g_assert_false (weft_trainer_fit (t, d, NULL, &e));
  g_assert_cmpint (e.code, ==, WEFT_ERROR_NOT_FINITE);
  g_assert_nonnull (strstr (e.message, "'digit'"));
  weft_trainer_free (t);
  weft_dataset_free (d);
  weft_graph_free (g);
}

static void
test_cancel_between_batches (void)
{
  WeftGraph *g = tg_mlp ();
  WeftTrainConfig c = config (WEFT_OPTIM_ADAM, 1e-3f, 3, 32);
  WeftError e = { 0 };
  WeftDataset *d = weft_synthetic_make ("blobs", g, 640, 5, &e);
  WeftTrainer *t = weft_trainer_new (g, &c, &e);
  Log log = { 0 };
  log.cancel_at = 5;
  WeftTrainCallbacks cb = { on_step, on_epoch, &log, &log.cancel };
  g_assert_false (weft_trainer_fit (t, d, &cb, &e));
  g_assert_cmpint (e.code, ==, WEFT_ERROR_CANCELLED);
  g_assert_cmpint (log.steps, ==, 5);
  g_assert_cmpint (weft_trainer_epochs_done (t), ==, 0);
  /* continuing after a cancel works */
  log.cancel = 0;
  log.cancel_at = 0;
  g_assert_true (weft_trainer_fit (t, d, &cb, &e));
  g_assert_cmpint (weft_trainer_epochs_done (t), ==, 3);
  weft_trainer_free (t);
  weft_dataset_free (d);
  weft_graph_free (g);
}

static void
test_validation_split_and_continue (void)
{
  WeftGraph *g = tg_mlp ();
  WeftTrainConfig c = config (WEFT_OPTIM_RMSPROP, 1e-3f, 2, 50);
  c.validation_split = 0.25f;
  WeftError e = { 0 };
  WeftDataset *d = weft_synthetic_make ("blobs", g, 400, 5, &e);
  WeftTrainer *t = weft_trainer_new (g, &c, &e);
  Log log = { 0 };
  WeftTrainCallbacks cb = { on_step, on_epoch, &log, NULL };
  g_assert_true (weft_trainer_fit (t, d, &cb, &e));
  g_assert_cmpint (log.steps, ==, 2 * 6);   /* 300 training rows in batches of 50 */
  g_assert_true (log.last_epoch.has_validation);
  g_assert_cmpint (log.last_epoch.epoch, ==, 1);
  g_assert_true (weft_trainer_fit (t, d, &cb, &e));
  g_assert_cmpint (log.last_epoch.epoch, ==, 3);
  g_assert_cmpint (log.last_step.step, ==, 23);
  weft_trainer_free (t);
  weft_dataset_free (d);
  weft_graph_free (g);
}

static void
test_data_binding_errors (void)
{
  WeftGraph *g = tg_mlp ();
  WeftTrainConfig c = config (WEFT_OPTIM_ADAM, 1e-3f, 1, 32);
  WeftError e = { 0 };
  WeftTrainer *t = weft_trainer_new (g, &c, &e);

  WeftDataset *d = weft_dataset_new (10);
  WeftShape wrong = weft_shape_make (1, 63), ten = weft_shape_make (1, 10);
  weft_dataset_add (d, "digit", &ten, &e);
  g_assert_false (weft_trainer_check_data (t, d, &e));
  g_assert_cmpint (e.code, ==, WEFT_ERROR_DATA);
  g_assert_nonnull (strstr (e.message, "'features'"));
  weft_dataset_add (d, "features", &wrong, &e);
  g_assert_false (weft_trainer_check_data (t, d, &e));
  g_assert_nonnull (strstr (e.message, "'features'"));
  g_assert_nonnull (strstr (e.message, "(None, 64)"));
  g_assert_nonnull (strstr (e.message, "(None, 63)"));
  weft_dataset_free (d);

  d = weft_dataset_new (10);
  WeftShape f64 = weft_shape_make (1, 64), one = weft_shape_make (1, 1);
  weft_dataset_add (d, "features", &f64, &e);
  weft_dataset_add (d, "digit", &one, &e);
  g_assert_false (weft_trainer_check_data (t, d, &e));
  g_assert_nonnull (strstr (e.message, "'digit'"));
  g_assert_nonnull (strstr (e.message, "sparse_categorical_crossentropy"));
  weft_dataset_free (d);
  weft_trainer_free (t);
  weft_graph_free (g);

  /* sparse targets out of range name the head and the sample */
  g = tg_mlp ();
  WeftId m = weft_graph_get_main_model (g);
  WeftHead h = *weft_graph_model_output (g, m, 0);
  h.loss = WEFT_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY;
  h.metric = WEFT_METRIC_SPARSE_CATEGORICAL_ACCURACY;
  weft_graph_model_set_head (g, m, 0, &h);
  t = weft_trainer_new (g, &c, &e);
  d = weft_synthetic_make ("blobs", g, 20, 1, &e);
  g_assert_nonnull (d);
  ((float *) weft_dataset_find (d, "digit")->data)[7] = 12;
  g_assert_false (weft_trainer_check_data (t, d, &e));
  g_assert_nonnull (strstr (e.message, "'digit'"));
  g_assert_nonnull (strstr (e.message, "sample 7"));
  weft_dataset_free (d);
  weft_trainer_free (t);
  weft_graph_free (g);
}

static void
test_invalid_graph_refused (void)
{
  WeftGraph *g = tg_mlp ();
  WeftId m = weft_graph_get_main_model (g);
  WeftHead h = *weft_graph_model_output (g, m, 0);
  h.loss = WEFT_LOSS_NONE;
  weft_graph_model_set_head (g, m, 0, &h);
  WeftTrainConfig c = config (WEFT_OPTIM_ADAM, 1e-3f, 1, 32);
  WeftError e = { 0 };
  g_assert_null (weft_trainer_new (g, &c, &e));
  g_assert_cmpint (e.code, ==, WEFT_ERROR_NO_LOSS);
  c.batch_size = 0;
  g_assert_null (weft_trainer_new (g, &c, &e));
  g_assert_cmpint (e.code, ==, WEFT_ERROR_INVALID);
  weft_graph_free (g);
}

static void
test_predict_matches_plan (void)
{
  WeftGraph *g = tg_three_heads ();
  WeftError e = { 0 };
  WeftDataset *d = weft_synthetic_make ("three-heads", g, 300, 2, &e);
  float *out[3];
  out[0] = g_new (float, 300);
  out[1] = g_new (float, 3000);
  out[2] = g_new (float, 300);
  g_assert_true (weft_predict (g, d, out, 1, &e));
  for (int k = 0; k < 300; k++)
    {
      float s = 0;
      for (int c = 0; c < 10; c++)
        s += out[1][k * 10 + c];
      g_assert_cmpfloat_with_epsilon (s, 1.0, 1e-5);   /* softmax head */
      g_assert_true (out[2][k] > 0 && out[2][k] < 1);  /* sigmoid head */
    }
  /* prediction is deterministic (dropout-free inference) */
  float *again = g_new (float, 300);
  float *out2[3] = { again, g_new (float, 3000), g_new (float, 300) };
  g_assert_true (weft_predict (g, d, out2, 1, &e));
  g_assert_cmpmem (out[0], 300 * sizeof (float), again, 300 * sizeof (float));
  for (int j = 0; j < 3; j++)
    {
      g_free (out[j]);
      g_free (out2[j]);
    }
  weft_dataset_free (d);
  weft_graph_free (g);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/engine/train/mlp/converges", test_mlp_converges);
  g_test_add_func ("/engine/train/three-heads/converge-with-loss-weights",
                   test_three_heads_converge_with_loss_weights);
  g_test_add_func ("/engine/train/siamese/converges", test_siamese_converges);
  g_test_add_func ("/engine/train/nested/two-views-converges", test_nested_two_views_converges);
  g_test_add_func ("/engine/train/determinism/same-seed-same-numbers",
                   test_same_seed_same_numbers);
  g_test_add_func ("/engine/train/nan/names-head-and-layer-and-keeps-weights",
                   test_nan_names_head_and_layer_and_keeps_weights);
  g_test_add_func ("/engine/train/nan/in-targets", test_nan_in_targets);
  g_test_add_func ("/engine/train/cancel/between-batches", test_cancel_between_batches);
  g_test_add_func ("/engine/train/validation-split-and-continue",
                   test_validation_split_and_continue);
  g_test_add_func ("/engine/train/data/binding-errors", test_data_binding_errors);
  g_test_add_func ("/engine/train/invalid-graph-refused", test_invalid_graph_refused);
  g_test_add_func ("/engine/train/predict/matches-plan", test_predict_matches_plan);
  return g_test_run ();
}
