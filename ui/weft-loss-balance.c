/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "weft-loss-balance"

#include "config.h"

#include "weft-loss-balance.h"

#include "weft-chart-painter.h"

#include <math.h>
#include <string.h>

#define BAR_HEIGHT   14.0
#define BAR_GAP      6.0
#define LABEL_WIDTH  110.0
#define FONT_SIZE    11.0

gboolean
weft_loss_balance_recent_losses (const WeftHistory *history, int run, int window,
                                 double *mean_loss)
{
  g_return_val_if_fail (history != NULL && mean_loss != NULL, FALSE);
  int n = weft_history_n_heads (history);
  size_t first, count;
  if (run < 0)
    run = weft_history_current_run (history);
  weft_history_run_steps (history, run, &first, &count);
  if (count == 0 || window < 1)
    return FALSE;
  size_t from = count > (size_t) window ? first + count - window : first;
  double sum[WEFT_MAX_HEADS] = { 0 };
  int k[WEFT_MAX_HEADS] = { 0 };
  for (size_t i = from; i < first + count; i++)
    {
      WeftHistoryStep row;
      if (!weft_history_get_step (history, i, &row))
        continue;
      for (int j = 0; j < n; j++)
        if (isfinite (row.loss[j]))
          {
            sum[j] += row.loss[j];
            k[j]++;
          }
    }
  for (int j = 0; j < n; j++)
    mean_loss[j] = k[j] > 0 ? sum[j] / k[j] : NAN;
  return TRUE;
}

int
weft_loss_balance_suggest (int n_heads, const float *weights, const double *mean_loss,
                           float *suggested)
{
  g_return_val_if_fail (n_heads >= 0 && n_heads <= WEFT_MAX_HEADS, 0);
  double sum_w = 0, sum_inv = 0;
  int usable = 0, changed = 0;
  for (int j = 0; j < n_heads; j++)
    {
      suggested[j] = weights[j];
      if (isfinite (mean_loss[j]) && mean_loss[j] > 0)
        {
          sum_w += weights[j];
          sum_inv += 1.0 / mean_loss[j];
          usable++;
        }
    }
  if (usable < 2 || !(sum_w > 0) || !isfinite (sum_inv))
    return 0;
  for (int j = 0; j < n_heads; j++)
    if (isfinite (mean_loss[j]) && mean_loss[j] > 0)
      {
        float w = (float) (sum_w / (mean_loss[j] * sum_inv));
        if (w != weights[j])
          changed++;
        suggested[j] = w;
      }
  return changed;
}

void
weft_loss_balance_shares (int n_heads, const float *weights, const double *loss, double *share)
{
  double total = 0;
  for (int j = 0; j < n_heads; j++)
    total += weights[j] * loss[j];
  for (int j = 0; j < n_heads; j++)
    share[j] = isfinite (total) && total > 0 ? weights[j] * loss[j] / total : NAN;
}

static void
head_color (cairo_t *cr, int head, gboolean dark, double alpha)
{
  double rgb[3];
  weft_chart_head_color (head, dark, rgb);
  cairo_set_source_rgba (cr, rgb[0], rgb[1], rgb[2], alpha);
}

/* Fills the background; FALSE when there is nothing more to draw. */
static gboolean
paint_background (cairo_t *cr, double width, double height, gboolean dark)
{
  double rgb[3];
  weft_chart_palette_color ("background", dark, rgb);
  cairo_set_source_rgb (cr, rgb[0], rgb[1], rgb[2]);
  cairo_rectangle (cr, 0, 0, width, height);
  cairo_fill (cr);
  return TRUE;
}

/* Stacked areas from the per-column mean shares `mean` (cols x n, NaN: column without a
 * step), head 0 at the bottom; empty columns repeat the previous one. */
static void
paint_stack (cairo_t *cr, double width, double height, int n, int cols, const double *mean,
             gboolean dark)
{
  double *prev = g_new0 (double, n);
  double *cum = g_new0 (double, (size_t) cols * (n + 1));
  for (int c = 0; c < cols; c++)
    {
      double s = 0;
      gboolean empty = isnan (mean[(size_t) c * n]);
      for (int j = 0; j < n; j++)
        {
          double v = !empty ? mean[(size_t) c * n + j] : prev[j];
          prev[j] = v;
          s += v;
          cum[(size_t) c * (n + 1) + j + 1] = s;
        }
    }
  for (int j = n - 1; j >= 0; j--)
    {
      head_color (cr, j, dark, 0.85);
      cairo_move_to (cr, 0, height);
      for (int c = 0; c < cols; c++)
        cairo_line_to (cr, c + 0.5, height * (1 - cum[(size_t) c * (n + 1) + j + 1]));
      cairo_line_to (cr, width, height * (1 - cum[(size_t) (cols - 1) * (n + 1) + j + 1]));
      cairo_line_to (cr, width, height);
      cairo_close_path (cr);
      cairo_fill (cr);
    }
  g_free (prev);
  g_free (cum);
}

