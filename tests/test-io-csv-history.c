/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include "weft-csv-history.h"
#include "weft-safetensors.h"

#include <glib.h>
#include <glib/gstdio.h>
#include <locale.h>
#include <math.h>
#include <string.h>

/* "%.9g" keeps 9 significant digits. */
#define CSV_REL_TOLERANCE 1e-8

static const char *const head_names[3] = { "age", "income", "gender" };
static const float loss_weights[3] = { 0.25f, 1.0f, 10.0f };
static const char *const metric_names[3] = { "mae", "accuracy", NULL };

static void
assert_close (double a, double b)
{
  if (isnan (a) || isnan (b))
    {
      g_assert_true (isnan (a) && isnan (b));
      return;
    }
  g_assert_cmpfloat (fabs (a - b), <=, CSV_REL_TOLERANCE * fmax (1.0, fabs (b)));
}

/* Two runs: run 0 with 3 epochs (validation on epochs 1 and 2 only), run 1 with 2 epochs;
 * 4 steps per epoch. Values are irregular so that digits matter. */
static WeftHistory *
make_history (gboolean two_runs)
{
  WeftHistory *h = weft_history_new (3, head_names, loss_weights, metric_names);
  int64_t step = 0;

  g_assert_nonnull (h);
  for (int run = 0; run < (two_runs ? 2 : 1); run++)
    {
      if (run > 0)
        weft_history_begin_run (h);
      step = 0;
      for (int e = 0; e < 3 - run; e++)
        {
          WeftEpochReport er = { 0 };

          for (int b = 0; b < 4; b++)
            {
              WeftStepReport r = { 0 };

              r.epoch = e;
              r.batch = b;
              r.n_batches = 4;
              r.step = step++;
              r.n_heads = 3;
              r.samples_seen = 32 * (b + 1);
              for (int j = 0; j < 3; j++)
                {
                  r.loss[j] = (j + 1) * 1.2345678901 / (1.0 + r.step) + run;
                  r.metric[j] = j == 2 ? NAN : 0.1 * b + 0.01 * j;
                  r.total += loss_weights[j] * r.loss[j];
                }
              g_assert_true (weft_history_add_step (h, &r));
            }
          er.epoch = e;
          er.n_heads = 3;
          for (int j = 0; j < 3; j++)
            {
              er.loss[j] = 3.14159265 * (j + 1) / (e + 1) + run;
              er.metric[j] = j == 2 ? NAN : 0.5 + 0.125 * e;
              er.val_loss[j] = 2.7182818 * (j + 1) / (e + 2);
              er.val_metric[j] = j == 2 ? NAN : 0.25 + 0.0625 * e;
              er.total += loss_weights[j] * er.loss[j];
              er.val_total += loss_weights[j] * er.val_loss[j];
            }
          er.has_validation = e > 0;
          er.seconds = 0.75 + e;
          g_assert_true (weft_history_add_epoch (h, &er));
        }
    }
  return h;
}

static void
test_csv_epochs_use_keras_column_names (void)
{
  WeftHistory *h = make_history (FALSE);
  g_autofree char *text = weft_csv_history_format (h, WEFT_CSV_HISTORY_EPOCHS, -1);
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);

  g_assert_cmpstr (lines[0], ==,
                   "epoch,loss,age_loss,income_loss,gender_loss,age_mae,income_accuracy,"
                   "val_loss,val_age_loss,val_income_loss,val_gender_loss,val_age_mae,"
                   "val_income_accuracy,seconds");
  /* epoch 0 has no validation: empty cells; gender has no metric column */
  g_assert_true (g_str_has_prefix (lines[1], "0,"));
  g_assert_true (g_str_has_suffix (lines[1], ",,,,,,,0.75"));
  g_assert_cmpuint (g_strv_length (lines), ==, 5);   /* header, 3 rows, trailing "" */
  g_assert_cmpstr (lines[4], ==, "");
  weft_history_free (h);
}

static void
test_csv_epochs_without_validation_have_no_val_columns (void)
{
  const char *const names[1] = { "y" };
  WeftHistory *h = weft_history_new (1, names, NULL, NULL);
  WeftEpochReport er = { .epoch = 0, .n_heads = 1, .loss = { 0.5 }, .total = 0.5,
                         .seconds = 2 };
  g_autofree char *text = NULL;

  g_assert_true (weft_history_add_epoch (h, &er));
  text = weft_csv_history_format (h, WEFT_CSV_HISTORY_EPOCHS, -1);
  g_assert_cmpstr (text, ==, "epoch,loss,y_loss,seconds\n0,0.5,0.5,2\n");
  weft_history_free (h);
}

