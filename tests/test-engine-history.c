/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "weft-history.h"

#include <glib.h>
#include <math.h>

static const char *const head_names[3] = { "age", "income", "gender" };
static const float loss_weights[3] = { 0.25f, 1.0f, 10.0f };
static const char *const metric_names[3] = { "mae", "accuracy", NULL };

static WeftHistory *
new_three_heads (void)
{
  WeftHistory *h = weft_history_new (3, head_names, loss_weights, metric_names);

  g_assert_nonnull (h);
  return h;
}

static WeftStepReport
make_step (int64_t step, int epoch, int batch)
{
  WeftStepReport r = { 0 };

  r.epoch = epoch;
  r.batch = batch;
  r.n_batches = 10;
  r.step = step;
  r.n_heads = 3;
  for (int j = 0; j < 3; j++)
    {
      r.loss[j] = 1.0 + j + 0.001 * (double) step;
      r.metric[j] = j == 2 ? NAN : 0.5 + 0.1 * j;
      r.total += loss_weights[j] * r.loss[j];
    }
  r.samples_seen = 32 * (batch + 1);
  return r;
}

static WeftEpochReport
make_epoch (int epoch, bool validation)
{
  WeftEpochReport r = { 0 };

  r.epoch = epoch;
  r.n_heads = 3;
  for (int j = 0; j < 3; j++)
    {
      r.loss[j] = 2.0 + j - 0.1 * epoch;
      r.metric[j] = 0.25 * j;
      r.val_loss[j] = 3.0 + j;
      r.val_metric[j] = 0.125 * j;
      r.total += loss_weights[j] * r.loss[j];
    }
  r.has_validation = validation;
  r.val_total = validation ? 42.0 : 99.0;
  r.seconds = 1.5 + epoch;
  return r;
}

static void
test_history_new_rejects_bad_arguments (void)
{
  const char *const empty_name[1] = { "" };
  const char *const null_name[2] = { "a", NULL };

  g_assert_null (weft_history_new (0, head_names, NULL, NULL));
  g_assert_null (weft_history_new (-1, head_names, NULL, NULL));
  g_assert_null (weft_history_new (WEFT_MAX_HEADS + 1, head_names, NULL, NULL));
  g_assert_null (weft_history_new (1, NULL, NULL, NULL));
  g_assert_null (weft_history_new (1, empty_name, NULL, NULL));
  g_assert_null (weft_history_new (2, null_name, NULL, NULL));
  weft_history_free (NULL);
}

static void
test_history_new_copies_heads_and_defaults (void)
{
  char name[8] = "out";
  const char *const names[1] = { name };
  WeftHistory *h = weft_history_new (1, names, NULL, NULL);
  WeftHistory *h3 = new_three_heads ();

  name[0] = 'X';
  g_assert_cmpstr (weft_history_head_name (h, 0), ==, "out");
  g_assert_cmpfloat (weft_history_loss_weight (h, 0), ==, 1.0f);
  g_assert_null (weft_history_metric_name (h, 0));
  g_assert_cmpint (weft_history_n_heads (h3), ==, 3);
  g_assert_cmpstr (weft_history_head_name (h3, 1), ==, "income");
  g_assert_cmpfloat (weft_history_loss_weight (h3, 2), ==, 10.0f);
  g_assert_cmpstr (weft_history_metric_name (h3, 0), ==, "mae");
  g_assert_cmpstr (weft_history_metric_name (h3, 1), ==, "accuracy");
  g_assert_null (weft_history_metric_name (h3, 2));
  g_assert_cmpint (weft_history_n_runs (h3), ==, 1);
  g_assert_cmpuint (weft_history_n_steps (h3), ==, 0);
  g_assert_cmpuint (weft_history_n_epochs (h3), ==, 0);
  weft_history_free (h);
  weft_history_free (h3);
}

static void
test_history_add_step_stores_every_field (void)
{
  WeftHistory *h = new_three_heads ();
  WeftStepReport r = make_step (7, 1, 2);
  WeftHistoryStep row;

  g_assert_true (weft_history_add_step (h, &r));
  g_assert_cmpuint (weft_history_n_steps (h), ==, 1);
  g_assert_true (weft_history_get_step (h, 0, &row));
  g_assert_false (weft_history_get_step (h, 1, &row));
  g_assert_true (weft_history_get_step (h, 0, &row));
  g_assert_cmpint (row.run, ==, 0);
  g_assert_cmpint (row.step, ==, 7);
  g_assert_cmpint (row.epoch, ==, 1);
  g_assert_cmpint (row.batch, ==, 2);
  g_assert_cmpint (row.samples_seen, ==, 96);
  g_assert_cmpfloat (row.total, ==, r.total);
  for (int j = 0; j < 3; j++)
    {
      g_assert_cmpfloat (row.loss[j], ==, r.loss[j]);
      if (j == 2)
        g_assert_true (isnan (row.metric[j]));
      else
        g_assert_cmpfloat (row.metric[j], ==, r.metric[j]);
    }
  weft_history_free (h);
}

