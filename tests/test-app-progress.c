/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include "../app/weft-progress.h"

#include <glib.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#define EPOCHS   3
#define BATCHES  40
/* Without sleeping, 120 steps take far less than a redraw interval: the first step and the
 * last step of each epoch are drawn, plus one redraw after a message. */
#define MAX_UNTHROTTLED_DRAWS (1 + EPOCHS + 1 + 2)

static const char *const names[3] = { "age", "income", "gender" };
static const char *const metrics[3] = { "mae", "accuracy", NULL };

/* Feeds EPOCHS x BATCHES steps; returns what was written (caller frees). */
static char *
run_progress (gboolean interactive, int width, gboolean with_message)
{
  char *buf = NULL;
  size_t len = 0;
  FILE *out = open_memstream (&buf, &len);
  WeftProgress *p = weft_progress_new (out, EPOCHS, BATCHES, 3, names);
  int64_t step = 0;

  weft_progress_set_interactive (p, interactive, width);
  weft_progress_set_metric_names (p, metrics);
  for (int e = 0; e < EPOCHS; e++)
    {
      WeftEpochReport er = { .epoch = e, .n_heads = 3, .has_validation = e > 0,
                             .seconds = 0.5, .total = 3.25, .val_total = 3.5,
                             .loss = { 1.25, 0.375, 0.0625 }, .metric = { 0.875, 0.75, NAN },
                             .val_loss = { 1.5, 0.5, 0.125 }, .val_metric = { 1, 0.625, NAN } };

      for (int b = 0; b < BATCHES; b++)
        {
          WeftStepReport r = { .epoch = e, .batch = b, .n_batches = BATCHES, .step = step++,
                               .n_heads = 3, .samples_seen = 32 * (b + 1) };

          for (int j = 0; j < 3; j++)
            {
              r.loss[j] = 1.0 / (1 + step) + j;
              r.total += r.loss[j];
            }
          weft_progress_step (p, &r);
          if (with_message && e == 1 && b == 20)
            weft_progress_message (p, "checkpoint saved");
        }
      weft_progress_epoch (p, &er);
    }
  weft_progress_free (p);
  fclose (out);
  return buf;
}

static void
test_progress_piped_prints_one_line_per_epoch (void)
{
  g_autofree char *text = run_progress (FALSE, 0, FALSE);
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);

  g_assert_null (strchr (text, '\r'));
  g_assert_null (strchr (text, '\033'));
  g_assert_cmpuint (g_strv_length (lines), ==, EPOCHS + 1);
  g_assert_cmpstr (lines[EPOCHS], ==, "");
  g_assert_true (g_str_has_prefix (lines[0], "epoch 1/3  loss 3.25  age_loss 1.25  "
                                             "income_loss 0.375  gender_loss 0.0625  "
                                             "age_mae 0.875  income_accuracy 0.75  0.5s"));
  g_assert_null (strstr (lines[0], "val_"));
  g_assert_null (strstr (lines[0], "gender_metric"));
  g_assert_nonnull (strstr (lines[1], "  val_loss 3.5  val_age_loss 1.5  val_income_loss 0.5  "
                                      "val_gender_loss 0.125  val_age_mae 1  "
                                      "val_income_accuracy 0.625"));
  g_assert_true (g_str_has_prefix (lines[2], "epoch 3/3  "));
}

static void
test_progress_terminal_redraws_in_place_within_width (void)
{
  for (int width = 40; width <= 160; width += 30)
    {
      g_autofree char *text = run_progress (TRUE, width, TRUE);
      g_auto (GStrv) segments = g_strsplit_set (text, "\r\n", -1);
      int draws = 0, epoch_lines = 0;

      g_test_message ("width %d: %s", width, text);
      for (int i = 0; segments[i] != NULL; i++)
        {
          char *seg = segments[i];
          char *esc = strstr (seg, "\033[K");

          if (g_str_has_prefix (seg, "\033[K"))
            seg += 3;   /* the epoch line after clearing its bar */
          else if (esc != NULL)
            {
              *esc = '\0';
              draws++;
              g_assert_cmpint (g_utf8_strlen (seg, -1), <=, width - 1);
              g_assert_true (g_str_has_prefix (seg, "[") || g_str_has_prefix (seg, "epoch "));
            }
          if (g_str_has_prefix (seg, "epoch ") && strstr (seg, "batch") == NULL)
            epoch_lines++;
        }
      g_assert_cmpint (draws, >=, 1 + EPOCHS);
      g_assert_cmpint (draws, <=, MAX_UNTHROTTLED_DRAWS);
      g_assert_cmpint (epoch_lines, ==, EPOCHS);
      g_assert_nonnull (strstr (text, "\ncheckpoint saved\n"));
      g_assert_true (g_str_has_suffix (text, "\n"));
    }
}

static void
test_progress_terminal_bar_shows_heads_and_eta (void)
{
  g_autofree char *text = run_progress (TRUE, 200, FALSE);

  g_assert_nonnull (strstr (text, "\r[#"));
  g_assert_nonnull (strstr (text, "epoch 1/3  batch 40/40  loss "));
  g_assert_nonnull (strstr (text, " (age "));
  g_assert_nonnull (strstr (text, " income "));
  g_assert_nonnull (strstr (text, " gender "));
  g_assert_nonnull (strstr (text, "  ETA "));
}

static void
test_progress_continued_fit_counts_from_first_epoch (void)
{
  char *buf = NULL;
  size_t len = 0;
  FILE *out = open_memstream (&buf, &len);
  WeftProgress *p = weft_progress_new (out, 2, 1, 1, names);
  WeftEpochReport er = { .epoch = 10, .n_heads = 1, .total = 1, .loss = { 1 } };

  weft_progress_set_interactive (p, FALSE, 0);
  weft_progress_set_first_epoch (p, 10);
  weft_progress_epoch (p, &er);
  weft_progress_free (p);
  fclose (out);
  g_assert_true (g_str_has_prefix (buf, "epoch 1/2  loss 1  age_loss 1  "));
  free (buf);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/app/progress/piped/prints-one-line-per-epoch",
                   test_progress_piped_prints_one_line_per_epoch);
  g_test_add_func ("/app/progress/terminal/redraws-in-place-within-width",
                   test_progress_terminal_redraws_in_place_within_width);
  g_test_add_func ("/app/progress/terminal/bar-shows-heads-and-eta",
                   test_progress_terminal_bar_shows_heads_and_eta);
  g_test_add_func ("/app/progress/continued-fit-counts-from-first-epoch",
                   test_progress_continued_fit_counts_from_first_epoch);
  return g_test_run ();
}