static void
check_same_epochs (const WeftHistory *a, const WeftHistory *b)
{
  g_assert_cmpuint (weft_history_n_epochs (a), ==, weft_history_n_epochs (b));
  for (size_t i = 0; i < weft_history_n_epochs (a); i++)
    {
      WeftHistoryEpoch x, y;

      g_assert_true (weft_history_get_epoch (a, i, &x));
      g_assert_true (weft_history_get_epoch (b, i, &y));
      g_assert_cmpint (x.run, ==, y.run);
      g_assert_cmpint (x.epoch, ==, y.epoch);
      g_assert_cmpint (x.has_validation, ==, y.has_validation);
      assert_close (y.total, x.total);
      assert_close (y.val_total, x.val_total);
      assert_close (y.seconds, x.seconds);
      for (int j = 0; j < weft_history_n_heads (a); j++)
        {
          assert_close (y.loss[j], x.loss[j]);
          assert_close (y.val_loss[j], x.val_loss[j]);
          if (weft_history_metric_name (a, j) != NULL)
            {
              assert_close (y.metric[j], x.metric[j]);
              assert_close (y.val_metric[j], x.val_metric[j]);
            }
        }
    }
}

static void
check_same_steps (const WeftHistory *a, const WeftHistory *b)
{
  g_assert_cmpuint (weft_history_n_steps (a), ==, weft_history_n_steps (b));
  for (size_t i = 0; i < weft_history_n_steps (a); i++)
    {
      WeftHistoryStep x, y;

      g_assert_true (weft_history_get_step (a, i, &x));
      g_assert_true (weft_history_get_step (b, i, &y));
      g_assert_cmpint (x.run, ==, y.run);
      g_assert_cmpint (x.step, ==, y.step);
      g_assert_cmpint (x.epoch, ==, y.epoch);
      g_assert_cmpint (x.batch, ==, y.batch);
      g_assert_cmpint (x.samples_seen, ==, y.samples_seen);
      assert_close (y.total, x.total);
      for (int j = 0; j < weft_history_n_heads (a); j++)
        {
          assert_close (y.loss[j], x.loss[j]);
          if (weft_history_metric_name (a, j) != NULL)
            assert_close (y.metric[j], x.metric[j]);
        }
    }
}

static void
test_csv_round_trip_through_files (void)
{
  WeftHistory *h = make_history (TRUE);
  g_autofree char *dir = g_dir_make_tmp ("weft-csv-XXXXXX", NULL);
  g_autofree char *epochs = g_build_filename (dir, "history.csv", NULL);
  g_autofree char *steps = g_build_filename (dir, "steps.csv", NULL);
  g_autoptr (GError) error = NULL;
  g_autofree char *text = NULL;
  WeftHistory *back;

  g_assert_nonnull (dir);
  g_assert_true (weft_csv_history_save (h, epochs, WEFT_CSV_HISTORY_EPOCHS, -1, &error));
  g_assert_no_error (error);
  g_assert_true (weft_csv_history_save (h, steps, WEFT_CSV_HISTORY_STEPS, -1, &error));
  g_assert_no_error (error);
  g_assert_true (g_file_get_contents (steps, &text, NULL, NULL));
  g_assert_true (g_str_has_prefix (text, "step,epoch,batch,samples,loss,age_loss,income_loss,"
                                         "gender_loss,age_mae,income_accuracy,run\n"));

  back = weft_csv_history_load (epochs, steps, &error);
  g_assert_no_error (error);
  g_assert_nonnull (back);
  g_assert_cmpint (weft_history_n_heads (back), ==, 3);
  for (int j = 0; j < 3; j++)
    {
      g_assert_cmpstr (weft_history_head_name (back, j), ==, head_names[j]);
      g_assert_cmpstr (weft_history_metric_name (back, j), ==, metric_names[j]);
    }
  g_assert_cmpint (weft_history_n_runs (back), ==, 2);
  check_same_epochs (h, back);
  check_same_steps (h, back);

  g_assert_cmpint (g_remove (epochs), ==, 0);
  g_assert_cmpint (g_remove (steps), ==, 0);
  g_assert_cmpint (g_rmdir (dir), ==, 0);
  weft_history_free (back);
  weft_history_free (h);
}