static void
test_history_add_epoch_without_validation_stores_nan (void)
{
  WeftHistory *h = new_three_heads ();
  WeftEpochReport with = make_epoch (0, true);
  WeftEpochReport without = make_epoch (1, false);
  WeftHistoryEpoch row;

  g_assert_true (weft_history_add_epoch (h, &with));
  g_assert_true (weft_history_add_epoch (h, &without));
  g_assert_cmpuint (weft_history_n_epochs (h), ==, 2);

  g_assert_true (weft_history_get_epoch (h, 0, &row));
  g_assert_true (row.has_validation);
  g_assert_cmpfloat (row.val_total, ==, 42.0);
  g_assert_cmpfloat (row.seconds, ==, 1.5);
  g_assert_cmpfloat (row.total, ==, with.total);
  for (int j = 0; j < 3; j++)
    {
      g_assert_cmpfloat (row.loss[j], ==, with.loss[j]);
      g_assert_cmpfloat (row.metric[j], ==, with.metric[j]);
      g_assert_cmpfloat (row.val_loss[j], ==, with.val_loss[j]);
      g_assert_cmpfloat (row.val_metric[j], ==, with.val_metric[j]);
    }

  g_assert_true (weft_history_get_epoch (h, 1, &row));
  g_assert_false (row.has_validation);
  g_assert_cmpint (row.epoch, ==, 1);
  g_assert_true (isnan (row.val_total));
  for (int j = 0; j < 3; j++)
    {
      g_assert_cmpfloat (row.loss[j], ==, without.loss[j]);
      g_assert_true (isnan (row.val_loss[j]));
      g_assert_true (isnan (row.val_metric[j]));
    }
  g_assert_false (weft_history_get_epoch (h, 2, &row));
  weft_history_free (h);
}

static void
test_history_add_rejects_head_count_mismatch (void)
{
  WeftHistory *h = new_three_heads ();
  WeftStepReport s = make_step (0, 0, 0);
  WeftEpochReport e = make_epoch (0, false);

  s.n_heads = 2;
  e.n_heads = 4;
  g_assert_false (weft_history_add_step (h, &s));
  g_assert_false (weft_history_add_epoch (h, &e));
  g_assert_cmpuint (weft_history_n_steps (h), ==, 0);
  g_assert_cmpuint (weft_history_n_epochs (h), ==, 0);
  weft_history_free (h);
}

/* 200k rows: every row must read back exactly, and geometric growth means the row storage
 * moves at most a few dozen times (linear growth would move it on most appends). */
#define MANY_STEPS    200000
#define MAX_MOVES     40

static void
test_history_append_many_rows_grows_geometrically (void)
{
  WeftHistory *h = new_three_heads ();
  const double *last_base = NULL;
  int moves = 0;
  WeftHistoryStep row;

  for (int64_t i = 0; i < MANY_STEPS; i++)
    {
      WeftStepReport r = make_step (i, (int) (i / 100), (int) (i % 100));

      g_assert_true (weft_history_add_step (h, &r));
      g_assert_true (weft_history_get_step (h, 0, &row));
      if (row.loss != last_base)
        {
          moves++;
          last_base = row.loss;
        }
    }
  g_assert_cmpuint (weft_history_n_steps (h), ==, MANY_STEPS);
  g_assert_cmpint (moves, <=, MAX_MOVES);
  for (size_t i = 0; i < MANY_STEPS; i += 997)
    {
      g_assert_true (weft_history_get_step (h, i, &row));
      g_assert_cmpint (row.step, ==, (int64_t) i);
      g_assert_cmpfloat (row.loss[1], ==, 2.0 + 0.001 * (double) i);
    }
  weft_history_free (h);
}

