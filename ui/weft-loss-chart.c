/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "weft-loss-chart"

#include "config.h"

#include "weft-loss-chart.h"

#include "weft-csv-history.h"
#include "weft-safetensors.h"   /* WEFT_IO_ERROR */

#include <cairo-svg.h>
#include <glib/gi18n.h>
#include <math.h>
#include <string.h>

#define MARGIN_LEFT    58.0
#define MARGIN_RIGHT   14.0
#define MARGIN_TOP     12.0
#define MARGIN_BOTTOM  30.0
#define FONT_SIZE      11.0
#define LINE_WIDTH     1.6
#define RAW_ALPHA      0.22     /* raw curve behind a smoothed one */
#define PREVIOUS_ALPHA 0.30     /* previous run */
#define ZOOM_STEP      1.25
#define MIN_VIEW_WIDTH 1.0      /* steps or epochs */
#define MAX_TICKS      64
#define EXPORT_MAX     16384

/* The curves of one head (or of the total) in one run. */
typedef struct
{
  WeftLossSeries *step;        /* per batch, x = step */
  WeftLossSeries *epoch;       /* per epoch, x = epoch + 1 */
  WeftLossSeries *val_epoch;   /* validation, x = epoch + 1 */
  WeftLossSeries *val_step;    /* validation, x = last step of its epoch */
} Curves;

struct _WeftLossChart
{
  GtkWidget parent_instance;

  /* Owned */
  Curves         *cur;            /* n_heads + 1 entries; the last is the total */
  Curves         *prev;
  GArray         *epoch_end;      /* double: last step x of each epoch of the current run */
  GArray         *prev_epoch_end;

  /* Borrowed */
  WeftHistory    *history;

  int             n_heads;
  int             synced_run;
  size_t          synced_steps;
  size_t          synced_epochs;
  WeftChartXAxis  x_axis;
  gboolean        log_scale;
  double          smoothing;
  gboolean        show_validation;
  gboolean        show_previous;
  guint64         hidden;         /* bit j: head j hidden; bit 63: total hidden */
  gboolean        zoomed;
  double          view_x0, view_x1;
  double          hover_x;
  double          drag_x0, drag_x1;   /* view at drag begin */
};

G_DEFINE_FINAL_TYPE (WeftLossChart, weft_loss_chart, GTK_TYPE_WIDGET)

#define TOTAL_BIT ((guint64) 1 << 63)

/* ---- curves ---------------------------------------------------------------------------- */

static void
curves_free (Curves *c, int n)
{
  if (c == NULL)
    return;
  for (int j = 0; j < n; j++)
    {
      g_clear_object (&c[j].step);
      g_clear_object (&c[j].epoch);
      g_clear_object (&c[j].val_epoch);
      g_clear_object (&c[j].val_step);
    }
  g_free (c);
}

static void
series_changed_cb (WeftLossSeries *s, guint pos, guint removed, guint added, gpointer data)
{
  gtk_widget_queue_draw (GTK_WIDGET (data));
}

static WeftLossSeries *
make_series (WeftLossChart *self, const char *label, int head, WeftLossSeriesKind kind)
{
  WeftLossSeries *s = weft_loss_series_new (label, head, kind);
  weft_loss_series_set_smoothing (s, kind == WEFT_LOSS_SERIES_TRAIN ? self->smoothing : 0);
  g_signal_connect_object (s, "items-changed", G_CALLBACK (series_changed_cb), self, 0);
  return s;
}

static Curves *
curves_new (WeftLossChart *self)
{
  Curves *c = g_new0 (Curves, self->n_heads + 1);
  for (int j = 0; j <= self->n_heads; j++)
    {
      int head = j < self->n_heads ? j : -1;
      const char *label = head >= 0 ? weft_history_head_name (self->history, j) : _("total");
      c[j].step = make_series (self, label, head, WEFT_LOSS_SERIES_TRAIN);
      c[j].epoch = make_series (self, label, head, WEFT_LOSS_SERIES_TRAIN);
      c[j].val_epoch = make_series (self, label, head, WEFT_LOSS_SERIES_VALIDATION);
      c[j].val_step = make_series (self, label, head, WEFT_LOSS_SERIES_VALIDATION);
    }
  return c;
}

/* Appends history rows [s_first, s_end) and [e_first, e_end) of `run` to curves, one append
 * (one items-changed) per series. */
static void
fill (WeftLossChart *self, Curves *c, GArray *epoch_end, int run, size_t s_first,
      size_t s_end, size_t e_first, size_t e_end)
{
  int n = self->n_heads;
  size_t ns = s_end > s_first ? s_end - s_first : 0;
  size_t ne = e_end > e_first ? e_end - e_first : 0;

  if (ns > 0)
    {
      double *x = g_new (double, ns);
      double *y = g_new (double, ns * (n + 1));
      size_t k = 0;
      for (size_t i = s_first; i < s_end; i++)
        {
          WeftHistoryStep row;
          if (!weft_history_get_step (self->history, i, &row) || row.run != run)
            continue;
          x[k] = (double) row.step;
          for (int j = 0; j < n; j++)
            y[(size_t) j * ns + k] = row.loss[j];
          y[(size_t) n * ns + k] = row.total;
          if (row.epoch >= 0 && row.epoch < 1 << 24)
            {
              if ((guint) row.epoch >= epoch_end->len)
                {
                  guint old = epoch_end->len;
                  g_array_set_size (epoch_end, row.epoch + 1);
                  for (guint e = old; e < epoch_end->len; e++)
                    g_array_index (epoch_end, double, e) = NAN;
                }
              g_array_index (epoch_end, double, row.epoch) = x[k];
            }
          k++;
        }
      for (int j = 0; j <= n; j++)
        weft_loss_series_append (c[j].step, x, y + (size_t) j * ns, k);
      g_free (x);
      g_free (y);
    }
  if (ne > 0)
    {
      double *x = g_new (double, ne), *xs = g_new (double, ne);
      double *y = g_new (double, ne * (n + 1)), *v = g_new (double, ne * (n + 1));
      size_t k = 0;
      for (size_t i = e_first; i < e_end; i++)
        {
          WeftHistoryEpoch row;
          if (!weft_history_get_epoch (self->history, i, &row) || row.run != run)
            continue;
          x[k] = row.epoch + 1;
          xs[k] = row.epoch >= 0 && (guint) row.epoch < epoch_end->len
                  ? g_array_index (epoch_end, double, row.epoch) : NAN;
          for (int j = 0; j < n; j++)
            {
              y[(size_t) j * ne + k] = row.loss[j];
              v[(size_t) j * ne + k] = row.has_validation ? row.val_loss[j] : NAN;
            }
          y[(size_t) n * ne + k] = row.total;
          v[(size_t) n * ne + k] = row.has_validation ? row.val_total : NAN;
          k++;
        }
      for (int j = 0; j <= n; j++)
        {
          weft_loss_series_append (c[j].epoch, x, y + (size_t) j * ne, k);
          weft_loss_series_append (c[j].val_epoch, x, v + (size_t) j * ne, k);
          weft_loss_series_append (c[j].val_step, xs, v + (size_t) j * ne, k);
        }
      g_free (x);
      g_free (xs);
      g_free (y);
      g_free (v);
    }
}