static void
test_csv_single_run_selection_has_no_run_column (void)
{
  WeftHistory *h = make_history (TRUE);
  g_autofree char *text = weft_csv_history_format (h, WEFT_CSV_HISTORY_EPOCHS, 1);
  g_autoptr (GError) error = NULL;
  WeftHistory *back;
  WeftHistoryEpoch e;

  g_assert_null (strstr (text, ",run"));
  back = weft_csv_history_parse (text, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (weft_history_n_epochs (back), ==, 2);
  g_assert_true (weft_history_get_epoch (back, 1, &e));
  g_assert_cmpint (e.run, ==, 0);
  g_assert_cmpint (e.epoch, ==, 1);
  weft_history_free (back);
  weft_history_free (h);
}

static void
test_csv_head_names_with_commas_are_quoted (void)
{
  const char *const names[2] = { "a,\"b\"", "c" };
  WeftHistory *h = weft_history_new (2, names, NULL, NULL);
  WeftStepReport r = { .n_heads = 2, .loss = { 1, 2 }, .total = 3 };
  g_autofree char *text = NULL;
  g_autoptr (GError) error = NULL;
  WeftHistory *back;

  g_assert_true (weft_history_add_step (h, &r));
  text = weft_csv_history_format (h, WEFT_CSV_HISTORY_STEPS, -1);
  g_assert_true (g_str_has_prefix (text, "step,epoch,batch,samples,loss,\"a,\"\"b\"\"_loss\","));
  back = weft_csv_history_parse (NULL, text, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (weft_history_head_name (back, 0), ==, "a,\"b\"");
  check_same_steps (h, back);
  weft_history_free (back);
  weft_history_free (h);
}

static void
test_csv_non_finite_values_round_trip (void)
{
  const char *const names[1] = { "y" };
  const char *const metrics[1] = { "mae" };
  WeftHistory *h = weft_history_new (1, names, NULL, metrics);
  WeftStepReport r = { .n_heads = 1, .loss = { INFINITY }, .metric = { NAN },
                       .total = -INFINITY };
  g_autofree char *text = NULL;
  g_autoptr (GError) error = NULL;
  WeftHistory *back;
  WeftHistoryStep st;

  g_assert_true (weft_history_add_step (h, &r));
  text = weft_csv_history_format (h, WEFT_CSV_HISTORY_STEPS, -1);
  g_assert_cmpstr (text, ==, "step,epoch,batch,samples,loss,y_loss,y_mae\n0,0,0,0,-inf,inf,nan\n");
  back = weft_csv_history_parse (NULL, text, &error);
  g_assert_no_error (error);
  g_assert_true (weft_history_get_step (back, 0, &st));
  g_assert_true (isinf (st.total) && st.total < 0);
  g_assert_true (isinf (st.loss[0]) && st.loss[0] > 0);
  g_assert_true (isnan (st.metric[0]));
  weft_history_free (back);
  weft_history_free (h);
}

/* Only meaningful where a comma-decimal locale is installed; skipped (not passed) otherwise. */
static void
test_csv_format_ignores_comma_decimal_locale (void)
{
  static const char *const locales[] = { "de_DE.UTF-8", "de_DE.utf8", "fr_FR.UTF-8", NULL };
  g_autofree char *saved = g_strdup (setlocale (LC_NUMERIC, NULL));
  const char *const names[1] = { "y" };
  WeftHistory *h = weft_history_new (1, names, NULL, NULL);
  WeftEpochReport er = { .n_heads = 1, .loss = { 0.25 }, .total = 0.25, .seconds = 1.5 };
  g_autofree char *text = NULL;
  g_autoptr (GError) error = NULL;
  WeftHistory *back;
  WeftHistoryEpoch e;
  gboolean switched = FALSE;

  for (int i = 0; locales[i] != NULL && !switched; i++)
    switched = setlocale (LC_NUMERIC, locales[i]) != NULL;
  if (!switched)
    {
      weft_history_free (h);
      g_test_skip ("no comma-decimal locale installed");
      return;
    }
  g_assert_true (weft_history_add_epoch (h, &er));
  text = weft_csv_history_format (h, WEFT_CSV_HISTORY_EPOCHS, -1);
  back = weft_csv_history_parse (text, NULL, &error);
  setlocale (LC_NUMERIC, saved);
  g_assert_cmpstr (text, ==, "epoch,loss,y_loss,seconds\n0,0.25,0.25,1.5\n");
  g_assert_no_error (error);
  g_assert_true (weft_history_get_epoch (back, 0, &e));
  g_assert_cmpfloat (e.seconds, ==, 1.5);
  weft_history_free (back);
  weft_history_free (h);
}

static void
test_csv_reads_keras_single_output_file (void)
{
  /* What tf.keras.callbacks.CSVLogger writes for a one-output model (sorted keys, lr). */
  const char *keras = "epoch,accuracy,loss,lr,val_accuracy,val_loss\r\n"
                      "0,0.5,1.25,0.001,0.625,1.125\r\n"
                      "1,0.75,0.875,0.001,0.6875,1.0\r\n";
  g_autoptr (GError) error = NULL;
  WeftHistory *h = weft_csv_history_parse (keras, NULL, &error);
  WeftHistoryEpoch e;

  g_assert_no_error (error);
  g_assert_cmpint (weft_history_n_heads (h), ==, 1);
  g_assert_cmpstr (weft_history_head_name (h, 0), ==, "output");
  g_assert_cmpstr (weft_history_metric_name (h, 0), ==, "accuracy");
  g_assert_cmpuint (weft_history_n_epochs (h), ==, 2);
  g_assert_true (weft_history_get_epoch (h, 1, &e));
  g_assert_cmpint (e.epoch, ==, 1);
  g_assert_cmpfloat (e.total, ==, 0.875);
  g_assert_cmpfloat (e.loss[0], ==, 0.875);
  g_assert_cmpfloat (e.metric[0], ==, 0.75);
  g_assert_true (e.has_validation);
  g_assert_cmpfloat (e.val_total, ==, 1.0);
  g_assert_cmpfloat (e.val_loss[0], ==, 1.0);
  g_assert_cmpfloat (e.val_metric[0], ==, 0.6875);
  weft_history_free (h);
}

static void
test_csv_reads_keras_multi_output_file (void)
{
  /* Keras sorts the columns alphabetically; order must not matter. */
  const char *keras = "epoch,age_loss,age_mae,gender_loss,loss,val_age_loss,val_age_mae,"
                      "val_gender_loss,val_loss\n"
                      "0,2.0,1.5,0.5,5.5,2.5,1.75,0.25,3.125\n";
  g_autoptr (GError) error = NULL;
  WeftHistory *h = weft_csv_history_parse (keras, NULL, &error);
  WeftHistoryEpoch e;

  g_assert_no_error (error);
  g_assert_cmpint (weft_history_n_heads (h), ==, 2);
  g_assert_cmpstr (weft_history_head_name (h, 0), ==, "age");
  g_assert_cmpstr (weft_history_head_name (h, 1), ==, "gender");
  g_assert_cmpstr (weft_history_metric_name (h, 0), ==, "mae");
  g_assert_null (weft_history_metric_name (h, 1));
  g_assert_true (weft_history_get_epoch (h, 0, &e));
  g_assert_cmpfloat (e.loss[0], ==, 2.0);
  g_assert_cmpfloat (e.loss[1], ==, 0.5);
  g_assert_cmpfloat (e.metric[0], ==, 1.5);
  g_assert_cmpfloat (e.total, ==, 5.5);
  g_assert_cmpfloat (e.val_loss[1], ==, 0.25);
  g_assert_cmpfloat (e.val_metric[0], ==, 1.75);
  g_assert_cmpfloat (e.val_total, ==, 3.125);
  g_assert_true (isnan (e.seconds));
  weft_history_free (h);
}

static void
test_csv_rejects_malformed_text (void)
{
  static const struct { const char *text; const char *needle; } cases[] = {
    { "", "no header" },
    { "\n\n", "no header" },
    { "loss,y_loss\n1,1\n", "no \"epoch\" column" },
    { "epoch,y_loss\n0,1\n", "no \"loss\" column" },
    { "epoch,loss,y_loss\n0,1\n", "line 2: expected 3 fields, found 2" },
    { "epoch,loss,y_loss\n0,1,2\n1,abc,2\n", "line 3: \"abc\" is not a number" },
    { "epoch,loss,y_loss\n0,1,\n", "\"y_loss\" is empty" },
    { "epoch,loss,y_loss\n-1,1,2\n", "line 2" },
    { "epoch,loss,y_loss\n0.5,1,2\n", "line 2" },
    { "epoch,loss,y_loss,run\n0,1,2,1\n1,1,2,0\n", "line 3: run 0 comes after" },
    { "epoch,loss,loss,y_loss\n0,1,1,2\n", "appears twice" },
    { "epoch,loss,\"y_loss\n0,1,2\n", "unterminated" },
    { "epoch,loss,\"y\"x_loss\n0,1,2\n", "stray quote" },
    { "epoch,loss,y_loss\n0,1,2\"\n", "stray quote" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      WeftHistory *h = weft_csv_history_parse (cases[i].text, NULL, &error);

      g_test_message ("malformed case %" G_GSIZE_FORMAT, i);
      g_assert_null (h);
      g_assert_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_FORMAT);
      g_assert_nonnull (strstr (error->message, cases[i].needle));
    }
}

static void
test_csv_rejects_heads_that_disagree (void)
{
  g_autoptr (GError) error = NULL;
  WeftHistory *h = weft_csv_history_parse ("epoch,loss,a_loss\n0,1,1\n",
                                           "step,loss,b_loss\n0,1,1\n", &error);

  g_assert_null (h);
  g_assert_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_MISMATCH);
}

static void
test_csv_save_reports_error_and_leaves_no_temporary (void)
{
  WeftHistory *h = make_history (FALSE);
  g_autofree char *dir = g_dir_make_tmp ("weft-csv-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "history.csv", NULL);
  g_autofree char *bad = g_build_filename (dir, "missing", "history.csv", NULL);
  g_autoptr (GError) error = NULL;
  g_autofree char *text = NULL;
  g_autoptr (GDir) listing = NULL;
  int n_files = 0;

  g_assert_true (g_file_set_contents (path, "old", -1, NULL));
  g_assert_false (weft_csv_history_save (h, bad, WEFT_CSV_HISTORY_EPOCHS, -1, &error));
  g_assert_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_IO);
  g_assert_nonnull (strstr (error->message, bad));
  g_clear_error (&error);

  g_assert_true (weft_csv_history_save (h, path, WEFT_CSV_HISTORY_EPOCHS, -1, &error));
  g_assert_no_error (error);
  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  g_assert_true (g_str_has_prefix (text, "epoch,loss,"));
  /* no temporary file is left behind */
  listing = g_dir_open (dir, 0, NULL);
  while (g_dir_read_name (listing) != NULL)
    n_files++;
  g_assert_cmpint (n_files, ==, 1);

  g_assert_null (weft_csv_history_load (bad, NULL, &error));
  g_assert_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_IO);
  g_assert_cmpint (g_remove (path), ==, 0);
  g_assert_cmpint (g_rmdir (dir), ==, 0);
  weft_history_free (h);
}

