/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Tests of WeftTrainingSession: worker-thread training reported to the main loop. Needs no
 * display. */
#include "weft-training-session.h"
#include "weft-test-graphs.h"

#include <glib.h>
#include <math.h>
#include <string.h>

typedef struct
{
  gboolean  done;
  gboolean  ok;
  GError   *error;
  int       progress;
  int       epochs;
  char     *finished;
  int       finished_calls;
  int       stop_after_epochs;
  WeftTrainingSession *session;
} Waiter;

static void
done_cb (GObject *source, GAsyncResult *result, gpointer data)
{
  Waiter *w = data;
  w->ok = weft_training_session_start_finish (WEFT_TRAINING_SESSION (source), result, &w->error);
  w->done = TRUE;
}

static void
progress_cb (WeftTrainingSession *s, Waiter *w)
{
  w->progress++;
}

static void
epoch_cb (WeftTrainingSession *s, int epoch, Waiter *w)
{
  w->epochs++;
  if (w->stop_after_epochs > 0 && w->epochs == w->stop_after_epochs)
    weft_training_session_stop (s);
}

static void
finished_cb (WeftTrainingSession *s, const char *text, Waiter *w)
{
  g_free (w->finished);
  w->finished = g_strdup (text);
  w->finished_calls++;
}

static gboolean
timeout_cb (gpointer data)
{
  g_error ("training did not finish in time");
  return G_SOURCE_REMOVE;
}

static void
wait_done (Waiter *w)
{
  guint id = g_timeout_add_seconds (120, timeout_cb, NULL);
  while (!w->done)
    g_main_context_iteration (NULL, TRUE);
  g_source_remove (id);
}

static void
waiter_connect (Waiter *w, WeftTrainingSession *s)
{
  memset (w, 0, sizeof *w);
  w->session = s;
  g_signal_connect (s, "progress", G_CALLBACK (progress_cb), w);
  g_signal_connect (s, "epoch", G_CALLBACK (epoch_cb), w);
  g_signal_connect (s, "finished", G_CALLBACK (finished_cb), w);
}

static void
waiter_reset (Waiter *w)
{
  w->done = FALSE;
  g_clear_error (&w->error);
  g_clear_pointer (&w->finished, g_free);
  w->finished_calls = 0;
  w->epochs = 0;
  w->progress = 0;
}

static WeftTrainConfig
config (int epochs)
{
  WeftTrainConfig c;
  weft_train_config_defaults (&c);
  weft_optim_config_defaults (WEFT_OPTIM_ADAM, &c.optimizer);
  c.epochs = epochs;
  c.batch_size = 32;
  c.validation_split = 0.25f;
  c.seed = 9;
  c.threads = 1;
  return c;
}

static WeftHistory *
history_for (WeftGraph *g)
{
  WeftId m = weft_graph_get_main_model (g);
  int n = weft_graph_model_n_outputs (g, m);
  const char *names[WEFT_MAX_HEADS];
  for (int j = 0; j < n; j++)
    names[j] = weft_graph_model_output_name (g, m, j);
  return weft_history_new (n, names, NULL, NULL);
}

/* Every step and epoch reaches the history on the main thread; reports are coalesced. */
static void
test_trains_and_fills_history (void)
{
  WeftGraph *g = tg_three_heads ();
  WeftError e = { 0 };
  WeftDataset *d = weft_synthetic_make ("three-heads", g, 512, 3, &e);
  WeftHistory *h = history_for (g);
  g_autoptr(WeftTrainingSession) s = weft_training_session_new ();
  Waiter w;
  waiter_connect (&w, s);
  weft_training_session_set_history (s, h);
  WeftTrainConfig c = config (3);
  weft_training_session_start_async (s, g, &c, d, NULL, done_cb, &w);
  g_assert_true (weft_training_session_get_running (s));
  wait_done (&w);
  g_assert_no_error (w.error);
  g_assert_true (w.ok);
  g_assert_false (weft_training_session_get_running (s));
  g_assert_true (weft_training_session_get_can_continue (s));
  g_assert_cmpint (w.finished_calls, ==, 1);
  g_assert_null (w.finished);
  g_assert_cmpint (w.epochs, ==, 3);
  /* 384 training samples / 32 = 12 batches per epoch */
  g_assert_cmpuint (weft_history_n_steps (h), ==, 36);
  g_assert_cmpuint (weft_history_n_epochs (h), ==, 3);
  g_assert_cmpint (w.progress, >=, 1);
  g_assert_cmpint (w.progress, <=, 36 + 3);
  WeftHistoryEpoch row;
  g_assert_true (weft_history_get_epoch (h, 2, &row));
  g_assert_true (row.has_validation);
  g_assert_true (isfinite (row.val_total));
  WeftTrainingProgress p;
  weft_training_session_get_progress (s, &p);
  g_assert_cmpint (p.epochs_this_run, ==, 3);
  g_assert_cmpint (p.n_batches, ==, 12);
  g_assert_cmpfloat (p.samples_per_second, >, 0);
  g_assert_cmpfloat (p.eta, ==, 0);
  /* gradient share of the last epoch: the trunk gets gradient from all three heads */
  int n_rows = 0, epoch = -1;
  const WeftGradientShare *share = weft_training_session_get_gradient_share (s, &n_rows, &epoch);
  g_assert_cmpint (n_rows, ==, 5);
  g_assert_cmpint (epoch, ==, 2);
  g_assert_cmpstr (share[0].layer, ==, "trunk_1");
  for (int j = 0; j < 3; j++)
    g_assert_cmpfloat (share[0].norm[j], >, 0);
  g_clear_pointer (&w.finished, g_free);
  weft_history_free (h);
  weft_graph_free (g);
}

