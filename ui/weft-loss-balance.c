/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "weft-loss-balance"

#include "config.h"

#include "weft-loss-balance.h"

#include "weft-chart-painter.h"

#include <math.h>

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

void
weft_loss_balance_paint (cairo_t *cr, double width, double height, const WeftHistory *history,
                         int run, const float *weights, gboolean dark)
{
  double rgb[3];
  cairo_save (cr);
  weft_chart_palette_color ("background", dark, rgb);
  cairo_set_source_rgb (cr, rgb[0], rgb[1], rgb[2]);
  cairo_rectangle (cr, 0, 0, width, height);
  cairo_fill (cr);
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
      int c = (int) ((double) i / count * cols);
      double share[WEFT_MAX_HEADS];
      weft_loss_balance_shares (n, w, row.loss, share);
      if (!isfinite (share[0]))
        continue;
      for (int j = 0; j < n; j++)
        acc[(size_t) c * n + j] += share[j];
      k[c]++;
    }
  /* stacked areas, head 0 at the bottom; empty columns repeat the previous one */
  double *prev = g_new0 (double, n);
  double *cum = g_new0 (double, (size_t) cols * (n + 1));
  for (int c = 0; c < cols; c++)
    {
      double s = 0;
      for (int j = 0; j < n; j++)
        {
          double v = k[c] > 0 ? acc[(size_t) c * n + j] / k[c] : prev[j];
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
  g_free (acc);
  g_free (k);
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
