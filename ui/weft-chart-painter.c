/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "weft-chart"

#include "config.h"

#include "weft-chart-painter.h"
#include "weft-safetensors.h"   /* WEFT_IO_ERROR */

#include <cairo-svg.h>
#include <errno.h>
#include <fcntl.h>
#include <float.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#define CHART_MAX_SIZE        16384
#define CHART_MAX_TICKS       64
#define DEGENERATE_REL_WIDTH  1e-12
/* Beyond this many pixels outside the plot, coordinates are clamped: Cairo's fixed-point
 * paths overflow near 2^23 and the clip hides the rest anyway. */
#define COORD_LIMIT           1e5
#define MARKERS_MAX_POINTS    40
#define PREVIOUS_RUN_ALPHA    0.35

/* ---- Palette: the only place with literal colours ------------------------------------- */

typedef struct
{
  const char *name;
  double      light[3];
  double      dark[3];
} PaletteEntry;

/* GNOME HIG palette (light: the "3" shades, dark: the lighter "2" shades). */
static const PaletteEntry palette[] = {
  { "background", { 1.000, 1.000, 1.000 }, { 0.141, 0.141, 0.141 } },
  { "foreground", { 0.141, 0.122, 0.192 }, { 0.871, 0.867, 0.855 } },
  { "grid",       { 0.894, 0.894, 0.906 }, { 0.239, 0.239, 0.247 } },
  { "axis",       { 0.467, 0.463, 0.482 }, { 0.604, 0.600, 0.588 } },
  { "legend",     { 1.000, 1.000, 1.000 }, { 0.188, 0.188, 0.188 } },
  { "total",      { 0.239, 0.220, 0.275 }, { 0.965, 0.961, 0.957 } },
  { "blue",       { 0.208, 0.518, 0.894 }, { 0.384, 0.627, 0.918 } },
  { "orange",     { 1.000, 0.471, 0.000 }, { 1.000, 0.639, 0.282 } },
  { "green",      { 0.180, 0.761, 0.494 }, { 0.341, 0.890, 0.537 } },
  { "purple",     { 0.569, 0.255, 0.675 }, { 0.753, 0.380, 0.796 } },
  { "red",        { 0.878, 0.106, 0.141 }, { 0.965, 0.380, 0.318 } },
  { "yellow",     { 0.898, 0.647, 0.039 }, { 0.973, 0.894, 0.361 } },
  { "brown",      { 0.596, 0.416, 0.267 }, { 0.804, 0.671, 0.561 } },
  { "teal",       { 0.129, 0.565, 0.643 }, { 0.275, 0.722, 0.800 } },
};

static const char *const head_colors[] = {
  "blue", "orange", "green", "purple", "red", "yellow", "brown", "teal",
};

bool
weft_chart_palette_color (const char *name, bool dark, double rgb[3])
{
  g_return_val_if_fail (name != NULL && rgb != NULL, false);
  for (gsize i = 0; i < G_N_ELEMENTS (palette); i++)
    if (strcmp (palette[i].name, name) == 0)
      {
        memcpy (rgb, dark ? palette[i].dark : palette[i].light, 3 * sizeof (double));
        return true;
      }
  return false;
}

const char *
weft_chart_head_color_name (int head)
{
  if (head < 0)
    head = 0;
  return head_colors[head % G_N_ELEMENTS (head_colors)];
}

void
weft_chart_head_color (int head, bool dark, double rgb[3])
{
  weft_chart_palette_color (weft_chart_head_color_name (head), dark, rgb);
}

static void
set_color (cairo_t *cr, const char *name, bool dark, double alpha)
{
  double rgb[3] = { 0, 0, 0 };

  weft_chart_palette_color (name, dark, rgb);
  cairo_set_source_rgba (cr, rgb[0], rgb[1], rgb[2], alpha);
}

/* ---- Axis ----------------------------------------------------------------------------- */

double
weft_chart_nice_number (double x, bool round)
{
  double e, f, nf;

  if (!(x > 0) || !isfinite (x))
    return 1.0;
  e = floor (log10 (x));
  f = x / pow (10.0, e);
  if (round)
    nf = f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10;
  else
    nf = f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10;
  return nf * pow (10.0, e);
}

void
weft_chart_range_include (WeftChartRange *range, WeftChartScale scale, double v)
{
  g_return_if_fail (range != NULL);
  if (!isfinite (v) || (scale == WEFT_CHART_SCALE_LOG && v <= 0))
    return;
  if (v < range->lo)
    range->lo = v;
  if (v > range->hi)
    range->hi = v;
}

static double
linear_step (double lo, double hi, int target, bool integer)
{
  double step;

  if (target < 2)
    target = 2;
  step = weft_chart_nice_number (weft_chart_nice_number (hi - lo, false) / (target - 1), true);
  if (integer && step < 1)
    step = 1;
  return step;
}

/* Mantissas used for log ticks on short ranges. */
static const double mantissas_125[] = { 1, 2, 5 };
static const double mantissas_all[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9 };

static int
log_ticks_with (double min, double max, const double *mant, int n_mant, double *ticks,
                int max_ticks)
{
  int n = 0;
  int d0 = (int) floor (log10 (min)) - 1;
  int d1 = (int) ceil (log10 (max)) + 1;

  for (int d = d0; d <= d1; d++)
    for (int m = 0; m < n_mant; m++)
      {
        double v = mant[m] * pow (10.0, d);

        if (v < min * (1 - 1e-9) || v > max * (1 + 1e-9))
          continue;
        if (n < max_ticks && ticks != NULL)
          ticks[n] = v;
        n++;
      }
  return n;
}

