/* SPDX-License-Identifier: GPL-3.0-or-later */
/* weft-chart-painter.h: loss curves of a WeftHistory drawn with plain Cairo (no GTK), for the
 * dashboard, PNG/SVG export and the command line; plus the axis mapping and tick code. */
#pragma once

#include <cairo.h>
#include <glib.h>
#include <math.h>
#include <stdbool.h>

#include "weft-history.h"

G_BEGIN_DECLS

/* ---- Axis: value <-> 0..1, linear or log, nice ticks ---------------------------------- */

typedef enum
{
  WEFT_CHART_SCALE_LINEAR,
  WEFT_CHART_SCALE_LOG,
} WeftChartScale;

typedef struct
{
  WeftChartScale scale;
  double         min;      /* shown range, min < max; both > 0 on a log axis */
  double         max;
  bool           integer;  /* ticks only on whole numbers (epochs, steps) */
  double         step;     /* linear tick step chosen by _init (0: _ticks chooses one) */
} WeftChartAxis;

/* A data range to grow with weft_chart_range_include; starts empty. */
typedef struct
{
  double lo;
  double hi;
} WeftChartRange;

#define WEFT_CHART_RANGE_EMPTY ((WeftChartRange) { INFINITY, -INFINITY })

/* Grows range to hold v. NaN and +-Inf are ignored, and so is v <= 0 when scale is LOG
 * (a log axis cannot show it). */
void   weft_chart_range_include (WeftChartRange *range, WeftChartScale scale, double v);
/* Sets up an axis showing range, with guards: an empty range shows [0, 1] (log: [0.1, 1]);
 * min == max (or a width below 1e-12 relative) is widened around the value; bounds are
 * swapped when reversed. Then widens to nice tick bounds for about target_ticks ticks
 * (target_ticks <= 0: keep the exact range). */
void   weft_chart_axis_init     (WeftChartAxis *axis, WeftChartScale scale,
                                 WeftChartRange range, bool integer, int target_ticks);
/* Position of value on the axis: 0 at min, 1 at max (outside 0..1 beyond). NaN for what the
 * axis cannot show: NaN, +-Inf, and v <= 0 on a log axis. */
double weft_chart_axis_map      (const WeftChartAxis *axis, double value);
/* Inverse of map (for hover read-outs). */
double weft_chart_axis_unmap    (const WeftChartAxis *axis, double t);
/* Writes ascending nice tick values within [min, max] (1-2-5 steps; log: decades, or
 * 1-2-5 / 1..9 mantissas on short ranges) and returns their number, at most max_ticks.
 * *step (nullable) receives the linear step, or the decade stride on a log axis. */
int    weft_chart_axis_ticks    (const WeftChartAxis *axis, int target_ticks,
                                 double *ticks, int max_ticks, double *step);
/* Tick label in the current locale ("0.25", "1.5k", "1e-05"); step as from _ticks. */
void   weft_chart_axis_format   (const WeftChartAxis *axis, double value, double step,
                                 char *buf, size_t len);
/* The 1-2-5 number near x (x > 0): rounded to nearest, or the smallest one >= x. */
double weft_chart_nice_number   (double x, bool round);

/* ---- Palette -------------------------------------------------------------------------- */

/* Looks up a named palette colour ("background", "foreground", "grid", "axis", "total",
 * "blue", "orange", ...) in the light or dark variant; false for an unknown name. */
bool        weft_chart_palette_color    (const char *name, bool dark, double rgb[3]);
/* The palette name of head j's colour (cycles for many heads), and the colour itself. */
const char *weft_chart_head_color_name  (int head);
void        weft_chart_head_color       (int head, bool dark, double rgb[3]);

/* ---- Chart ---------------------------------------------------------------------------- */

typedef enum
{
  WEFT_CHART_X_EPOCH,   /* one point per epoch (x = epoch + 1, as Keras counts) */
  WEFT_CHART_X_STEP,    /* one point per batch; validation at the last step of its epoch */
} WeftChartXAxis;

typedef struct
{
  WeftChartXAxis x_axis;
  WeftChartScale y_scale;
  int            run;                /* -1: the history's current run */
  bool           show_previous_run;  /* the run before it, faint, under it */
  bool           show_total;         /* weighted total (only drawn with 2+ heads) */
  bool           show_validation;    /* dashed, in the head's colour */
  bool           show_legend;
  bool           dark;               /* dark palette variant */
  guint32        hidden_heads;       /* bit j hides head j */
  double         smoothing;          /* 0..0.999: debiased EMA of step curves */
  double         line_width;         /* device units */
  double         font_size;          /* device units */
  const char    *font_family;        /* NULL: "DejaVu Sans" (fontconfig falls back to Sans) */
  const char    *title;              /* NULL: none */
} WeftChartOptions;

/* Defaults: epochs, linear, current run, total + validation + legend, light, no smoothing,
 * 2 px lines, 12 px text, no title. */
void     weft_chart_options_init  (WeftChartOptions *opts);

/* Plot rectangle inside a width x height chart (for hit-testing the dashboard's hover). */
void     weft_chart_plot_area     (double width, double height, const WeftChartOptions *opts,
                                   double *x, double *y, double *w, double *h);
/* The axes weft_chart_paint uses for this history and these options. */
void     weft_chart_compute_axes  (const WeftHistory *history, const WeftChartOptions *opts,
                                   double width, double height,
                                   WeftChartAxis *x_axis, WeftChartAxis *y_axis);

/* Paints background, grid, axes with ticks, curves, legend and title into (0, 0, width,
 * height) of cr. history may be NULL or empty (axes only); opts NULL means defaults.
 * cr's state is saved and restored. */
void     weft_chart_paint         (cairo_t *cr, double width, double height,
                                   const WeftHistory *history, const WeftChartOptions *opts);

/* Render to a PNG / SVG file, atomically (temporary file beside it, fsync, rename). Sizes
 * are 1..16384 (WEFT_IO_ERROR_TOO_LARGE otherwise); write failures are WEFT_IO_ERROR_IO. */
gboolean weft_chart_save_png      (const WeftHistory *history, const char *path, int width,
                                   int height, const WeftChartOptions *opts, GError **error);
gboolean weft_chart_save_svg      (const WeftHistory *history, const char *path, int width,
                                   int height, const WeftChartOptions *opts, GError **error);

G_END_DECLS
