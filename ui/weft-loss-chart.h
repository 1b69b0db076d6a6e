/* SPDX-License-Identifier: GPL-3.0-or-later */
/* weft-loss-chart.h: the live loss chart. One curve per head plus the weighted total,
 * validation dashed in the same colour, the previous run faint underneath; x by step or
 * epoch, y linear or log, debiased EMA smoothing with the raw curve faint behind, hover
 * read-out, zoom (wheel) / pan (drag) / reset (double click). Curves are min/max decimated
 * per pixel column, so a million points per curve draw in a few milliseconds. */
#pragma once

#include <gtk/gtk.h>

#include "weft-chart-painter.h"
#include "weft-history.h"
#include "weft-loss-series.h"

G_BEGIN_DECLS

#define WEFT_TYPE_LOSS_CHART (weft_loss_chart_get_type ())
G_DECLARE_FINAL_TYPE (WeftLossChart, weft_loss_chart, WEFT, LOSS_CHART, GtkWidget)

GtkWidget      *weft_loss_chart_new               (void);

/* The history shown (borrowed, nullable; keep it alive while set). Rebuilds every curve. */
void            weft_loss_chart_set_history       (WeftLossChart  *self,
                                                   WeftHistory    *history);
WeftHistory    *weft_loss_chart_get_history       (WeftLossChart  *self);
/* Takes the rows added to the history since the last call (O(new rows)); a new run, a
 * cleared or replaced history rebuilds. Call it after appending rows. */
void            weft_loss_chart_sync              (WeftLossChart  *self);

void            weft_loss_chart_set_x_axis        (WeftLossChart  *self,
                                                   WeftChartXAxis  x_axis);
WeftChartXAxis  weft_loss_chart_get_x_axis        (WeftLossChart  *self);
void            weft_loss_chart_set_log_scale     (WeftLossChart  *self,
                                                   gboolean        log_scale);
gboolean        weft_loss_chart_get_log_scale     (WeftLossChart  *self);
/* 0..0.999 */
void            weft_loss_chart_set_smoothing     (WeftLossChart  *self,
                                                   double          smoothing);
double          weft_loss_chart_get_smoothing     (WeftLossChart  *self);
void            weft_loss_chart_set_show_validation (WeftLossChart *self,
                                                     gboolean       show);
void            weft_loss_chart_set_show_previous (WeftLossChart  *self,
                                                   gboolean        show);
/* Legend toggles: head -1 is the weighted total. */
void            weft_loss_chart_set_head_visible  (WeftLossChart  *self,
                                                   int             head,
                                                   gboolean        visible);
gboolean        weft_loss_chart_get_head_visible  (WeftLossChart  *self,
                                                   int             head);

/* Zoom by factor (< 1 zooms in) around data x `anchor`; pan by a fraction of the view. */
void            weft_loss_chart_zoom              (WeftLossChart  *self,
                                                   double          anchor,
                                                   double          factor);
void            weft_loss_chart_pan               (WeftLossChart  *self,
                                                   double          fraction);
void            weft_loss_chart_reset_view        (WeftLossChart  *self);
/* The x range shown; FALSE when there is nothing to show. */
gboolean        weft_loss_chart_get_view          (WeftLossChart  *self,
                                                   double         *x0,
                                                   double         *x1);
/* Hover read-out at data x (NaN hides it), as the pointer sets it. */
void            weft_loss_chart_set_hover         (WeftLossChart  *self,
                                                   double          x);
/* The read-out text for data x: one line per visible curve ("income: 0.412"); newly
 * allocated, NULL when there is nothing. */
char           *weft_loss_chart_dup_readout       (WeftLossChart  *self,
                                                   double          x);

/* The series of the current run: head j (-1: total), validation or not, for the x axis
 * shown. Borrowed; NULL when absent. */
WeftLossSeries *weft_loss_chart_get_series        (WeftLossChart  *self,
                                                   int             head,
                                                   gboolean        validation);

/* Draws the chart as on screen into (0, 0, width, height) of cr (also for export). */
void            weft_loss_chart_draw              (WeftLossChart  *self,
                                                   cairo_t        *cr,
                                                   int             width,
                                                   int             height);
/* Export: the chart as PNG or SVG (width x height), the history as CSV (epochs or steps,
 * every run). Files are replaced atomically. */
gboolean        weft_loss_chart_save_png          (WeftLossChart  *self,
                                                   const char     *path,
                                                   int             width,
                                                   int             height,
                                                   GError        **error);
gboolean        weft_loss_chart_save_svg          (WeftLossChart  *self,
                                                   const char     *path,
                                                   int             width,
                                                   int             height,
                                                   GError        **error);
gboolean        weft_loss_chart_save_csv          (WeftLossChart  *self,
                                                   const char     *path,
                                                   gboolean        steps,
                                                   GError        **error);

G_END_DECLS