static void
axis_nice_log (WeftChartAxis *axis, int target)
{
  double decades = log10 (axis->max) - log10 (axis->min);
  double lo, hi;

  if (decades > 3 || target < 3)
    {
      lo = pow (10.0, floor (log10 (axis->min) + 1e-9));
      hi = pow (10.0, ceil (log10 (axis->max) - 1e-9));
    }
  else
    {
      /* Snap to the 1-2-5 grid: largest grid value <= min, smallest >= max. */
      double e = floor (log10 (axis->min));
      lo = pow (10.0, e);
      for (int d = -1; d <= 1; d++)
        for (int m = 0; m < 3; m++)
          {
            double v = mantissas_125[m] * pow (10.0, e + d);
            if (v <= axis->min * (1 + 1e-9) && v > lo)
              lo = v;
          }
      e = floor (log10 (axis->max));
      hi = 10 * pow (10.0, e);
      for (int d = -1; d <= 1; d++)
        for (int m = 0; m < 3; m++)
          {
            double v = mantissas_125[m] * pow (10.0, e + d);
            if (v >= axis->max * (1 - 1e-9) && v < hi)
              hi = v;
          }
    }
  if (isfinite (lo) && isfinite (hi) && lo > 0 && lo < hi)
    {
      axis->min = lo;
      axis->max = hi;
    }
}

void
weft_chart_axis_init (WeftChartAxis *axis, WeftChartScale scale, WeftChartRange range,
                      bool integer, int target_ticks)
{
  double lo = range.lo, hi = range.hi;

  g_return_if_fail (axis != NULL);
  axis->scale = scale;
  axis->integer = integer;
  axis->step = 0;

  if (isfinite (lo) && isfinite (hi) && lo > hi)
    {
      double t = lo;
      lo = hi;
      hi = t;
    }
  if (scale == WEFT_CHART_SCALE_LOG)
    {
      if (!isfinite (hi) || hi <= 0)
        lo = hi = NAN;
      else if (!isfinite (lo) || lo <= 0)
        lo = hi / 10;
    }
  if (!isfinite (lo) || !isfinite (hi))
    {
      axis->min = scale == WEFT_CHART_SCALE_LOG ? 0.1 : 0.0;
      axis->max = 1.0;
      return;
    }
  /* Keep hi - lo finite. */
  lo = CLAMP (lo, -DBL_MAX / 4, DBL_MAX / 4);
  hi = CLAMP (hi, -DBL_MAX / 4, DBL_MAX / 4);

  if (hi - lo <= DEGENERATE_REL_WIDTH * MAX (fabs (lo), fabs (hi)))
    {
      double c = (lo + hi) / 2;

      if (scale == WEFT_CHART_SCALE_LOG)
        {
          lo = c / 2;
          hi = c * 2;
        }
      else
        {
          double d = integer ? 1.0 : (c != 0 ? fabs (c) * 0.1 : 1.0);
          lo = c - d;
          hi = c + d;
        }
    }
  axis->min = lo;
  axis->max = hi;
  if (target_ticks <= 0)
    return;

  if (scale == WEFT_CHART_SCALE_LOG)
    axis_nice_log (axis, target_ticks);
  else
    {
      double step = linear_step (lo, hi, target_ticks, integer);
      double nlo = floor (lo / step) * step;
      double nhi = ceil (hi / step) * step;

      if (isfinite (nlo) && isfinite (nhi) && nlo < nhi)
        {
          axis->min = nlo;
          axis->max = nhi;
          /* The ticks reuse this step, so they land exactly on the widened bounds. */
          axis->step = step;
        }
    }
}

double
weft_chart_axis_map (const WeftChartAxis *axis, double value)
{
  g_return_val_if_fail (axis != NULL, NAN);
  if (!isfinite (value))
    return NAN;
  if (axis->scale == WEFT_CHART_SCALE_LOG)
    {
      if (value <= 0 || !(axis->min > 0) || !(axis->max > axis->min))
        return NAN;
      return (log10 (value) - log10 (axis->min)) / (log10 (axis->max) - log10 (axis->min));
    }
  if (!(axis->max > axis->min))
    return NAN;
  return (value - axis->min) / (axis->max - axis->min);
}

double
weft_chart_axis_unmap (const WeftChartAxis *axis, double t)
{
  g_return_val_if_fail (axis != NULL, NAN);
  if (axis->scale == WEFT_CHART_SCALE_LOG)
    {
      double l0 = log10 (axis->min), l1 = log10 (axis->max);
      return pow (10.0, l0 + t * (l1 - l0));
    }
  return axis->min + t * (axis->max - axis->min);
}

static double
count_linear_ticks (const WeftChartAxis *axis, double step)
{
  return floor (axis->max / step + 1e-9) - ceil (axis->min / step - 1e-9) + 1;
}