static void
rebuild (WeftLossChart *self)
{
  curves_free (self->cur, self->n_heads + 1);
  curves_free (self->prev, self->n_heads + 1);
  self->cur = self->prev = NULL;
  g_array_set_size (self->epoch_end, 0);
  g_array_set_size (self->prev_epoch_end, 0);
  self->n_heads = 0;
  self->synced_steps = self->synced_epochs = 0;
  self->synced_run = -1;
  if (self->history == NULL)
    {
      gtk_widget_queue_draw (GTK_WIDGET (self));
      return;
    }
  self->n_heads = weft_history_n_heads (self->history);
  self->cur = curves_new (self);
  self->prev = curves_new (self);
  int run = weft_history_current_run (self->history);
  self->synced_run = run;
  size_t sf, sc, ef, ec;
  if (run > 0)
    {
      weft_history_run_steps (self->history, run - 1, &sf, &sc);
      weft_history_run_epochs (self->history, run - 1, &ef, &ec);
      fill (self, self->prev, self->prev_epoch_end, run - 1, sf, sf + sc, ef, ef + ec);
    }
  weft_history_run_steps (self->history, run, &sf, &sc);
  weft_history_run_epochs (self->history, run, &ef, &ec);
  fill (self, self->cur, self->epoch_end, run, sf, sf + sc, ef, ef + ec);
  self->synced_steps = weft_history_n_steps (self->history);
  self->synced_epochs = weft_history_n_epochs (self->history);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

/* ---- view ------------------------------------------------------------------------------ */

static gboolean
head_visible (WeftLossChart *self, int j)
{
  if (j >= self->n_heads)
    return !(self->hidden & TOTAL_BIT) && self->n_heads > 1;
  return j >= 63 || !(self->hidden & ((guint64) 1 << j));
}

static WeftLossSeries *
train_of (WeftLossChart *self, Curves *c)
{
  return self->x_axis == WEFT_CHART_X_STEP ? c->step : c->epoch;
}

static WeftLossSeries *
val_of (WeftLossChart *self, Curves *c)
{
  return self->x_axis == WEFT_CHART_X_STEP ? c->val_step : c->val_epoch;
}

/* Every series drawn, in drawing order, with its style. */
typedef struct
{
  WeftLossSeries *series;
  int             head;
  gboolean        previous;
} Drawn;

static int
collect_drawn (WeftLossChart *self, Drawn *out, int max)
{
  int n = 0;
  if (self->cur == NULL)
    return 0;
  for (int pass = 0; pass < 2; pass++)
    {
      gboolean previous = pass == 0;
      Curves *c = previous ? self->prev : self->cur;
      if (previous && !self->show_previous)
        continue;
      for (int j = 0; j <= self->n_heads && n + 2 <= max; j++)
        {
          if (!head_visible (self, j))
            continue;
          int head = j < self->n_heads ? j : -1;
          out[n++] = (Drawn) { train_of (self, &c[j]), head, previous };
          if (self->show_validation)
            out[n++] = (Drawn) { val_of (self, &c[j]), head, previous };
        }
    }
  return n;
}

static gboolean
data_x_range (WeftLossChart *self, double *x0, double *x1)
{
  Drawn d[2 * 2 * (WEFT_MAX_HEADS + 1)];
  int n = collect_drawn (self, d, G_N_ELEMENTS (d));
  double lo = INFINITY, hi = -INFINITY;
  for (int i = 0; i < n; i++)
    {
      guint np = weft_loss_series_get_n_points (d[i].series);
      if (np == 0)
        continue;
      const double *x = weft_loss_series_get_x (d[i].series);
      lo = MIN (lo, x[0]);
      hi = MAX (hi, x[np - 1]);
    }
  if (!(lo <= hi))
    return FALSE;
  if (hi - lo < MIN_VIEW_WIDTH)
    {
      double mid = self->x_axis == WEFT_CHART_X_EPOCH ? lo : (lo + hi) / 2;
      lo = self->x_axis == WEFT_CHART_X_EPOCH ? mid - 0.5 : mid - MIN_VIEW_WIDTH / 2;
      hi = self->x_axis == WEFT_CHART_X_EPOCH ? mid + 0.5 : mid + MIN_VIEW_WIDTH / 2;
    }
  *x0 = lo;
  *x1 = hi;
  return TRUE;
}

gboolean
weft_loss_chart_get_view (WeftLossChart *self, double *x0, double *x1)
{
  g_return_val_if_fail (WEFT_IS_LOSS_CHART (self), FALSE);
  double a, b;
  if (!data_x_range (self, &a, &b))
    return FALSE;
  if (self->zoomed)
    {
      a = self->view_x0;
      b = self->view_x1;
    }
  if (x0 != NULL)
    *x0 = a;
  if (x1 != NULL)
    *x1 = b;
  return TRUE;
}

static void
set_view (WeftLossChart *self, double x0, double x1)
{
  double lo, hi;
  if (!data_x_range (self, &lo, &hi))
    return;
  double w = MAX (x1 - x0, MIN_VIEW_WIDTH);
  double full = hi - lo;
  if (w >= full)
    {
      weft_loss_chart_reset_view (self);
      return;
    }
  /* keep the view inside the data */
  if (x0 < lo)
    x0 = lo;
  if (x0 + w > hi)
    x0 = hi - w;
  self->zoomed = TRUE;
  self->view_x0 = x0;
  self->view_x1 = x0 + w;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

/* ---- drawing --------------------------------------------------------------------------- */

typedef struct
{
  double x, y, w, h;
} Rect;

static gboolean
is_dark (WeftLossChart *self)
{
  GdkRGBA fg;
  G_GNUC_BEGIN_IGNORE_DEPRECATIONS
  gtk_style_context_get_color (gtk_widget_get_style_context (GTK_WIDGET (self)), &fg);
  G_GNUC_END_IGNORE_DEPRECATIONS
  return 0.299 * fg.red + 0.587 * fg.green + 0.114 * fg.blue > 0.5;
}

static void
set_color (cairo_t *cr, const char *name, gboolean dark, double alpha)
{
  double rgb[3] = { 0.5, 0.5, 0.5 };
  weft_chart_palette_color (name, dark, rgb);
  cairo_set_source_rgba (cr, rgb[0], rgb[1], rgb[2], alpha);
}

static void
set_head_color (cairo_t *cr, int head, gboolean dark, double alpha)
{
  if (head < 0)
    set_color (cr, "total", dark, alpha);
  else
    {
      double rgb[3];
      weft_chart_head_color (head, dark, rgb);
      cairo_set_source_rgba (cr, rgb[0], rgb[1], rgb[2], alpha);
    }
}

static double
px (const Rect *r, const WeftChartAxis *a, double v)
{
  return r->x + weft_chart_axis_map (a, v) * r->w;
}

static double
py (const Rect *r, const WeftChartAxis *a, double v)
{
  double t = weft_chart_axis_map (a, v);
  if (isnan (t))
    return NAN;
  /* clamp far-off values: Cairo's fixed point overflows, the clip hides them anyway */
  return r->y + r->h - CLAMP (t, -100.0, 100.0) * r->h;
}

/* Sparse view (at most ~2 points per column): one polyline through the points. */
static void
trace_line (cairo_t *cr, const WeftLossColumn *cols, guint n_cols, const Rect *r,
            const WeftChartAxis *xa, const WeftChartAxis *ya)
{
  gboolean open = FALSE;
  for (guint k = 0; k < n_cols; k++)
    {
      const WeftLossColumn *c = &cols[k];
      if (c->n == 0)
        continue;
      double pts[2][2] = { { px (r, xa, c->x_first), py (r, ya, c->y_first) },
                           { px (r, xa, c->x_last), py (r, ya, c->y_last) } };
      for (int i = 0; i < (c->n > 1 ? 2 : 1); i++)
        {
          if (isnan (pts[i][1]))
            {
              open = FALSE;
              continue;
            }
          if (open)
            cairo_line_to (cr, pts[i][0], pts[i][1]);
          else
            {
              cairo_move_to (cr, pts[i][0], pts[i][1]);
              /* a lone point still shows with round caps */
              cairo_line_to (cr, pts[i][0], pts[i][1]);
            }
          open = TRUE;
        }
    }
}

/* Dense view: the min/max envelope of each pixel column, widened to meet its neighbours'
 * ends and to the line width, filled as one polygon per run of non-empty columns. Stroking
 * the same zigzag would make the rasteriser cross ~2 edges per column on every scanline. */
static void
trace_band (cairo_t *cr, const WeftLossColumn *cols, guint n_cols, const Rect *r,
            const WeftChartAxis *ya, double line_width, double *top, double *bottom)
{
  double half = line_width / 2;
  for (guint k = 0; k < n_cols; k++)
    {
      const WeftLossColumn *c = &cols[k];
      top[k] = bottom[k] = NAN;
      if (c->n == 0 || isnan (c->y_min))
        continue;
      double a = py (r, ya, c->y_max), b = py (r, ya, c->y_min);
      if (isnan (a) || isnan (b))
        continue;
      /* join the previous column's last point and the next column's first */
      if (k > 0 && cols[k - 1].n > 0)
        {
          double y = py (r, ya, cols[k - 1].y_last);
          if (!isnan (y))
            {
              a = MIN (a, y);
              b = MAX (b, y);
            }
        }
      top[k] = MIN (a, b) - half;
      bottom[k] = MAX (a, b) + half;
    }
  guint k = 0;
  while (k < n_cols)
    {
      if (isnan (top[k]))
        {
          k++;
          continue;
        }
      guint end = k;
      while (end < n_cols && !isnan (top[end]))
        end++;
      cairo_move_to (cr, r->x + k - half, top[k]);
      for (guint i = k; i < end; i++)
        {
          cairo_line_to (cr, r->x + i - half, top[i]);
          cairo_line_to (cr, r->x + i + 1 + half, top[i]);
        }
      for (guint i = end; i-- > k;)
        {
          cairo_line_to (cr, r->x + i + 1 + half, bottom[i]);
          cairo_line_to (cr, r->x + i - half, bottom[i]);
        }
      cairo_close_path (cr);
      k = end;
    }
}

/* Draws one series (raw or smoothed) with the current source colour. */
static void
draw_series (cairo_t *cr, WeftLossSeries *s, gboolean smoothed, double line_width,
             const Rect *r, const WeftChartAxis *xa, const WeftChartAxis *ya,
             guint n_cols)
{
  double x1 = nextafter (xa->max, INFINITY);
  const WeftLossColumn *cols = weft_loss_series_peek_decimation (s, xa->min, x1, n_cols,
                                                                 smoothed);
  guint in_view = weft_loss_series_lower_bound (s, x1) - weft_loss_series_lower_bound (s, xa->min);
  cairo_set_line_width (cr, line_width);
  if (in_view <= 2 * n_cols)
    {
      trace_line (cr, cols, n_cols, r, xa, ya);
      cairo_stroke (cr);
    }
  else
    {
      /* columns are one pixel wide: decimated exactly to pixel columns */
      double *scratch = g_new (double, 2 * (gsize) n_cols);
      trace_band (cr, cols, n_cols, r, ya, line_width, scratch, scratch + n_cols);
      /* the band's edges are almost all vertical, on a fixed pixel grid: 4x4 supersampling
       * looks the same as the default 15-row one and rasterises several times faster */
      cairo_antialias_t aa = cairo_get_antialias (cr);
      cairo_set_antialias (cr, CAIRO_ANTIALIAS_FAST);
      cairo_fill (cr);
      cairo_set_antialias (cr, aa);
      g_free (scratch);
    }
}

static void
compute_axes (WeftLossChart *self, const Rect *r, WeftChartAxis *xa, WeftChartAxis *ya,
              Drawn *d, int n_drawn)
{
  double x0 = 0, x1 = 1;
  weft_loss_chart_get_view (self, &x0, &x1);
  WeftChartScale ys = self->log_scale ? WEFT_CHART_SCALE_LOG : WEFT_CHART_SCALE_LINEAR;
  WeftChartRange xr = { x0, x1 }, yr = WEFT_CHART_RANGE_EMPTY;
  for (int i = 0; i < n_drawn; i++)
    {
      double lo, hi;
      for (int sm = 0; sm < 2; sm++)
        if (weft_loss_series_y_range (d[i].series, x0, x1, sm, self->log_scale, &lo, &hi))
          {
            weft_chart_range_include (&yr, ys, lo);
            weft_chart_range_include (&yr, ys, hi);
          }
    }
  int xt = MAX (2, (int) (r->w / 90));
  int yt = MAX (2, (int) (r->h / 40));
  weft_chart_axis_init (xa, WEFT_CHART_SCALE_LINEAR, xr, TRUE, self->zoomed ? 0 : xt);
  weft_chart_axis_init (ya, ys, yr, FALSE, yt);
}

/* Legend in the plot's top-right corner: one entry per visible head, solid for training and
 * dashed for validation (so exported pictures explain themselves). */
static void
draw_legend (WeftLossChart *self, cairo_t *cr, const Rect *r, gboolean dark)
{
  if (self->cur == NULL)
    return;
  int n = 0;
  double w = 0, lh = FONT_SIZE * 1.4, swatch = 22;
  for (int j = 0; j <= self->n_heads; j++)
    if (head_visible (self, j))
      {
        cairo_text_extents_t ext;
        cairo_text_extents (cr, weft_loss_series_get_label (self->cur[j].step), &ext);
        w = MAX (w, ext.x_advance);
        n++;
      }
  if (n == 0)
    return;
  const char *val_text = _("dashed: validation");
  gboolean val_note = self->show_validation;
  if (val_note)
    {
      cairo_text_extents_t ext;
      cairo_text_extents (cr, val_text, &ext);
      w = MAX (w, ext.x_advance - swatch - 6);
    }
  double bw = swatch + 6 + w + 12, bh = (n + (val_note ? 1 : 0)) * lh + 6;
  double bx = r->x + r->w - bw - 6, by = r->y + 6;
  set_color (cr, "legend", dark, 0.85);
  cairo_rectangle (cr, bx, by, bw, bh);
  cairo_fill (cr);
  int row = 0;
  for (int j = 0; j <= self->n_heads; j++)
    {
      if (!head_visible (self, j))
        continue;
      double y = by + 3 + lh * (row + 0.5);
      set_head_color (cr, j < self->n_heads ? j : -1, dark, 1);
      cairo_set_line_width (cr, LINE_WIDTH);
      cairo_move_to (cr, bx + 6, floor (y) + 0.5);
      cairo_line_to (cr, bx + 6 + swatch, floor (y) + 0.5);
      cairo_stroke (cr);
      set_color (cr, "foreground", dark, 1);
      cairo_move_to (cr, bx + 12 + swatch, y + FONT_SIZE * 0.35);
      cairo_show_text (cr, weft_loss_series_get_label (self->cur[j].step));
      row++;
    }
  if (val_note)
    {
      set_color (cr, "axis", dark, 1);
      cairo_move_to (cr, bx + 6, by + 3 + lh * (row + 0.5) + FONT_SIZE * 0.35);
      cairo_show_text (cr, val_text);
    }
}

static void
draw_readout (WeftLossChart *self, cairo_t *cr, const Rect *r, const WeftChartAxis *xa,
              gboolean dark)
{
  if (isnan (self->hover_x))
    return;
  double hx = px (r, xa, self->hover_x);
  if (!(hx >= r->x && hx <= r->x + r->w))
    return;
  g_autofree char *text = weft_loss_chart_dup_readout (self, self->hover_x);
  if (text == NULL)
    return;
  set_color (cr, "axis", dark, 0.8);
  cairo_set_line_width (cr, 1);
  cairo_move_to (cr, floor (hx) + 0.5, r->y);
  cairo_line_to (cr, floor (hx) + 0.5, r->y + r->h);
  cairo_stroke (cr);

  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
  int n = g_strv_length (lines);
  double w = 0, lh = FONT_SIZE * 1.35;
  for (int i = 0; i < n; i++)
    {
      cairo_text_extents_t ext;
      cairo_text_extents (cr, lines[i], &ext);
      w = MAX (w, ext.x_advance);
    }
  double bw = w + 16, bh = n * lh + 8;
  double bx = hx + 10 + bw > r->x + r->w ? hx - 10 - bw : hx + 10;
  double by = r->y + 6;
  set_color (cr, "legend", dark, 0.92);
  cairo_rectangle (cr, bx, by, bw, bh);
  cairo_fill_preserve (cr);
  set_color (cr, "grid", dark, 1);
  cairo_set_line_width (cr, 1);
  cairo_stroke (cr);
  set_color (cr, "foreground", dark, 1);
  for (int i = 0; i < n; i++)
    {
      cairo_move_to (cr, bx + 8, by + 4 + lh * (i + 0.8));
      cairo_show_text (cr, lines[i]);
    }
}

void
weft_loss_chart_draw (WeftLossChart *self, cairo_t *cr, int width, int height)
{
  g_return_if_fail (WEFT_IS_LOSS_CHART (self));
  if (width <= 0 || height <= 0)
    return;
  gboolean dark = is_dark (self);

  cairo_save (cr);
  set_color (cr, "background", dark, 1);
  cairo_rectangle (cr, 0, 0, width, height);
  cairo_fill (cr);
  cairo_select_font_face (cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size (cr, FONT_SIZE);

  Rect r = { MARGIN_LEFT, MARGIN_TOP, width - MARGIN_LEFT - MARGIN_RIGHT,
             height - MARGIN_TOP - MARGIN_BOTTOM };
  if (r.w < 10 || r.h < 10)
    {
      cairo_restore (cr);
      return;
    }
  Drawn d[2 * 2 * (WEFT_MAX_HEADS + 1)];
  int n_drawn = collect_drawn (self, d, G_N_ELEMENTS (d));
  WeftChartAxis xa, ya;
  compute_axes (self, &r, &xa, &ya, d, n_drawn);

  /* grid and tick labels */
  double ticks[MAX_TICKS], step = 0;
  char label[64];
  cairo_set_line_width (cr, 1);
  int nt = weft_chart_axis_ticks (&ya, MAX (2, (int) (r.h / 40)), ticks, MAX_TICKS, &step);
  for (int i = 0; i < nt; i++)
    {
      double y = floor (py (&r, &ya, ticks[i])) + 0.5;
      set_color (cr, "grid", dark, 1);
      cairo_move_to (cr, r.x, y);
      cairo_line_to (cr, r.x + r.w, y);
      cairo_stroke (cr);
      weft_chart_axis_format (&ya, ticks[i], step, label, sizeof label);
      cairo_text_extents_t ext;
      cairo_text_extents (cr, label, &ext);
      set_color (cr, "axis", dark, 1);
      cairo_move_to (cr, r.x - 6 - ext.x_advance, y + FONT_SIZE * 0.35);
      cairo_show_text (cr, label);
    }
  nt = weft_chart_axis_ticks (&xa, MAX (2, (int) (r.w / 90)), ticks, MAX_TICKS, &step);
  for (int i = 0; i < nt; i++)
    {
      double x = floor (px (&r, &xa, ticks[i])) + 0.5;
      set_color (cr, "grid", dark, 1);
      cairo_move_to (cr, x, r.y);
      cairo_line_to (cr, x, r.y + r.h);
      cairo_stroke (cr);
      weft_chart_axis_format (&xa, ticks[i], step, label, sizeof label);
      cairo_text_extents_t ext;
      cairo_text_extents (cr, label, &ext);
      set_color (cr, "axis", dark, 1);
      cairo_move_to (cr, x - ext.x_advance / 2, r.y + r.h + FONT_SIZE + 6);
      cairo_show_text (cr, label);
    }
  set_color (cr, "axis", dark, 1);
  cairo_rectangle (cr, r.x + 0.5, r.y + 0.5, r.w - 1, r.h - 1);
  cairo_stroke (cr);
  {
    const char *xt = self->x_axis == WEFT_CHART_X_STEP ? _("step") : _("epoch");
    cairo_text_extents_t ext;
    cairo_text_extents (cr, xt, &ext);
    cairo_move_to (cr, r.x + r.w - ext.x_advance, height - 4);
    cairo_show_text (cr, xt);
  }

  /* curves */
  guint n_cols = (guint) MAX (1, ceil (r.w));
  cairo_save (cr);
  cairo_rectangle (cr, r.x, r.y, r.w, r.h);
  cairo_clip (cr);
  cairo_set_line_join (cr, CAIRO_LINE_JOIN_ROUND);
  cairo_set_line_cap (cr, CAIRO_LINE_CAP_ROUND);
  for (int i = 0; i < n_drawn; i++)
    {
      WeftLossSeries *s = d[i].series;
      gboolean val = weft_loss_series_get_kind (s) == WEFT_LOSS_SERIES_VALIDATION;
      double alpha = d[i].previous ? PREVIOUS_ALPHA : 1.0;
      double dash[2] = { 6, 4 };
      cairo_set_dash (cr, dash, val ? 2 : 0, 0);
      if (!val && weft_loss_series_get_smoothing (s) > 0)
        {
          /* the raw curve, faint, behind the smoothed one */
          set_head_color (cr, d[i].head, dark, alpha * RAW_ALPHA);
          draw_series (cr, s, FALSE, 1.0, &r, &xa, &ya, n_cols);
        }
      set_head_color (cr, d[i].head, dark, alpha);
      draw_series (cr, s, TRUE, d[i].previous ? 1.0 : LINE_WIDTH, &r, &xa, &ya, n_cols);
    }
  cairo_set_dash (cr, NULL, 0, 0);
  cairo_restore (cr);

  if (n_drawn > 0)
    draw_legend (self, cr, &r, dark);
  draw_readout (self, cr, &r, &xa, dark);
  if (n_drawn == 0)
    {
      const char *t = _("No training history yet");
      cairo_text_extents_t ext;
      cairo_text_extents (cr, t, &ext);
      set_color (cr, "axis", dark, 1);
      cairo_move_to (cr, r.x + (r.w - ext.x_advance) / 2, r.y + r.h / 2);
      cairo_show_text (cr, t);
    }
  cairo_restore (cr);
}

/* ---- GtkWidget ------------------------------------------------------------------------- */

static void
weft_loss_chart_snapshot (GtkWidget *widget, GtkSnapshot *snapshot)
{
  WeftLossChart *self = WEFT_LOSS_CHART (widget);
  int w = gtk_widget_get_width (widget), h = gtk_widget_get_height (widget);
  if (w <= 0 || h <= 0)
    return;
  cairo_t *cr = gtk_snapshot_append_cairo (snapshot, &GRAPHENE_RECT_INIT (0, 0, w, h));
  weft_loss_chart_draw (self, cr, w, h);
  cairo_destroy (cr);
}

static double
data_x_at (WeftLossChart *self, double wx)
{
  double x0, x1;
  int w = gtk_widget_get_width (GTK_WIDGET (self));
  double pw = w - MARGIN_LEFT - MARGIN_RIGHT;
  if (pw <= 0 || !weft_loss_chart_get_view (self, &x0, &x1))
    return NAN;
  /* the drawn x axis may be widened to nice ticks when not zoomed */
  Rect r = { MARGIN_LEFT, MARGIN_TOP, pw, gtk_widget_get_height (GTK_WIDGET (self)) - MARGIN_TOP - MARGIN_BOTTOM };
  WeftChartAxis xa, ya;
  Drawn d[2 * 2 * (WEFT_MAX_HEADS + 1)];
  int n = collect_drawn (self, d, G_N_ELEMENTS (d));
  compute_axes (self, &r, &xa, &ya, d, n);
  return weft_chart_axis_unmap (&xa, (wx - MARGIN_LEFT) / pw);
}

static void
motion_cb (GtkEventControllerMotion *c, double x, double y, WeftLossChart *self)
{
  weft_loss_chart_set_hover (self, data_x_at (self, x));
}

static void
leave_cb (GtkEventControllerMotion *c, WeftLossChart *self)
{
  weft_loss_chart_set_hover (self, NAN);
}

static gboolean
scroll_cb (GtkEventControllerScroll *c, double dx, double dy, WeftLossChart *self)
{
  double anchor = self->hover_x;
  if (isnan (anchor))
    {
      double x0, x1;
      if (!weft_loss_chart_get_view (self, &x0, &x1))
        return FALSE;
      anchor = (x0 + x1) / 2;
    }
  if (dy != 0)
    weft_loss_chart_zoom (self, anchor, dy < 0 ? 1 / ZOOM_STEP : ZOOM_STEP);
  else if (dx != 0)
    weft_loss_chart_pan (self, dx * 0.1);
  return TRUE;
}

static void
drag_begin_cb (GtkGestureDrag *g, double x, double y, WeftLossChart *self)
{
  if (!weft_loss_chart_get_view (self, &self->drag_x0, &self->drag_x1))
    gtk_gesture_set_state (GTK_GESTURE (g), GTK_EVENT_SEQUENCE_DENIED);
}

static void
drag_update_cb (GtkGestureDrag *g, double ox, double oy, WeftLossChart *self)
{
  double pw = gtk_widget_get_width (GTK_WIDGET (self)) - MARGIN_LEFT - MARGIN_RIGHT;
  if (pw <= 0 || !self->zoomed)
    return;
  double shift = -ox / pw * (self->drag_x1 - self->drag_x0);
  set_view (self, self->drag_x0 + shift, self->drag_x1 + shift);
}

static void
pressed_cb (GtkGestureClick *g, int n_press, double x, double y, WeftLossChart *self)
{
  if (n_press == 2)
    weft_loss_chart_reset_view (self);
}

static void
weft_loss_chart_dispose (GObject *object)
{
  WeftLossChart *self = WEFT_LOSS_CHART (object);

  curves_free (self->cur, self->n_heads + 1);
  curves_free (self->prev, self->n_heads + 1);
  self->cur = self->prev = NULL;
  self->history = NULL;

  G_OBJECT_CLASS (weft_loss_chart_parent_class)->dispose (object);
}

static void
weft_loss_chart_finalize (GObject *object)
{
  WeftLossChart *self = WEFT_LOSS_CHART (object);

  g_clear_pointer (&self->epoch_end, g_array_unref);
  g_clear_pointer (&self->prev_epoch_end, g_array_unref);

  G_OBJECT_CLASS (weft_loss_chart_parent_class)->finalize (object);
}

static void
weft_loss_chart_measure (GtkWidget *widget, GtkOrientation orientation, int for_size,
                         int *minimum, int *natural, int *min_baseline, int *nat_baseline)
{
  *minimum = orientation == GTK_ORIENTATION_HORIZONTAL ? 200 : 140;
  *natural = orientation == GTK_ORIENTATION_HORIZONTAL ? 560 : 300;
}

static void
weft_loss_chart_class_init (WeftLossChartClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = weft_loss_chart_dispose;
  object_class->finalize = weft_loss_chart_finalize;
  widget_class->snapshot = weft_loss_chart_snapshot;
  widget_class->measure = weft_loss_chart_measure;

  gtk_widget_class_set_css_name (widget_class, "weft-loss-chart");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void
weft_loss_chart_init (WeftLossChart *self)
{
  self->epoch_end = g_array_new (FALSE, FALSE, sizeof (double));
  self->prev_epoch_end = g_array_new (FALSE, FALSE, sizeof (double));
  self->x_axis = WEFT_CHART_X_STEP;
  self->show_validation = TRUE;
  self->show_previous = TRUE;
  self->hover_x = NAN;
  self->synced_run = -1;

  GtkEventController *motion = gtk_event_controller_motion_new ();
  g_signal_connect (motion, "motion", G_CALLBACK (motion_cb), self);
  g_signal_connect (motion, "leave", G_CALLBACK (leave_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), motion);

  GtkEventController *scroll =
    gtk_event_controller_scroll_new (GTK_EVENT_CONTROLLER_SCROLL_BOTH_AXES);
  g_signal_connect (scroll, "scroll", G_CALLBACK (scroll_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), scroll);

  GtkGesture *drag = gtk_gesture_drag_new ();
  g_signal_connect (drag, "drag-begin", G_CALLBACK (drag_begin_cb), self);
  g_signal_connect (drag, "drag-update", G_CALLBACK (drag_update_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (drag));

  GtkGesture *click = gtk_gesture_click_new ();
  g_signal_connect (click, "pressed", G_CALLBACK (pressed_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (click));

  gtk_accessible_update_property (GTK_ACCESSIBLE (self),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, _("Loss chart"),
                                  GTK_ACCESSIBLE_PROPERTY_DESCRIPTION,
                                  _("Training loss of every head over time. Scroll to zoom, "
                                    "drag to pan, double click to reset."),
                                  -1);
}

/* ---- public API ------------------------------------------------------------------------ */

GtkWidget *
weft_loss_chart_new (void)
{
  return g_object_new (WEFT_TYPE_LOSS_CHART, NULL);
}

void
weft_loss_chart_set_history (WeftLossChart *self, WeftHistory *history)
{
  g_return_if_fail (WEFT_IS_LOSS_CHART (self));
  self->history = history;
  self->zoomed = FALSE;
  rebuild (self);
}

WeftHistory *
weft_loss_chart_get_history (WeftLossChart *self)
{
  g_return_val_if_fail (WEFT_IS_LOSS_CHART (self), NULL);
  return self->history;
}

void
weft_loss_chart_sync (WeftLossChart *self)
{
  g_return_if_fail (WEFT_IS_LOSS_CHART (self));
  if (self->history == NULL)
    return;
  size_t ns = weft_history_n_steps (self->history);
  size_t ne = weft_history_n_epochs (self->history);
  int run = weft_history_current_run (self->history);
  if (self->cur == NULL || run != self->synced_run || ns < self->synced_steps
      || ne < self->synced_epochs || weft_history_n_heads (self->history) != self->n_heads)
    {
      rebuild (self);
      return;
    }
  fill (self, self->cur, self->epoch_end, run, self->synced_steps, ns, self->synced_epochs, ne);
  self->synced_steps = ns;
  self->synced_epochs = ne;
}

void
weft_loss_chart_set_x_axis (WeftLossChart *self, WeftChartXAxis x_axis)
{
  g_return_if_fail (WEFT_IS_LOSS_CHART (self));
  if (self->x_axis == x_axis)
    return;
  self->x_axis = x_axis;
  self->zoomed = FALSE;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

WeftChartXAxis
weft_loss_chart_get_x_axis (WeftLossChart *self)
{
  g_return_val_if_fail (WEFT_IS_LOSS_CHART (self), WEFT_CHART_X_STEP);
  return self->x_axis;
}

void
weft_loss_chart_set_log_scale (WeftLossChart *self, gboolean log_scale)
{
  g_return_if_fail (WEFT_IS_LOSS_CHART (self));
  self->log_scale = !!log_scale;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

gboolean
weft_loss_chart_get_log_scale (WeftLossChart *self)
{
  g_return_val_if_fail (WEFT_IS_LOSS_CHART (self), FALSE);
  return self->log_scale;
}

void
weft_loss_chart_set_smoothing (WeftLossChart *self, double smoothing)
{
  g_return_if_fail (WEFT_IS_LOSS_CHART (self));
  smoothing = isfinite (smoothing) ? CLAMP (smoothing, 0.0, 0.999) : 0.0;
  if (smoothing == self->smoothing)
    return;
  self->smoothing = smoothing;
  for (int pass = 0; pass < 2 && self->cur != NULL; pass++)
    {
      Curves *c = pass ? self->prev : self->cur;
      for (int j = 0; j <= self->n_heads; j++)
        {
          weft_loss_series_set_smoothing (c[j].step, smoothing);
          weft_loss_series_set_smoothing (c[j].epoch, smoothing);
        }
    }
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

double
weft_loss_chart_get_smoothing (WeftLossChart *self)
{
  g_return_val_if_fail (WEFT_IS_LOSS_CHART (self), 0);
  return self->smoothing;
}

void
weft_loss_chart_set_show_validation (WeftLossChart *self, gboolean show)
{
  g_return_if_fail (WEFT_IS_LOSS_CHART (self));
  self->show_validation = !!show;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
weft_loss_chart_set_show_previous (WeftLossChart *self, gboolean show)
{
  g_return_if_fail (WEFT_IS_LOSS_CHART (self));
  self->show_previous = !!show;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
weft_loss_chart_set_head_visible (WeftLossChart *self, int head, gboolean visible)
{
  g_return_if_fail (WEFT_IS_LOSS_CHART (self));
  g_return_if_fail (head >= -1 && head < 63);
  guint64 bit = head < 0 ? TOTAL_BIT : (guint64) 1 << head;
  if (visible)
    self->hidden &= ~bit;
  else
    self->hidden |= bit;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

gboolean
weft_loss_chart_get_head_visible (WeftLossChart *self, int head)
{
  g_return_val_if_fail (WEFT_IS_LOSS_CHART (self), FALSE);
  g_return_val_if_fail (head >= -1 && head < 63, FALSE);
  guint64 bit = head < 0 ? TOTAL_BIT : (guint64) 1 << head;
  return !(self->hidden & bit);
}

void
weft_loss_chart_zoom (WeftLossChart *self, double anchor, double factor)
{
  g_return_if_fail (WEFT_IS_LOSS_CHART (self));
  double x0, x1;
  if (!(factor > 0) || !isfinite (anchor) || !weft_loss_chart_get_view (self, &x0, &x1))
    return;
  anchor = CLAMP (anchor, x0, x1);
  set_view (self, anchor - (anchor - x0) * factor, anchor + (x1 - anchor) * factor);
}

void
weft_loss_chart_pan (WeftLossChart *self, double fraction)
{
  g_return_if_fail (WEFT_IS_LOSS_CHART (self));
  double x0, x1;
  if (!self->zoomed || !weft_loss_chart_get_view (self, &x0, &x1))
    return;
  double shift = (x1 - x0) * fraction;
  set_view (self, x0 + shift, x1 + shift);
}

void
weft_loss_chart_reset_view (WeftLossChart *self)
{
  g_return_if_fail (WEFT_IS_LOSS_CHART (self));
  self->zoomed = FALSE;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
weft_loss_chart_set_hover (WeftLossChart *self, double x)
{
  g_return_if_fail (WEFT_IS_LOSS_CHART (self));
  if (isnan (x) && isnan (self->hover_x))
    return;
  self->hover_x = x;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

char *
weft_loss_chart_dup_readout (WeftLossChart *self, double x)
{
  g_return_val_if_fail (WEFT_IS_LOSS_CHART (self), NULL);
  if (self->cur == NULL || isnan (x))
    return NULL;
  GString *s = g_string_new (NULL);
  double at = NAN;
  for (int j = 0; j <= self->n_heads; j++)
    {
      if (!head_visible (self, j))
        continue;
      for (int v = 0; v < 2; v++)
        {
          if (v == 1 && !self->show_validation)
            continue;
          WeftLossSeries *series = v ? val_of (self, &self->cur[j]) : train_of (self, &self->cur[j]);
          guint i;
          if (!weft_loss_series_nearest (series, x, &i))
            continue;
          double y = weft_loss_series_get_smoothed (series)[i];
          if (isnan (at) && v == 0)
            at = weft_loss_series_get_x (series)[i];
          if (isnan (y))
            continue;
          const char *label = weft_loss_series_get_label (series);
          if (v)
            /* TRANSLATORS: hover read-out line of a validation curve, e.g. "val income: 0.41" */
            g_string_append_printf (s, _("val %s: %.4g\n"), label, y);
          else
            g_string_append_printf (s, "%s: %.4g\n", label, y);
        }
    }
  if (s->len == 0)
    return g_string_free (s, TRUE);
  g_string_truncate (s, s->len - 1);
  if (!isnan (at))
    {
      g_autofree char *head = self->x_axis == WEFT_CHART_X_STEP
                              ? g_strdup_printf (_("step %.0f"), at)
                              : g_strdup_printf (_("epoch %.0f"), at);
      g_string_prepend_c (s, '\n');
      g_string_prepend (s, head);
    }
  return g_string_free (s, FALSE);
}

WeftLossSeries *
weft_loss_chart_get_series (WeftLossChart *self, int head, gboolean validation)
{
  g_return_val_if_fail (WEFT_IS_LOSS_CHART (self), NULL);
  if (self->cur == NULL || head < -1 || head >= self->n_heads)
    return NULL;
  Curves *c = &self->cur[head < 0 ? self->n_heads : head];
  return validation ? val_of (self, c) : train_of (self, c);
}

static cairo_status_t
write_bytes (void *closure, const unsigned char *data, unsigned int length)
{
  g_byte_array_append (closure, data, length);
  return CAIRO_STATUS_SUCCESS;
}

static gboolean
save_surface (WeftLossChart *self, const char *path, int width, int height, gboolean svg,
              GError **error)
{
  if (width < 1 || height < 1 || width > EXPORT_MAX || height > EXPORT_MAX)
    {
      g_set_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_TOO_LARGE,
                   _("The picture size %d × %d is outside 1 to %d pixels"), width, height,
                   EXPORT_MAX);
      return FALSE;
    }
  g_autoptr(GByteArray) bytes = g_byte_array_new ();
  cairo_surface_t *surface = svg
    ? cairo_svg_surface_create_for_stream (write_bytes, bytes, width, height)
    : cairo_image_surface_create (CAIRO_FORMAT_ARGB32, width, height);
  cairo_t *cr = cairo_create (surface);
  weft_loss_chart_draw (self, cr, width, height);
  cairo_destroy (cr);
  cairo_status_t status = svg ? (cairo_surface_finish (surface), cairo_surface_status (surface))
                              : cairo_surface_write_to_png_stream (surface, write_bytes, bytes);
  cairo_surface_destroy (surface);
  if (status != CAIRO_STATUS_SUCCESS)
    {
      g_set_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_IO, "%s: %s", path,
                   cairo_status_to_string (status));
      return FALSE;
    }
  /* g_file_set_contents writes a temporary file, fsyncs and renames */
  return g_file_set_contents (path, (const char *) bytes->data, bytes->len, error);
}

gboolean
weft_loss_chart_save_png (WeftLossChart *self, const char *path, int width, int height,
                          GError **error)
{
  g_return_val_if_fail (WEFT_IS_LOSS_CHART (self), FALSE);
  g_return_val_if_fail (path != NULL, FALSE);
  return save_surface (self, path, width, height, FALSE, error);
}

gboolean
weft_loss_chart_save_svg (WeftLossChart *self, const char *path, int width, int height,
                          GError **error)
{
  g_return_val_if_fail (WEFT_IS_LOSS_CHART (self), FALSE);
  g_return_val_if_fail (path != NULL, FALSE);
  return save_surface (self, path, width, height, TRUE, error);
}

gboolean
weft_loss_chart_save_csv (WeftLossChart *self, const char *path, gboolean steps,
                          GError **error)
{
  g_return_val_if_fail (WEFT_IS_LOSS_CHART (self), FALSE);
  g_return_val_if_fail (path != NULL, FALSE);
  if (self->history == NULL)
    {
      g_set_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_IO, _("There is no history to export"));
      return FALSE;
    }
  return weft_csv_history_save (self->history, path,
                                steps ? WEFT_CSV_HISTORY_STEPS : WEFT_CSV_HISTORY_EPOCHS, -1,
                                error);
}