int
main (int argc, char **argv)
{
  setlocale (LC_ALL, "");
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/io/csv-history/epochs/use-keras-column-names",
                   test_csv_epochs_use_keras_column_names);
  g_test_add_func ("/io/csv-history/epochs/without-validation-have-no-val-columns",
                   test_csv_epochs_without_validation_have_no_val_columns);
  g_test_add_func ("/io/csv-history/round-trip/through-files",
                   test_csv_round_trip_through_files);
  g_test_add_func ("/io/csv-history/round-trip/single-run-has-no-run-column",
                   test_csv_single_run_selection_has_no_run_column);
  g_test_add_func ("/io/csv-history/round-trip/head-names-with-commas-are-quoted",
                   test_csv_head_names_with_commas_are_quoted);
  g_test_add_func ("/io/csv-history/round-trip/non-finite-values",
                   test_csv_non_finite_values_round_trip);
  g_test_add_func ("/io/csv-history/format/ignores-comma-decimal-locale",
                   test_csv_format_ignores_comma_decimal_locale);
  g_test_add_func ("/io/csv-history/parse/reads-keras-single-output-file",
                   test_csv_reads_keras_single_output_file);
  g_test_add_func ("/io/csv-history/parse/reads-keras-multi-output-file",
                   test_csv_reads_keras_multi_output_file);
  g_test_add_func ("/io/csv-history/parse/rejects-malformed-text",
                   test_csv_rejects_malformed_text);
  g_test_add_func ("/io/csv-history/parse/rejects-heads-that-disagree",
                   test_csv_rejects_heads_that_disagree);
  g_test_add_func ("/io/csv-history/save/reports-io-error-and-leaves-no-temporary",
                   test_csv_save_reports_error_and_leaves_no_temporary);
  return g_test_run ();
}