static void
test_history_runs_new_run_starts_fresh_and_keeps_previous (void)
{
  WeftHistory *h = new_three_heads ();
  size_t first, count;

  /* run 0: 2 epochs of 3 steps, continued once (same run) with a 3rd epoch */
  for (int e = 0; e < 3; e++)
    {
      for (int b = 0; b < 3; b++)
        {
          WeftStepReport r = make_step (e * 3 + b, e, b);
          g_assert_true (weft_history_add_step (h, &r));
        }
      WeftEpochReport er = make_epoch (e, false);
      g_assert_true (weft_history_add_epoch (h, &er));
    }
  g_assert_cmpint (weft_history_current_run (h), ==, 0);

  g_assert_cmpint (weft_history_begin_run (h), ==, 1);
  g_assert_cmpint (weft_history_begin_run (h), ==, 1);  /* run 1 still empty: no-op */
  g_assert_cmpint (weft_history_n_runs (h), ==, 2);
  for (int b = 0; b < 2; b++)
    {
      WeftStepReport r = make_step (b, 0, b);
      g_assert_true (weft_history_add_step (h, &r));
    }
  WeftEpochReport er = make_epoch (0, true);
  g_assert_true (weft_history_add_epoch (h, &er));

  weft_history_run_steps (h, 0, &first, &count);
  g_assert_cmpuint (first, ==, 0);
  g_assert_cmpuint (count, ==, 9);
  weft_history_run_steps (h, 1, &first, &count);
  g_assert_cmpuint (first, ==, 9);
  g_assert_cmpuint (count, ==, 2);
  weft_history_run_epochs (h, 0, &first, &count);
  g_assert_cmpuint (first, ==, 0);
  g_assert_cmpuint (count, ==, 3);
  weft_history_run_epochs (h, 1, &first, &count);
  g_assert_cmpuint (first, ==, 3);
  g_assert_cmpuint (count, ==, 1);
  weft_history_run_epochs (h, 5, &first, &count);
  g_assert_cmpuint (count, ==, 0);

  WeftHistoryStep row;
  g_assert_true (weft_history_get_step (h, 9, &row));
  g_assert_cmpint (row.run, ==, 1);
  g_assert_cmpint (row.step, ==, 0);
  weft_history_free (h);
}

static void
test_history_append_rejects_decreasing_run (void)
{
  WeftHistory *h = new_three_heads ();
  double loss[3] = { 1, 2, 3 };
  WeftHistoryStep s = { .run = 2, .step = 0, .loss = loss };
  WeftHistoryEpoch e = { .run = 2, .loss = loss };
  WeftHistoryEpoch got;

  g_assert_true (weft_history_append_epoch (h, &e));
  g_assert_cmpint (weft_history_current_run (h), ==, 2);
  e.run = 1;
  g_assert_false (weft_history_append_epoch (h, &e));   /* run 1 after run 2 */
  e.run = -1;
  g_assert_false (weft_history_append_epoch (h, &e));
  g_assert_cmpuint (weft_history_n_epochs (h), ==, 1);
  /* the step table is independent: a loader may fill it after the epochs */
  s.run = 0;
  g_assert_true (weft_history_append_step (h, &s));
  s.run = 2;
  g_assert_true (weft_history_append_step (h, &s));
  s.run = 1;
  g_assert_false (weft_history_append_step (h, &s));
  g_assert_cmpint (weft_history_current_run (h), ==, 2);
  g_assert_true (weft_history_get_epoch (h, 0, &got));
  g_assert_true (isnan (got.metric[0]));               /* NULL metric reads as NaN */
  g_assert_true (isnan (got.val_loss[2]));
  weft_history_free (h);
}

static void
test_history_clear_resets_rows_and_runs (void)
{
  WeftHistory *h = new_three_heads ();
  WeftStepReport r = make_step (0, 0, 0);
  WeftEpochReport e = make_epoch (0, true);
  WeftHistoryStep row;

  g_assert_true (weft_history_add_step (h, &r));
  weft_history_begin_run (h);
  g_assert_true (weft_history_add_epoch (h, &e));
  g_assert_cmpint (weft_history_n_runs (h), ==, 2);
  weft_history_clear (h);
  g_assert_cmpuint (weft_history_n_steps (h), ==, 0);
  g_assert_cmpuint (weft_history_n_epochs (h), ==, 0);
  g_assert_cmpint (weft_history_n_runs (h), ==, 1);
  g_assert_cmpstr (weft_history_head_name (h, 2), ==, "gender");
  g_assert_true (weft_history_add_step (h, &r));
  g_assert_true (weft_history_get_step (h, 0, &row));
  g_assert_cmpint (row.run, ==, 0);
  weft_history_free (h);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/engine/history/new/rejects-bad-arguments",
                   test_history_new_rejects_bad_arguments);
  g_test_add_func ("/engine/history/new/copies-heads-and-defaults",
                   test_history_new_copies_heads_and_defaults);
  g_test_add_func ("/engine/history/add-step/stores-every-field",
                   test_history_add_step_stores_every_field);
  g_test_add_func ("/engine/history/add-epoch/without-validation-stores-nan",
                   test_history_add_epoch_without_validation_stores_nan);
  g_test_add_func ("/engine/history/add/rejects-head-count-mismatch",
                   test_history_add_rejects_head_count_mismatch);
  g_test_add_func ("/engine/history/append/many-rows-grow-geometrically",
                   test_history_append_many_rows_grows_geometrically);
  g_test_add_func ("/engine/history/runs/new-run-starts-fresh-and-keeps-previous",
                   test_history_runs_new_run_starts_fresh_and_keeps_previous);
  g_test_add_func ("/engine/history/append/rejects-decreasing-run",
                   test_history_append_rejects_decreasing_run);
  g_test_add_func ("/engine/history/clear/resets-rows-and-runs",
                   test_history_clear_resets_rows_and_runs);
  return g_test_run ();
}