int
weft_chart_axis_ticks (const WeftChartAxis *axis, int target_ticks, double *ticks,
                       int max_ticks, double *step_out)
{
  int n = 0;

  g_return_val_if_fail (axis != NULL, 0);
  if (step_out != NULL)
    *step_out = 0;
  if (!(axis->max > axis->min) || !isfinite (axis->min) || !isfinite (axis->max)
      || max_ticks <= 0)
    return 0;
  if (target_ticks < 2)
    target_ticks = 2;

  if (axis->scale == WEFT_CHART_SCALE_LOG && axis->min > 0)
    {
      double lmin = log10 (axis->min), lmax = log10 (axis->max);
      double decades = lmax - lmin;

      if (decades >= 1 && (decades >= target_ticks - 1 || decades > 3))
        {
          int stride = (int) ceil (decades / (target_ticks - 1));
          int d0, d1;

          if (stride < 1)
            stride = 1;
          d0 = (int) ceil (lmin - 1e-9);
          d0 = (int) (ceil ((double) d0 / stride) * stride);
          d1 = (int) floor (lmax + 1e-9);
          for (int d = d0; d <= d1 && n < max_ticks; d += stride)
            ticks[n++] = pow (10.0, d);
          if (step_out != NULL)
            *step_out = stride;
          return n;
        }
      n = log_ticks_with (axis->min, axis->max, mantissas_125, 3, NULL, 0);
      if (n >= 2 && n <= target_ticks + 2)
        return MIN (log_ticks_with (axis->min, axis->max, mantissas_125, 3, ticks, max_ticks),
                    max_ticks);
      n = log_ticks_with (axis->min, axis->max, mantissas_all, 9, NULL, 0);
      if (n >= 2 && n <= 2 * target_ticks)
        return MIN (log_ticks_with (axis->min, axis->max, mantissas_all, 9, ticks, max_ticks),
                    max_ticks);
      n = 0;
      /* Too narrow for mantissa ticks: fall through to linear ticks within the range. */
    }

  {
    double step = axis->step;
    double span = axis->max - axis->min;

    if (!(step > 0) || span / step > 2.0 * target_ticks + 1e-6 || span / step < 1 - 1e-6)
      step = linear_step (axis->min, axis->max, target_ticks, axis->integer);
    /* Fewer than two ticks inside the range: step down the 1-2-5 ladder. */
    for (int tries = 0; tries < 6 && count_linear_ticks (axis, step) < 2; tries++)
      {
        double smaller = weft_chart_nice_number (step * 0.45, true);
        if (axis->integer && smaller < 1)
          break;
        step = smaller;
      }

    double first = ceil (axis->min / step - 1e-9) * step;

    for (int i = 0; n < max_ticks; i++)
      {
        double v = first + i * step;

        if (v > axis->max + step * 1e-9)
          break;
        if (fabs (v) < step * 1e-9)
          v = 0;
        ticks[n++] = v;
      }
    if (step_out != NULL)
      *step_out = axis->scale == WEFT_CHART_SCALE_LOG ? -step : step;
  }
  return n;
}

void
weft_chart_axis_format (const WeftChartAxis *axis, double value, double step, char *buf,
                        size_t len)
{
  g_return_if_fail (axis != NULL && buf != NULL && len > 0);

  if (axis->scale == WEFT_CHART_SCALE_LOG && step > 0)
    {
      int e = (int) lround (log10 (value));

      if (e >= -3 && e <= 4)
        g_snprintf (buf, len, "%g", pow (10.0, e));
      else
        g_snprintf (buf, len, "1e%d", e);
      return;
    }
  if (axis->scale == WEFT_CHART_SCALE_LOG && step == 0)
    {
      g_snprintf (buf, len, "%g", value);
      return;
    }
  step = fabs (step);
  if (fabs (value) >= 1e6 && step >= 1e5)
    g_snprintf (buf, len, "%gM", value / 1e6);
  else if (fabs (value) >= 1e4 && step >= 1e3)
    g_snprintf (buf, len, "%gk", value / 1e3);
  else if (step > 0 && step < 1e-5)
    g_snprintf (buf, len, "%.3g", value);
  else
    {
      int decimals = step >= 1 || step <= 0 ? 0 : (int) ceil (-log10 (step) - 1e-9);
      g_snprintf (buf, len, "%.*f", CLAMP (decimals, 0, 10), value);
    }
}

/* ---- Data ----------------------------------------------------------------------------- */

void
weft_chart_options_init (WeftChartOptions *opts)
{
  g_return_if_fail (opts != NULL);
  memset (opts, 0, sizeof *opts);
  opts->x_axis = WEFT_CHART_X_EPOCH;
  opts->y_scale = WEFT_CHART_SCALE_LINEAR;
  opts->run = -1;
  opts->show_total = true;
  opts->show_validation = true;
  opts->show_legend = true;
  opts->line_width = 2.0;
  opts->font_size = 12.0;
}

typedef enum
{
  VALUE_LOSS,
  VALUE_VAL_LOSS,
} ValueKind;

/* One curve: head >= 0, or -1 for the weighted total. */
typedef struct
{
  int       head;
  ValueKind kind;
  int       run;
  double   *xs;
  double   *ys;
  size_t    n;
} Curve;

static int
chosen_run (const WeftHistory *h, const WeftChartOptions *opts)
{
  return opts->run >= 0 ? opts->run : weft_history_current_run (h);
}

static bool
head_visible (const WeftChartOptions *opts, int head)
{
  return head < 0 || head >= 32 || (opts->hidden_heads & (1u << head)) == 0;
}

static bool
total_drawn (const WeftHistory *h, const WeftChartOptions *opts)
{
  return opts->show_total && weft_history_n_heads (h) > 1;
}