/* Stop between batches, continue with the same weights: steps keep counting, one run. */
static void
test_stop_and_continue (void)
{
  WeftGraph *g = tg_three_heads ();
  WeftError e = { 0 };
  WeftDataset *d = weft_synthetic_make ("three-heads", g, 512, 3, &e);
  WeftHistory *h = history_for (g);
  g_autoptr(WeftTrainingSession) s = weft_training_session_new ();
  Waiter w;
  waiter_connect (&w, s);
  weft_training_session_set_history (s, h);
  WeftTrainConfig c = config (1000);
  w.stop_after_epochs = 2;
  weft_training_session_start_async (s, g, &c, d, NULL, done_cb, &w);
  wait_done (&w);
  g_assert_false (w.ok);
  g_assert_error (w.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpstr (w.finished, ==, "Training stopped");
  g_assert_cmpint (w.epochs, >=, 2);
  g_assert_cmpint (w.epochs, <, 1000);
  g_assert_true (weft_training_session_get_can_continue (s));
  size_t steps_before = weft_history_n_steps (h);
  int epochs_before = weft_training_session_get_epochs_done (s);

  waiter_reset (&w);
  w.stop_after_epochs = 1;
  weft_training_session_continue_async (s, NULL, done_cb, &w);
  wait_done (&w);
  g_assert_error (w.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpint (weft_training_session_get_epochs_done (s), >, epochs_before);
  g_assert_cmpuint (weft_history_n_steps (h), >, steps_before);
  g_assert_cmpint (weft_history_n_runs (h), ==, 1);
  WeftHistoryStep a, b;
  g_assert_true (weft_history_get_step (h, steps_before - 1, &a));
  g_assert_true (weft_history_get_step (h, steps_before, &b));
  g_assert_cmpint (b.step, ==, a.step + 1);
  g_clear_error (&w.error);
  g_clear_pointer (&w.finished, g_free);
  weft_history_free (h);
  weft_graph_free (g);
}

/* A binding error is reported at once, naming the input; nothing runs. */
static void
test_bad_data_is_reported (void)
{
  WeftGraph *g = tg_three_heads ();
  WeftDataset *d = weft_dataset_new (16);
  WeftShape shape = { .rank = 1, .dims = { 7 } };
  weft_dataset_add (d, "profile", &shape, NULL);
  g_autoptr(WeftTrainingSession) s = weft_training_session_new ();
  Waiter w;
  waiter_connect (&w, s);
  WeftTrainConfig c = config (2);
  weft_training_session_start_async (s, g, &c, d, NULL, done_cb, &w);
  wait_done (&w);
  g_assert_false (w.ok);
  g_assert_error (w.error, WEFT_TRAINING_SESSION_ERROR, WEFT_ERROR_DATA);
  g_assert_nonnull (strstr (w.error->message, "profile"));
  g_assert_nonnull (strstr (w.finished, "profile"));
  g_assert_false (weft_training_session_get_can_continue (s));
  g_clear_error (&w.error);
  g_clear_pointer (&w.finished, g_free);
  weft_graph_free (g);
}

/* A diverging run stops with the engine's sentence (head and layer) and keeps the weights
 * of the last good epoch, which can still be stored. */
static void
test_nan_stops_with_reason (void)
{
  WeftGraph *g = tg_three_heads ();
  WeftError e = { 0 };
  WeftDataset *d = weft_synthetic_make ("three-heads", g, 256, 3, &e);
  g_autoptr(WeftTrainingSession) s = weft_training_session_new ();
  Waiter w;
  waiter_connect (&w, s);
  WeftTrainConfig c = config (50);
  weft_optim_config_defaults (WEFT_OPTIM_SGD, &c.optimizer);
  c.optimizer.learning_rate = 1e6f;
  weft_training_session_start_async (s, g, &c, d, NULL, done_cb, &w);
  wait_done (&w);
  g_assert_false (w.ok);
  g_assert_error (w.error, WEFT_TRAINING_SESSION_ERROR, WEFT_ERROR_NOT_FINITE);
  g_test_message ("%s", w.finished);
  g_assert_nonnull (strstr (w.finished, "head '"));
  g_assert_nonnull (strstr (w.finished, "last good epoch"));
  g_assert_true (weft_training_session_get_can_continue (s));
  g_autoptr(GError) error = NULL;
  g_assert_true (weft_training_session_store_weights (s, g, FALSE, &error));
  g_clear_error (&w.error);
  g_clear_pointer (&w.finished, g_free);
  weft_graph_free (g);
}

/* Weights go back only into an unchanged graph, unless forced. */
static void
test_store_weights_checks_serial (void)
{
  WeftGraph *g = tg_three_heads ();
  WeftError e = { 0 };
  WeftDataset *d = weft_synthetic_make ("three-heads", g, 256, 3, &e);
  g_autoptr(WeftTrainingSession) s = weft_training_session_new ();
  Waiter w;
  waiter_connect (&w, s);
  WeftTrainConfig c = config (1);
  g_autoptr(GError) error = NULL;
  g_assert_false (weft_training_session_store_weights (s, g, FALSE, &error));
  g_assert_error (error, WEFT_TRAINING_SESSION_ERROR, WEFT_TRAINING_SESSION_ERROR_NO_RUN);
  g_clear_error (&error);
  weft_training_session_start_async (s, g, &c, d, NULL, done_cb, &w);
  wait_done (&w);
  g_assert_true (w.ok);

  WeftGraph *edited = weft_graph_dup (g);
  WeftId trunk = weft_graph_find (edited, "trunk_1");
  g_assert_true (weft_graph_layer_set_trainable (edited, trunk, false));
  g_assert_false (weft_training_session_store_weights (s, edited, FALSE, &error));
  g_assert_error (error, WEFT_TRAINING_SESSION_ERROR, WEFT_TRAINING_SESSION_ERROR_MODEL_CHANGED);
  g_clear_error (&error);

  weft_graph_analyse (g);
  int n = 0;
  const WeftWeight *before = weft_graph_layer_weights (g, weft_graph_find (g, "age"), &n);
  float kernel0 = before[0].data != NULL ? before[0].data[0] : NAN;
  g_assert_true (weft_training_session_store_weights (s, g, FALSE, &error));
  g_assert_no_error (error);
  const WeftWeight *after = weft_graph_layer_weights (g, weft_graph_find (g, "age"), &n);
  g_assert_nonnull (after[0].data);
  g_assert_true (kernel0 != after[0].data[0]);

  /* forced into the edited copy: the same trained numbers */
  weft_graph_analyse (edited);
  g_assert_true (weft_training_session_store_weights (s, edited, TRUE, &error));
  const WeftWeight *forced = weft_graph_layer_weights (edited, weft_graph_find (edited, "age"), &n);
  g_assert_cmpmem (after[0].data, sizeof (float) * 32, forced[0].data, sizeof (float) * 32);
  weft_graph_free (edited);
  weft_graph_free (g);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/ui/training-session/trains-and-fills-history",
                   test_trains_and_fills_history);
  g_test_add_func ("/ui/training-session/stop-and-continue", test_stop_and_continue);
  g_test_add_func ("/ui/training-session/bad-data-is-reported", test_bad_data_is_reported);
  g_test_add_func ("/ui/training-session/nan-stops-with-reason", test_nan_stops_with_reason);
  g_test_add_func ("/ui/training-session/store-weights-checks-serial",
                   test_store_weights_checks_serial);
  return g_test_run ();
}