/* The column of step i of count in cols columns, and the first step of column c. */
static int
column_of (size_t i, size_t count, int cols)
{
  return (int) ((double) i / count * cols);
}

static size_t
column_start (int c, size_t count, int cols)
{
  size_t i = (size_t) ceil ((double) c * count / cols);
  while (i > 0 && column_of (i - 1, count, cols) >= c)
    i--;
  while (i < count && column_of (i, count, cols) < c)
    i++;
  return MIN (i, count);
}

void
weft_loss_balance_paint (cairo_t *cr, double width, double height, const WeftHistory *history,
                         int run, const float *weights, gboolean dark)
{
  cairo_save (cr);
  paint_background (cr, width, height, dark);
  int n = history != NULL ? weft_history_n_heads (history) : 0;
  size_t first = 0, count = 0;
  if (history != NULL)
    {
      if (run < 0)
        run = weft_history_current_run (history);
      weft_history_run_steps (history, run, &first, &count);
    }
  int cols = (int) width;
  if (n < 1 || count == 0 || cols < 1 || height < 1)
    {
      cairo_restore (cr);
      return;
    }
  float w[WEFT_MAX_HEADS];
  for (int j = 0; j < n; j++)
    w[j] = weights != NULL ? weights[j] : weft_history_loss_weight (history, j);

  /* per column: mean share of each head over the steps falling in it */
  double *acc = g_new0 (double, (size_t) cols * n);
  int *k = g_new0 (int, cols);
  for (size_t i = 0; i < count; i++)
    {
      WeftHistoryStep row;
      if (!weft_history_get_step (history, first + i, &row))
        continue;
      int c = column_of (i, count, cols);
      double share[WEFT_MAX_HEADS];
      weft_loss_balance_shares (n, w, row.loss, share);
      if (!isfinite (share[0]))
        continue;
      for (int j = 0; j < n; j++)
        acc[(size_t) c * n + j] += share[j];
      k[c]++;
    }
  for (int c = 0; c < cols; c++)
    for (int j = 0; j < n; j++)
      acc[(size_t) c * n + j] = k[c] > 0 ? acc[(size_t) c * n + j] / k[c] : NAN;
  paint_stack (cr, width, height, n, cols, acc, dark);
  g_free (acc);
  g_free (k);
  cairo_restore (cr);
}

/* ---- incremental band ------------------------------------------------------------------ */

struct _WeftLossBalanceBand
{
  const WeftHistory *history;   /* borrowed: only compared, to notice a new one */
  int                run;
  size_t             first;
  size_t             synced;    /* steps of the run summed so far */
  int                n;
  float              weights[WEFT_MAX_HEADS];
  GArray            *prefix;    /* double, (synced + 1) x (n + 1): share sums, then count */
};

WeftLossBalanceBand *
weft_loss_balance_band_new (void)
{
  WeftLossBalanceBand *band = g_new0 (WeftLossBalanceBand, 1);
  band->prefix = g_array_new (FALSE, TRUE, sizeof (double));
  band->run = -1;
  return band;
}

void
weft_loss_balance_band_free (WeftLossBalanceBand *band)
{
  if (band == NULL)
    return;
  g_array_unref (band->prefix);
  g_free (band);
}

size_t
weft_loss_balance_band_sync (WeftLossBalanceBand *band, const WeftHistory *history)
{
  g_return_val_if_fail (band != NULL, 0);
  int n = history != NULL ? weft_history_n_heads (history) : 0;
  int run = history != NULL ? weft_history_current_run (history) : -1;
  size_t first = 0, count = 0;
  if (history != NULL)
    weft_history_run_steps (history, run, &first, &count);
  float w[WEFT_MAX_HEADS] = { 0 };
  for (int j = 0; j < n; j++)
    w[j] = weft_history_loss_weight (history, j);
  if (history != band->history || run != band->run || first != band->first || n != band->n
      || count < band->synced || memcmp (w, band->weights, sizeof w) != 0)
    {
      band->history = history;
      band->run = run;
      band->first = first;
      band->n = n;
      band->synced = 0;
      memcpy (band->weights, w, sizeof w);
      g_array_set_size (band->prefix, (guint) (n + 1));   /* zeros: the empty prefix */
    }
  size_t added = count - band->synced;
  if (n < 1 || added == 0)
    return added;
  size_t stride = (size_t) n + 1;
  g_array_set_size (band->prefix, (guint) ((count + 1) * stride));
  double *p = (double *) band->prefix->data;
  for (size_t i = band->synced; i < count; i++)
    {
      const double *before = p + i * stride;
      double *after = p + (i + 1) * stride;
      memcpy (after, before, stride * sizeof *after);
      WeftHistoryStep row;
      if (!weft_history_get_step (history, first + i, &row))
        continue;
      double share[WEFT_MAX_HEADS];
      weft_loss_balance_shares (n, w, row.loss, share);
      if (!isfinite (share[0]))
        continue;
      for (int j = 0; j < n; j++)
        after[j] += share[j];
      after[n] += 1;
    }
  band->synced = count;
  return added;
}