/* In step mode, an epoch's validation point sits at the last step of that epoch. */
static double *
epoch_end_steps (const WeftHistory *h, int run, size_t e_first, size_t e_count)
{
  double *ends = g_new (double, MAX (e_count, 1));
  size_t s_first, s_count, s = 0;

  weft_history_run_steps (h, run, &s_first, &s_count);
  for (size_t i = 0; i < e_count; i++)
    {
      WeftHistoryEpoch e;
      WeftHistoryStep st;

      weft_history_get_epoch (h, e_first + i, &e);
      ends[i] = NAN;
      while (s < s_count)
        {
          weft_history_get_step (h, s_first + s, &st);
          if (st.epoch > e.epoch)
            break;
          if (st.epoch == e.epoch)
            ends[i] = (double) st.step;
          s++;
        }
    }
  return ends;
}

static void
collect_curve (const WeftHistory *h, const WeftChartOptions *opts, Curve *c)
{
  size_t first, count;

  c->xs = c->ys = NULL;
  c->n = 0;
  if (opts->x_axis == WEFT_CHART_X_STEP && c->kind == VALUE_LOSS)
    {
      double ema = 0, weight = 0;
      double a = CLAMP (opts->smoothing, 0.0, 0.999);

      weft_history_run_steps (h, c->run, &first, &count);
      c->xs = g_new (double, MAX (count, 1));
      c->ys = g_new (double, MAX (count, 1));
      for (size_t i = 0; i < count; i++)
        {
          WeftHistoryStep st;
          double y;

          weft_history_get_step (h, first + i, &st);
          y = c->head < 0 ? st.total : st.loss[c->head];
          if (a > 0 && isfinite (y))
            {
              /* Debiased EMA, as TensorBoard smooths: early points are not pulled to 0. */
              ema = a * ema + (1 - a) * y;
              weight = a * weight + (1 - a);
              y = ema / weight;
            }
          c->xs[c->n] = (double) st.step;
          c->ys[c->n] = y;
          c->n++;
        }
      return;
    }

  weft_history_run_epochs (h, c->run, &first, &count);
  c->xs = g_new (double, MAX (count, 1));
  c->ys = g_new (double, MAX (count, 1));
  {
    g_autofree double *ends = opts->x_axis == WEFT_CHART_X_STEP
                              ? epoch_end_steps (h, c->run, first, count) : NULL;

    for (size_t i = 0; i < count; i++)
      {
        WeftHistoryEpoch e;
        double y;

        weft_history_get_epoch (h, first + i, &e);
        if (c->kind == VALUE_VAL_LOSS)
          {
            if (!e.has_validation)
              continue;
            y = c->head < 0 ? e.val_total : e.val_loss[c->head];
          }
        else
          y = c->head < 0 ? e.total : e.loss[c->head];
        c->xs[c->n] = ends != NULL ? ends[i] : (double) e.epoch + 1;
        c->ys[c->n] = y;
        c->n++;
      }
  }
}

static void
curve_clear (Curve *c)
{
  g_clear_pointer (&c->xs, g_free);
  g_clear_pointer (&c->ys, g_free);
  c->n = 0;
}

/* All curves to draw, previous run first (so the current run is on top), total last. */
static GArray *
collect_curves (const WeftHistory *h, const WeftChartOptions *opts)
{
  GArray *curves = g_array_new (FALSE, TRUE, sizeof (Curve));
  int run = chosen_run (h, opts);
  int n = weft_history_n_heads (h);

  for (int r = (opts->show_previous_run && run > 0) ? run - 1 : run; r <= run; r++)
    for (int kind = VALUE_LOSS; kind <= VALUE_VAL_LOSS; kind++)
      {
        if (kind == VALUE_VAL_LOSS && !opts->show_validation)
          continue;
        for (int j = 0; j <= n; j++)
          {
            Curve c = { .head = j < n ? j : -1, .kind = kind, .run = r };

            if (c.head >= 0 && !head_visible (opts, c.head))
              continue;
            if (c.head < 0 && !total_drawn (h, opts))
              continue;
            collect_curve (h, opts, &c);
            if (c.n == 0)
              {
                curve_clear (&c);
                continue;
              }
            g_array_append_val (curves, c);
          }
      }
  return curves;
}

static void
free_curves (GArray *curves)
{
  for (guint i = 0; i < curves->len; i++)
    curve_clear (&g_array_index (curves, Curve, i));
  g_array_unref (curves);
}

/* ---- Layout --------------------------------------------------------------------------- */

static const WeftChartOptions *
options_or_default (const WeftChartOptions *opts, WeftChartOptions *storage)
{
  if (opts != NULL)
    return opts;
  weft_chart_options_init (storage);
  return storage;
}

static double
font_size_of (const WeftChartOptions *opts)
{
  return opts->font_size > 0 ? opts->font_size : 12.0;
}

void
weft_chart_plot_area (double width, double height, const WeftChartOptions *opts, double *x,
                      double *y, double *w, double *h)
{
  WeftChartOptions storage;
  double fs, left, right, top, bottom;

  opts = options_or_default (opts, &storage);
  fs = font_size_of (opts);
  left = fs * 5.5;
  right = fs * 1.5;
  top = opts->title != NULL && opts->title[0] != '\0' ? fs * 2.8 : fs * 1.2;
  bottom = fs * 3.4;
  if (x != NULL)
    *x = left;
  if (y != NULL)
    *y = top;
  if (w != NULL)
    *w = MAX (0.0, width - left - right);
  if (h != NULL)
    *h = MAX (0.0, height - top - bottom);
}

