/* SPDX-License-Identifier: GPL-3.0-or-later */
/* weft-loss-series.h: one curve of the loss chart (x ascending, y any), with a min/max
 * pyramid so a column of pixels covering many points is summarised in O(log n), and an
 * optional debiased exponential moving average kept up to date as points arrive. */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

#define WEFT_TYPE_LOSS_SERIES (weft_loss_series_get_type ())
G_DECLARE_FINAL_TYPE (WeftLossSeries, weft_loss_series, WEFT, LOSS_SERIES, GObject)

/* What a curve shows: the chart styles it from this (validation dashed, previous faint). */
typedef enum
{
  WEFT_LOSS_SERIES_TRAIN,
  WEFT_LOSS_SERIES_VALIDATION,
} WeftLossSeriesKind;

/* One pixel column of a decimated curve: the first and last point falling into it and the
 * extremes of y between them. n == 0 for an empty column. */
typedef struct
{
  guint  n;
  double x_first, y_first;
  double x_last, y_last;
  double y_min, y_max;
} WeftLossColumn;

/* label: legend text (copied). head: the head index for the colour, -1 for the total. */
WeftLossSeries *weft_loss_series_new          (const char         *label,
                                               int                 head,
                                               WeftLossSeriesKind  kind);
const char     *weft_loss_series_get_label    (WeftLossSeries *self);
int             weft_loss_series_get_head     (WeftLossSeries *self);
WeftLossSeriesKind weft_loss_series_get_kind  (WeftLossSeries *self);

/* Appends n points. x must not decrease (points with x below the last one are dropped and
 * counted out of the return value); y may be NaN/Inf (a gap). Emits one items-changed
 * (position, 0, added) when anything was added. Returns the number added. */
guint           weft_loss_series_append       (WeftLossSeries *self,
                                               const double   *x,
                                               const double   *y,
                                               guint           n);
/* Removes every point; emits items-changed (0, old_n, 0). */
void            weft_loss_series_clear        (WeftLossSeries *self);
guint           weft_loss_series_get_n_points (WeftLossSeries *self);
/* Borrowed arrays of n_points values, valid until the next append or clear. */
const double   *weft_loss_series_get_x        (WeftLossSeries *self);
const double   *weft_loss_series_get_y        (WeftLossSeries *self);

/* Smoothing factor 0..0.999 of the debiased EMA (TensorBoard's): s_t = e_t / (1 - a^t)
 * with e_t = a e_(t-1) + (1 - a) y_t, counting finite points only. 0 = no smoothing (the
 * smoothed values are the raw ones). Changing it recomputes in O(n). */
void            weft_loss_series_set_smoothing (WeftLossSeries *self,
                                                double          smoothing);
double          weft_loss_series_get_smoothing (WeftLossSeries *self);
/* Borrowed: the smoothed y (n_points values); equals get_y when smoothing is 0. */
const double   *weft_loss_series_get_smoothed (WeftLossSeries *self);

/* Index of the first point with x >= value (n_points when none). */
guint           weft_loss_series_lower_bound  (WeftLossSeries *self,
                                               double          value);
/* Index of the point whose x is nearest to value (ties: the earlier); FALSE when empty. */
gboolean        weft_loss_series_nearest      (WeftLossSeries *self,
                                               double          value,
                                               guint          *index);
/* Finite min and max of y (smoothed: of the smoothed values) over points with x in
 * [x0, x1]; positive_only skips y <= 0 (log axes). FALSE when there is none. */
gboolean        weft_loss_series_y_range      (WeftLossSeries *self,
                                               double          x0,
                                               double          x1,
                                               gboolean        smoothed,
                                               gboolean        positive_only,
                                               double         *y_min,
                                               double         *y_max);
/* Min/max decimation: splits [x0, x1) into n_columns equal columns and summarises the
 * points of each in columns[] (non-finite y are skipped). O(n_columns log n), independent
 * of how many points a column holds. smoothed: use the smoothed values. */
void            weft_loss_series_decimate     (WeftLossSeries *self,
                                               double          x0,
                                               double          x1,
                                               guint           n_columns,
                                               gboolean        smoothed,
                                               WeftLossColumn *columns);
/* The same, borrowed: the series keeps the last decimation of each channel (raw, smoothed),
 * so asking again with the same x0, x1 and n_columns costs nothing, and after an append
 * only the columns from the first new point on are recomputed. Valid until the next call
 * for the same channel, append, clear or smoothing change. n_columns > 0. */
const WeftLossColumn *weft_loss_series_peek_decimation (WeftLossSeries *self,
                                                        double          x0,
                                                        double          x1,
                                                        guint           n_columns,
                                                        gboolean        smoothed);

G_END_DECLS