void
weft_loss_balance_band_paint (WeftLossBalanceBand *band, cairo_t *cr, double width,
                              double height, gboolean dark)
{
  g_return_if_fail (band != NULL);
  cairo_save (cr);
  paint_background (cr, width, height, dark);
  int n = band->n, cols = (int) width;
  size_t count = band->synced;
  if (n < 1 || count == 0 || cols < 1 || height < 1)
    {
      cairo_restore (cr);
      return;
    }
  size_t stride = (size_t) n + 1;
  const double *p = (const double *) band->prefix->data;
  double *mean = g_new (double, (size_t) cols * n);
  size_t lo = column_start (0, count, cols);
  for (int c = 0; c < cols; c++)
    {
      size_t hi = column_start (c + 1, count, cols);
      double k = p[hi * stride + n] - p[lo * stride + n];
      for (int j = 0; j < n; j++)
        mean[(size_t) c * n + j] = k > 0 ? (p[hi * stride + j] - p[lo * stride + j]) / k : NAN;
      lo = hi;
    }
  paint_stack (cr, width, height, n, cols, mean, dark);
  g_free (mean);
  cairo_restore (cr);
}

gboolean
weft_loss_balance_row_is_shared (const WeftGradientShare *row)
{
  int nonzero = 0;
  for (int j = 0; j < row->n_heads; j++)
    if (row->norm[j] > 0)
      nonzero++;
  return nonzero >= 2;
}

double
weft_loss_balance_paint_gradient_share (cairo_t *cr, double width,
                                        const WeftGradientShare *rows, int n_rows,
                                        gboolean dark)
{
  double y = 0, rgb[3];
  cairo_save (cr);
  cairo_select_font_face (cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size (cr, FONT_SIZE);
  for (int r = 0; r < n_rows; r++)
    {
      const WeftGradientShare *row = &rows[r];
      if (!weft_loss_balance_row_is_shared (row))
        continue;
      double sum = 0;
      for (int j = 0; j < row->n_heads; j++)
        sum += row->norm[j];
      weft_chart_palette_color ("foreground", dark, rgb);
      cairo_set_source_rgb (cr, rgb[0], rgb[1], rgb[2]);
      cairo_move_to (cr, 0, y + BAR_HEIGHT - 3);
      cairo_show_text (cr, row->layer);
      double x = LABEL_WIDTH, bw = MAX (0, width - LABEL_WIDTH);
      for (int j = 0; j < row->n_heads && sum > 0; j++)
        {
          double w = bw * row->norm[j] / sum;
          head_color (cr, j, dark, 0.9);
          cairo_rectangle (cr, x, y, w, BAR_HEIGHT);
          cairo_fill (cr);
          x += w;
        }
      y += BAR_HEIGHT + BAR_GAP;
    }
  cairo_restore (cr);
  return y;
}

double
weft_loss_balance_paint_gradient_share_history (cairo_t *cr, double width,
                                                const WeftGradientShare *rows, int n_rows,
                                                int n_epochs, gboolean dark)
{
  double y = 0, rgb[3];
  if (n_rows < 1 || n_epochs < 1)
    return 0;
  const WeftGradientShare *last = rows + (size_t) (n_epochs - 1) * n_rows;
  double x0 = LABEL_WIDTH, bw = MAX (0, width - LABEL_WIDTH);
  double step = bw / n_epochs;
  cairo_save (cr);
  cairo_select_font_face (cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size (cr, FONT_SIZE);
  for (int r = 0; r < n_rows; r++)
    {
      /* a layer counts as shared by its latest epoch */
      if (!weft_loss_balance_row_is_shared (&last[r]))
        continue;
      weft_chart_palette_color ("foreground", dark, rgb);
      cairo_set_source_rgb (cr, rgb[0], rgb[1], rgb[2]);
      cairo_move_to (cr, 0, y + BAR_HEIGHT - 3);
      cairo_show_text (cr, last[r].layer);
      for (int e = 0; e < n_epochs; e++)
        {
          const WeftGradientShare *row = &rows[(size_t) e * n_rows + r];
          double sum = 0, top = y;
          for (int j = 0; j < row->n_heads; j++)
            sum += row->norm[j];
          if (!(sum > 0) || !isfinite (sum))
            continue;
          for (int j = 0; j < row->n_heads; j++)
            {
              double h = BAR_HEIGHT * row->norm[j] / sum;
              head_color (cr, j, dark, 0.9);
              /* overlap by a hair so neighbouring epochs leave no seams */
              cairo_rectangle (cr, x0 + e * step, top, step + 0.5, h);
              cairo_fill (cr);
              top += h;
            }
        }
      y += BAR_HEIGHT + BAR_GAP;
    }
  cairo_restore (cr);
  return y;
}