static int
x_target_ticks (double plot_w, double fs)
{
  return CLAMP ((int) (plot_w / (fs * 6)), 2, 12);
}

static int
y_target_ticks (double plot_h, double fs)
{
  return CLAMP ((int) (plot_h / (fs * 3)), 2, 10);
}

static void
compute_axes (const WeftHistory *h, const WeftChartOptions *opts, GArray *curves,
              double plot_w, double plot_h, WeftChartAxis *xa, WeftChartAxis *ya)
{
  WeftChartRange xr = WEFT_CHART_RANGE_EMPTY, yr = WEFT_CHART_RANGE_EMPTY;
  double fs = font_size_of (opts);

  for (guint i = 0; curves != NULL && i < curves->len; i++)
    {
      const Curve *c = &g_array_index (curves, Curve, i);

      for (size_t k = 0; k < c->n; k++)
        {
          if (!isfinite (c->xs[k]))
            continue;
          weft_chart_range_include (&xr, WEFT_CHART_SCALE_LINEAR, c->xs[k]);
          weft_chart_range_include (&yr, opts->y_scale, c->ys[k]);
        }
    }
  if (!(xr.lo <= xr.hi))
    {
      /* Nothing yet: an epoch axis from 1, a step axis from 0. */
      xr.lo = opts->x_axis == WEFT_CHART_X_EPOCH ? 1 : 0;
      xr.hi = opts->x_axis == WEFT_CHART_X_EPOCH ? 10 : 100;
    }
  else if (opts->x_axis == WEFT_CHART_X_EPOCH)
    xr.lo = MIN (xr.lo, 1);
  else
    xr.lo = MIN (xr.lo, 0);
  weft_chart_axis_init (xa, WEFT_CHART_SCALE_LINEAR, xr, true, x_target_ticks (plot_w, fs));
  weft_chart_axis_init (ya, opts->y_scale, yr, false, y_target_ticks (plot_h, fs));
}

void
weft_chart_compute_axes (const WeftHistory *history, const WeftChartOptions *opts,
                         double width, double height, WeftChartAxis *x_axis,
                         WeftChartAxis *y_axis)
{
  WeftChartOptions storage;
  GArray *curves = NULL;
  double pw, ph;

  g_return_if_fail (x_axis != NULL && y_axis != NULL);
  opts = options_or_default (opts, &storage);
  weft_chart_plot_area (width, height, opts, NULL, NULL, &pw, &ph);
  if (history != NULL)
    curves = collect_curves (history, opts);
  compute_axes (history, opts, curves, pw, ph, x_axis, y_axis);
  if (curves != NULL)
    free_curves (curves);
}

/* ---- Painting ------------------------------------------------------------------------- */

typedef struct
{
  double x, y, w, h;
} Rect;

static double
px_of (const Rect *r, const WeftChartAxis *xa, double v)
{
  double t = weft_chart_axis_map (xa, v);
  return isnan (t) ? NAN : CLAMP (r->x + t * r->w, -COORD_LIMIT, COORD_LIMIT);
}

static double
py_of (const Rect *r, const WeftChartAxis *ya, double v)
{
  double t = weft_chart_axis_map (ya, v);
  return isnan (t) ? NAN : CLAMP (r->y + r->h - t * r->h, -COORD_LIMIT, COORD_LIMIT);
}

static void
set_font (cairo_t *cr, const WeftChartOptions *opts, double size, bool bold)
{
  cairo_select_font_face (cr, opts->font_family != NULL ? opts->font_family : "DejaVu Sans",
                          CAIRO_FONT_SLANT_NORMAL,
                          bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size (cr, size);
}

/* Draws text with its anchor at (x, y); ax/ay: 0 left/top, 0.5 centre, 1 right/bottom. */
static void
draw_text (cairo_t *cr, const char *text, double x, double y, double ax, double ay)
{
  cairo_text_extents_t ext;
  cairo_font_extents_t fext;

  cairo_text_extents (cr, text, &ext);
  cairo_font_extents (cr, &fext);
  cairo_move_to (cr, x - ax * ext.x_advance,
                 y + fext.ascent - ay * (fext.ascent + fext.descent));
  cairo_show_text (cr, text);
}

static void
paint_axes (cairo_t *cr, const WeftChartOptions *opts, const Rect *r, const WeftChartAxis *xa,
            const WeftChartAxis *ya)
{
  double ticks[CHART_MAX_TICKS];
  double fs = font_size_of (opts);
  double step;
  char label[64];
  int n;

  cairo_set_line_width (cr, 1.0);

  /* y grid and labels */
  n = weft_chart_axis_ticks (ya, y_target_ticks (r->h, fs), ticks, CHART_MAX_TICKS, &step);
  set_font (cr, opts, fs * 0.9, false);
  for (int i = 0; i < n; i++)
    {
      double y = py_of (r, ya, ticks[i]);

      if (isnan (y))
        continue;
      y = floor (y) + 0.5;
      set_color (cr, "grid", opts->dark, 1.0);
      cairo_move_to (cr, r->x, y);
      cairo_line_to (cr, r->x + r->w, y);
      cairo_stroke (cr);
      set_color (cr, "axis", opts->dark, 1.0);
      weft_chart_axis_format (ya, ticks[i], step, label, sizeof label);
      draw_text (cr, label, r->x - fs * 0.5, y, 1.0, 0.5);
    }

  /* x grid and labels */
  n = weft_chart_axis_ticks (xa, x_target_ticks (r->w, fs), ticks, CHART_MAX_TICKS, &step);
  for (int i = 0; i < n; i++)
    {
      double x = px_of (r, xa, ticks[i]);

      if (isnan (x))
        continue;
      x = floor (x) + 0.5;
      set_color (cr, "grid", opts->dark, 1.0);
      cairo_move_to (cr, x, r->y);
      cairo_line_to (cr, x, r->y + r->h);
      cairo_stroke (cr);
      set_color (cr, "axis", opts->dark, 1.0);
      weft_chart_axis_format (xa, ticks[i], step, label, sizeof label);
      draw_text (cr, label, x, r->y + r->h + fs * 0.4, 0.5, 0.0);
    }

  /* frame: left and bottom axis lines */
  set_color (cr, "axis", opts->dark, 1.0);
  cairo_move_to (cr, floor (r->x) + 0.5, r->y);
  cairo_line_to (cr, floor (r->x) + 0.5, floor (r->y + r->h) + 0.5);
  cairo_line_to (cr, r->x + r->w, floor (r->y + r->h) + 0.5);
  cairo_stroke (cr);

  /* axis titles */
  set_color (cr, "foreground", opts->dark, 1.0);
  set_font (cr, opts, fs, false);
  draw_text (cr, opts->x_axis == WEFT_CHART_X_EPOCH ? _("Epoch") : _("Step"),
             r->x + r->w / 2, r->y + r->h + fs * 1.8, 0.5, 0.0);
  cairo_save (cr);
  cairo_translate (cr, fs * 0.4, r->y + r->h / 2);
  cairo_rotate (cr, -G_PI / 2);
  draw_text (cr, opts->y_scale == WEFT_CHART_SCALE_LOG ? _("Loss (log)") : _("Loss"),
             0, 0, 0.5, 0.0);
  cairo_restore (cr);
}

static void
set_curve_style (cairo_t *cr, const WeftChartOptions *opts, const Curve *c, double alpha)
{
  double lw = opts->line_width > 0 ? opts->line_width : 2.0;

  if (c->head < 0)
    set_color (cr, "total", opts->dark, alpha);
  else
    {
      double rgb[3];
      weft_chart_head_color (c->head, opts->dark, rgb);
      cairo_set_source_rgba (cr, rgb[0], rgb[1], rgb[2], alpha);
    }
  cairo_set_line_width (cr, c->head < 0 ? lw * 1.25 : lw);
  if (c->kind == VALUE_VAL_LOSS)
    {
      double dashes[2] = { lw * 3, lw * 2 };
      cairo_set_dash (cr, dashes, 2, 0);
    }
  else
    cairo_set_dash (cr, NULL, 0, 0);
}

/* Strokes a polyline; more points than pixels are reduced per pixel column to first, min,
 * max and last, which keeps every spike while bounding the path to ~4 points per pixel. */
static void
stroke_curve (cairo_t *cr, const Rect *r, const WeftChartAxis *xa, const WeftChartAxis *ya,
              const Curve *c)
{
  bool pen_down = false;
  bool have_col = false;
  double col = 0;
  double first_y = 0, min_y = 0, max_y = 0, last_y = 0, col_x = 0;
  size_t min_i = 0, max_i = 0;

#define FLUSH_COLUMN()                                                          \
  do {                                                                          \
    if (have_col)                                                               \
      {                                                                         \
        if (pen_down)                                                           \
          cairo_line_to (cr, col_x, first_y);                                   \
        else                                                                    \
          cairo_move_to (cr, col_x, first_y);                                   \
        if (min_i < max_i)                                                      \
          {                                                                     \
            cairo_line_to (cr, col_x, min_y);                                   \
            cairo_line_to (cr, col_x, max_y);                                   \
          }                                                                     \
        else                                                                    \
          {                                                                     \
            cairo_line_to (cr, col_x, max_y);                                   \
            cairo_line_to (cr, col_x, min_y);                                   \
          }                                                                     \
        cairo_line_to (cr, col_x, last_y);                                      \
        pen_down = true;                                                        \
        have_col = false;                                                       \
      }                                                                         \
  } while (0)

  for (size_t i = 0; i < c->n; i++)
    {
      double x = px_of (r, xa, c->xs[i]);
      double y = py_of (r, ya, c->ys[i]);

      if (isnan (x) || isnan (y))
        {
          FLUSH_COLUMN ();
          pen_down = false;
          continue;
        }
      if (have_col && floor (x) == col)
        {
          if (y < min_y)
            {
              min_y = y;
              min_i = i;
            }
          if (y > max_y)
            {
              max_y = y;
              max_i = i;
            }
          last_y = y;
          continue;
        }
      FLUSH_COLUMN ();
      /* A column is drawn at its first point's x; the next column continues from there. */
      have_col = true;
      col = floor (x);
      col_x = x;
      first_y = min_y = max_y = last_y = y;
      min_i = max_i = i;
    }
  FLUSH_COLUMN ();
#undef FLUSH_COLUMN
  cairo_stroke (cr);

  if (c->n <= MARKERS_MAX_POINTS)
    {
      double radius = cairo_get_line_width (cr) * 1.2;

      cairo_set_dash (cr, NULL, 0, 0);
      for (size_t i = 0; i < c->n; i++)
        {
          double x = px_of (r, xa, c->xs[i]);
          double y = py_of (r, ya, c->ys[i]);

          if (isnan (x) || isnan (y))
            continue;
          cairo_new_sub_path (cr);
          cairo_arc (cr, x, y, radius, 0, 2 * G_PI);
        }
      cairo_fill (cr);
    }
}

typedef struct
{
  const char *label;
  int         head;      /* -1 total, -2 "validation" sample, -3 "previous run" sample */
} LegendEntry;

static void
paint_legend (cairo_t *cr, const WeftHistory *h, const WeftChartOptions *opts, const Rect *r,
              GArray *curves)
{
  LegendEntry entries[WEFT_MAX_HEADS + 3];
  int n_entries = 0, run = chosen_run (h, opts);
  bool any_val = false, any_prev = false;
  double fs = font_size_of (opts) * 0.9;
  double lw = opts->line_width > 0 ? opts->line_width : 2.0;
  double text_w = 0, row_h = fs * 1.4, swatch = fs * 2.0, pad = fs * 0.5;
  double bx, by, bw, bh;

  for (guint i = 0; i < curves->len; i++)
    {
      const Curve *c = &g_array_index (curves, Curve, i);
      any_val = any_val || c->kind == VALUE_VAL_LOSS;
      any_prev = any_prev || c->run != run;
    }
  if (total_drawn (h, opts))
    entries[n_entries++] = (LegendEntry) { _("total"), -1 };
  for (int j = 0; j < weft_history_n_heads (h); j++)
    if (head_visible (opts, j))
      entries[n_entries++] = (LegendEntry) { weft_history_head_name (h, j), j };
  if (any_val)
    entries[n_entries++] = (LegendEntry) { _("validation"), -2 };
  if (any_prev)
    entries[n_entries++] = (LegendEntry) { _("previous run"), -3 };
  if (n_entries == 0)
    return;

  set_font (cr, opts, fs, false);
  for (int i = 0; i < n_entries; i++)
    {
      cairo_text_extents_t ext;
      cairo_text_extents (cr, entries[i].label, &ext);
      text_w = MAX (text_w, ext.x_advance);
    }
  bw = pad * 3 + swatch + text_w;
  bh = pad * 2 + row_h * n_entries;
  bx = r->x + r->w - bw - pad;
  by = r->y + pad;
  if (bw > r->w || bh > r->h)
    return;   /* no room: a legend over the curves would hide more than it tells */

  set_color (cr, "legend", opts->dark, 0.85);
  cairo_rectangle (cr, bx, by, bw, bh);
  cairo_fill_preserve (cr);
  set_color (cr, "grid", opts->dark, 1.0);
  cairo_set_line_width (cr, 1.0);
  cairo_stroke (cr);

  for (int i = 0; i < n_entries; i++)
    {
      double y = by + pad + row_h * (i + 0.5);
      double alpha = entries[i].head == -3 ? PREVIOUS_RUN_ALPHA : 1.0;
      Curve sample = { .head = entries[i].head >= 0 ? entries[i].head : -1,
                       .kind = entries[i].head == -2 ? VALUE_VAL_LOSS : VALUE_LOSS };

      if (entries[i].head <= -2)
        set_color (cr, "foreground", opts->dark, alpha);
      else
        set_curve_style (cr, opts, &sample, alpha);
      if (entries[i].head == -2)
        {
          double dashes[2] = { lw * 3, lw * 2 };
          cairo_set_dash (cr, dashes, 2, 0);
          cairo_set_line_width (cr, lw);
        }
      else if (entries[i].head == -3)
        {
          cairo_set_dash (cr, NULL, 0, 0);
          cairo_set_line_width (cr, lw);
        }
      cairo_move_to (cr, bx + pad, floor (y) + 0.5);
      cairo_line_to (cr, bx + pad + swatch, floor (y) + 0.5);
      cairo_stroke (cr);
      cairo_set_dash (cr, NULL, 0, 0);
      set_color (cr, "foreground", opts->dark, 1.0);
      draw_text (cr, entries[i].label, bx + pad * 2 + swatch, y, 0.0, 0.5);
    }
}

void
weft_chart_paint (cairo_t *cr, double width, double height, const WeftHistory *history,
                  const WeftChartOptions *opts)
{
  WeftChartOptions storage;
  WeftChartAxis xa, ya;
  GArray *curves = NULL;
  Rect r;
  int run;

  g_return_if_fail (cr != NULL);
  opts = options_or_default (opts, &storage);
  if (!(width > 0) || !(height > 0) || !isfinite (width) || !isfinite (height))
    return;

  cairo_save (cr);
  cairo_rectangle (cr, 0, 0, width, height);
  cairo_clip (cr);
  set_color (cr, "background", opts->dark, 1.0);
  cairo_paint (cr);

  weft_chart_plot_area (width, height, opts, &r.x, &r.y, &r.w, &r.h);
  if (r.w < 8 || r.h < 8)
    {
      cairo_restore (cr);
      return;
    }
  if (history != NULL)
    curves = collect_curves (history, opts);
  compute_axes (history, opts, curves, r.w, r.h, &xa, &ya);
  paint_axes (cr, opts, &r, &xa, &ya);

  cairo_save (cr);
  cairo_rectangle (cr, r.x, r.y, r.w, r.h);
  cairo_clip (cr);
  cairo_set_line_join (cr, CAIRO_LINE_JOIN_ROUND);
  cairo_set_line_cap (cr, CAIRO_LINE_CAP_ROUND);
  run = history != NULL ? chosen_run (history, opts) : 0;
  for (guint i = 0; curves != NULL && i < curves->len; i++)
    {
      const Curve *c = &g_array_index (curves, Curve, i);

      set_curve_style (cr, opts, c, c->run == run ? 1.0 : PREVIOUS_RUN_ALPHA);
      stroke_curve (cr, &r, &xa, &ya, c);
    }
  cairo_restore (cr);

  if (history != NULL && opts->show_legend && curves != NULL)
    paint_legend (cr, history, opts, &r, curves);
  if (curves == NULL || curves->len == 0)
    {
      set_color (cr, "axis", opts->dark, 1.0);
      set_font (cr, opts, font_size_of (opts), false);
      draw_text (cr, _("No training data yet"), r.x + r.w / 2, r.y + r.h / 2, 0.5, 0.5);
    }
  if (opts->title != NULL && opts->title[0] != '\0')
    {
      set_color (cr, "foreground", opts->dark, 1.0);
      set_font (cr, opts, font_size_of (opts) * 1.2, true);
      draw_text (cr, opts->title, width / 2, font_size_of (opts) * 0.6, 0.5, 0.0);
    }
  if (curves != NULL)
    free_curves (curves);
  cairo_restore (cr);
}

/* ---- Files ---------------------------------------------------------------------------- */

typedef struct
{
  int fd;
  int saved_errno;
} WriteTarget;

static cairo_status_t
write_cb (void *closure, const unsigned char *data, unsigned int length)
{
  WriteTarget *t = closure;

  while (length > 0)
    {
      ssize_t w = write (t->fd, data, length);

      if (w < 0 && errno == EINTR)
        continue;
      if (w <= 0)
        {
          t->saved_errno = w < 0 ? errno : EIO;
          return CAIRO_STATUS_WRITE_ERROR;
        }
      data += w;
      length -= (unsigned int) w;
    }
  return CAIRO_STATUS_SUCCESS;
}

typedef enum
{
  FORMAT_PNG,
  FORMAT_SVG,
} FileFormat;

static gboolean
save_chart (const WeftHistory *history, const char *path, int width, int height,
            const WeftChartOptions *opts, FileFormat format, GError **error)
{
  g_autofree char *tmp = NULL;
  cairo_surface_t *surface = NULL;
  cairo_status_t status;
  WriteTarget target = { -1, 0 };
  cairo_t *cr;

  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (width < 1 || height < 1 || width > CHART_MAX_SIZE || height > CHART_MAX_SIZE)
    {
      g_set_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_TOO_LARGE,
                   "Chart size %d x %d is outside 1..%d", width, height, CHART_MAX_SIZE);
      return FALSE;
    }

  tmp = g_strdup_printf ("%s.XXXXXX", path);
  target.fd = g_mkstemp_full (tmp, O_WRONLY | O_CLOEXEC, 0644);
  if (target.fd < 0)
    {
      int saved = errno;
      g_set_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_IO, "Could not save %s: %s", path,
                   g_strerror (saved));
      return FALSE;
    }

  if (format == FORMAT_PNG)
    surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, width, height);
  else
    surface = cairo_svg_surface_create_for_stream (write_cb, &target, width, height);
  cr = cairo_create (surface);
  weft_chart_paint (cr, width, height, history, opts);
  status = cairo_status (cr);
  cairo_destroy (cr);
  if (status == CAIRO_STATUS_SUCCESS)
    {
      if (format == FORMAT_PNG)
        status = cairo_surface_write_to_png_stream (surface, write_cb, &target);
      else
        {
          cairo_surface_finish (surface);
          status = cairo_surface_status (surface);
        }
    }
  cairo_surface_destroy (surface);

  if (status == CAIRO_STATUS_SUCCESS && fsync (target.fd) != 0)
    {
      target.saved_errno = errno;
      status = CAIRO_STATUS_WRITE_ERROR;
    }
  if (close (target.fd) != 0 && status == CAIRO_STATUS_SUCCESS)
    {
      target.saved_errno = errno;
      status = CAIRO_STATUS_WRITE_ERROR;
    }
  if (status == CAIRO_STATUS_SUCCESS && g_rename (tmp, path) != 0)
    {
      target.saved_errno = errno;
      status = CAIRO_STATUS_WRITE_ERROR;
    }
  if (status != CAIRO_STATUS_SUCCESS)
    {
      g_unlink (tmp);
      g_set_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_IO, "Could not save %s: %s", path,
                   target.saved_errno != 0 ? g_strerror (target.saved_errno)
                                           : cairo_status_to_string (status));
      return FALSE;
    }
  return TRUE;
}

gboolean
weft_chart_save_png (const WeftHistory *history, const char *path, int width, int height,
                     const WeftChartOptions *opts, GError **error)
{
  return save_chart (history, path, width, height, opts, FORMAT_PNG, error);
}

gboolean
weft_chart_save_svg (const WeftHistory *history, const char *path, int width, int height,
                     const WeftChartOptions *opts, GError **error)
{
  return save_chart (history, path, width, height, opts, FORMAT_SVG, error);
}
