/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "weft-loss-series"

#include "config.h"

#include "weft-loss-series.h"

#include <math.h>
#include <string.h>

/* Each pyramid level summarises FANOUT entries of the level below (level 0: raw points). */
#define FANOUT     16
#define MAX_LEVELS 8

typedef struct
{
  double min;
  double max;
  double min_pos;   /* smallest y > 0, for log axes */
} Extent;

/* The last decimation of a channel: a redraw with the same view and width copies it, and
 * appended points recompute only the columns from the first new point on. */
typedef struct
{
  WeftLossColumn *columns;
  guint           n_columns;
  double          x0, x1;
  guint           n_points;     /* points the columns summarise; G_MAXUINT: invalid */
} DecimateCache;

typedef struct
{
  GArray        *y;                    /* double */
  GArray        *levels[MAX_LEVELS];   /* Extent; level L holds blocks of FANOUT^(L+1) points */
  DecimateCache  cache;
} Channel;

struct _WeftLossSeries
{
  GObject parent_instance;

  /* Owned */
  char               *label;
  GArray             *x;        /* double, non-decreasing */
  Channel             raw;
  Channel             smooth;   /* used only when smoothing > 0 */
  double              smoothing;
  double              ema;
  double              ema_weight;

  int                 head;
  WeftLossSeriesKind  kind;
};

G_DEFINE_FINAL_TYPE (WeftLossSeries, weft_loss_series, G_TYPE_OBJECT)

enum { ITEMS_CHANGED, N_SIGNALS };
static guint signals[N_SIGNALS];

static const Extent empty_extent = { INFINITY, -INFINITY, INFINITY };

static void
extent_add_value (Extent *e, double v)
{
  if (!isfinite (v))
    return;
  if (v < e->min)
    e->min = v;
  if (v > e->max)
    e->max = v;
  if (v > 0 && v < e->min_pos)
    e->min_pos = v;
}

static void
extent_merge (Extent *e, const Extent *o)
{
  if (o->min < e->min)
    e->min = o->min;
  if (o->max > e->max)
    e->max = o->max;
  if (o->min_pos < e->min_pos)
    e->min_pos = o->min_pos;
}

static void
channel_init (Channel *c)
{
  c->y = g_array_new (FALSE, FALSE, sizeof (double));
  for (int l = 0; l < MAX_LEVELS; l++)
    c->levels[l] = g_array_new (FALSE, FALSE, sizeof (Extent));
  c->cache.n_points = G_MAXUINT;
}

static void
channel_clear (Channel *c)
{
  g_array_set_size (c->y, 0);
  for (int l = 0; l < MAX_LEVELS; l++)
    g_array_set_size (c->levels[l], 0);
  c->cache.n_points = G_MAXUINT;
}

static void
channel_free (Channel *c)
{
  g_clear_pointer (&c->y, g_array_unref);
  for (int l = 0; l < MAX_LEVELS; l++)
    g_clear_pointer (&c->levels[l], g_array_unref);
  g_clear_pointer (&c->cache.columns, g_free);
}

/* Appends one value and completes whichever pyramid blocks it closes. */
static void
channel_push (Channel *c, double v)
{
  g_array_append_val (c->y, v);
  guint n = c->y->len;
  if (n % FANOUT != 0)
    return;
  Extent e = empty_extent;
  const double *y = &g_array_index (c->y, double, n - FANOUT);
  for (int i = 0; i < FANOUT; i++)
    extent_add_value (&e, y[i]);
  g_array_append_val (c->levels[0], e);
  for (int l = 1; l < MAX_LEVELS; l++)
    {
      GArray *below = c->levels[l - 1];
      if (below->len % FANOUT != 0)
        break;
      Extent up = empty_extent;
      const Extent *b = &g_array_index (below, Extent, below->len - FANOUT);
      for (int i = 0; i < FANOUT; i++)
        extent_merge (&up, &b[i]);
      g_array_append_val (c->levels[l], up);
    }
}

/* Extent of values [lo, hi): climbs to the largest aligned complete block that fits, so the
 * cost is O(FANOUT * levels) whatever the width of the range. */
static Extent
channel_extent (const Channel *c, guint lo, guint hi)
{
  Extent e = empty_extent;
  int level = -1;
  guint size = 1;
  const double *y = (const double *) c->y->data;

  while (lo < hi)
    {
      while (level + 1 < MAX_LEVELS && lo % (size * FANOUT) == 0
             && hi - lo >= size * FANOUT)
        {
          level++;
          size *= FANOUT;
        }
      while (level >= 0 && hi - lo < size)
        {
          level--;
          size /= FANOUT;
        }
      if (level < 0)
        extent_add_value (&e, y[lo]);
      else
        extent_merge (&e, &g_array_index (c->levels[level], Extent, lo / size));
      lo += size;
    }
  return e;
}

static const Channel *
channel_for (WeftLossSeries *self, gboolean smoothed)
{
  return smoothed && self->smoothing > 0 ? &self->smooth : &self->raw;
}

static void
smooth_push (WeftLossSeries *self, double y)
{
  double a = self->smoothing;
  if (isfinite (y))
    {
      self->ema = a * self->ema + (1 - a) * y;
      self->ema_weight = a * self->ema_weight + (1 - a);
      channel_push (&self->smooth, self->ema / self->ema_weight);
    }
  else
    channel_push (&self->smooth, y);
}

static void
weft_loss_series_finalize (GObject *object)
{
  WeftLossSeries *self = WEFT_LOSS_SERIES (object);

  g_clear_pointer (&self->label, g_free);
  g_clear_pointer (&self->x, g_array_unref);
  channel_free (&self->raw);
  channel_free (&self->smooth);

  G_OBJECT_CLASS (weft_loss_series_parent_class)->finalize (object);
}

static void
weft_loss_series_class_init (WeftLossSeriesClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = weft_loss_series_finalize;

  /* Same signature as GListModel's: points removed and added at position. */
  signals[ITEMS_CHANGED] = g_signal_new ("items-changed", G_TYPE_FROM_CLASS (klass),
                                         G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                         G_TYPE_NONE, 3, G_TYPE_UINT, G_TYPE_UINT,
                                         G_TYPE_UINT);
}

static void
weft_loss_series_init (WeftLossSeries *self)
{
  self->x = g_array_new (FALSE, FALSE, sizeof (double));
  channel_init (&self->raw);
  channel_init (&self->smooth);
}

WeftLossSeries *
weft_loss_series_new (const char *label, int head, WeftLossSeriesKind kind)
{
  WeftLossSeries *self = g_object_new (WEFT_TYPE_LOSS_SERIES, NULL);
  self->label = g_strdup (label != NULL ? label : "");
  self->head = head;
  self->kind = kind;
  return self;
}

const char *
weft_loss_series_get_label (WeftLossSeries *self)
{
  g_return_val_if_fail (WEFT_IS_LOSS_SERIES (self), NULL);
  return self->label;
}

int
weft_loss_series_get_head (WeftLossSeries *self)
{
  g_return_val_if_fail (WEFT_IS_LOSS_SERIES (self), -1);
  return self->head;
}

WeftLossSeriesKind
weft_loss_series_get_kind (WeftLossSeries *self)
{
  g_return_val_if_fail (WEFT_IS_LOSS_SERIES (self), WEFT_LOSS_SERIES_TRAIN);
  return self->kind;
}

guint
weft_loss_series_append (WeftLossSeries *self, const double *x, const double *y, guint n)
{
  g_return_val_if_fail (WEFT_IS_LOSS_SERIES (self), 0);
  g_return_val_if_fail (n == 0 || (x != NULL && y != NULL), 0);

  guint position = self->x->len;
  double last = position > 0 ? g_array_index (self->x, double, position - 1) : -INFINITY;
  for (guint i = 0; i < n; i++)
    {
      if (!(x[i] >= last))   /* also drops a NaN x */
        continue;
      last = x[i];
      g_array_append_val (self->x, x[i]);
      channel_push (&self->raw, y[i]);
      if (self->smoothing > 0)
        smooth_push (self, y[i]);
    }
  guint added = self->x->len - position;
  if (added > 0)
    g_signal_emit (self, signals[ITEMS_CHANGED], 0, position, 0, added);
  return added;
}

void
weft_loss_series_clear (WeftLossSeries *self)
{
  g_return_if_fail (WEFT_IS_LOSS_SERIES (self));

  guint removed = self->x->len;
  g_array_set_size (self->x, 0);
  channel_clear (&self->raw);
  channel_clear (&self->smooth);
  self->ema = self->ema_weight = 0;
  if (removed > 0)
    g_signal_emit (self, signals[ITEMS_CHANGED], 0, 0, removed, 0);
}

guint
weft_loss_series_get_n_points (WeftLossSeries *self)
{
  g_return_val_if_fail (WEFT_IS_LOSS_SERIES (self), 0);
  return self->x->len;
}

const double *
weft_loss_series_get_x (WeftLossSeries *self)
{
  g_return_val_if_fail (WEFT_IS_LOSS_SERIES (self), NULL);
  return (const double *) self->x->data;
}

const double *
weft_loss_series_get_y (WeftLossSeries *self)
{
  g_return_val_if_fail (WEFT_IS_LOSS_SERIES (self), NULL);
  return (const double *) self->raw.y->data;
}

void
weft_loss_series_set_smoothing (WeftLossSeries *self, double smoothing)
{
  g_return_if_fail (WEFT_IS_LOSS_SERIES (self));

  smoothing = isfinite (smoothing) ? CLAMP (smoothing, 0.0, 0.999) : 0.0;
  if (smoothing == self->smoothing)
    return;
  self->smoothing = smoothing;
  channel_clear (&self->smooth);
  self->ema = self->ema_weight = 0;
  if (smoothing > 0)
    {
      const double *y = (const double *) self->raw.y->data;
      for (guint i = 0; i < self->raw.y->len; i++)
        smooth_push (self, y[i]);
    }
}

double
weft_loss_series_get_smoothing (WeftLossSeries *self)
{
  g_return_val_if_fail (WEFT_IS_LOSS_SERIES (self), 0);
  return self->smoothing;
}

const double *
weft_loss_series_get_smoothed (WeftLossSeries *self)
{
  g_return_val_if_fail (WEFT_IS_LOSS_SERIES (self), NULL);
  return (const double *) channel_for (self, TRUE)->y->data;
}

guint
weft_loss_series_lower_bound (WeftLossSeries *self, double value)
{
  g_return_val_if_fail (WEFT_IS_LOSS_SERIES (self), 0);

  const double *x = (const double *) self->x->data;
  guint lo = 0, hi = self->x->len;
  while (lo < hi)
    {
      guint mid = lo + (hi - lo) / 2;
      if (x[mid] < value)
        lo = mid + 1;
      else
        hi = mid;
    }
  return lo;
}

gboolean
weft_loss_series_nearest (WeftLossSeries *self, double value, guint *index)
{
  g_return_val_if_fail (WEFT_IS_LOSS_SERIES (self), FALSE);

  guint n = self->x->len;
  if (n == 0 || isnan (value))
    return FALSE;
  const double *x = (const double *) self->x->data;
  guint i = weft_loss_series_lower_bound (self, value);
  if (i == n)
    i = n - 1;
  else if (i > 0 && value - x[i - 1] <= x[i] - value)
    i = i - 1;
  if (index != NULL)
    *index = i;
  return TRUE;
}

gboolean
weft_loss_series_y_range (WeftLossSeries *self, double x0, double x1, gboolean smoothed,
                          gboolean positive_only, double *y_min, double *y_max)
{
  g_return_val_if_fail (WEFT_IS_LOSS_SERIES (self), FALSE);

  guint lo = weft_loss_series_lower_bound (self, x0);
  guint hi = weft_loss_series_lower_bound (self, nextafter (x1, INFINITY));
  if (lo >= hi)
    return FALSE;
  Extent e = channel_extent (channel_for (self, smoothed), lo, hi);
  double mn = positive_only ? e.min_pos : e.min;
  if (!(mn <= e.max))
    return FALSE;
  if (y_min != NULL)
    *y_min = mn;
  if (y_max != NULL)
    *y_max = e.max;
  return TRUE;
}

/* First index >= from with x >= value, searching outward from `from` (column edges ascend,
 * so each search starts where the last ended and touches only nearby memory). */
static guint
gallop (const double *x, guint n, guint from, double value)
{
  guint step = 1, lo = from, hi;
  if (from >= n || x[from] >= value)
    return from;
  while (from + step < n && x[from + step] < value)
    {
      lo = from + step;
      step *= 2;
    }
  hi = MIN (from + step, n);
  while (lo < hi)
    {
      guint mid = lo + (hi - lo) / 2;
      if (x[mid] < value)
        lo = mid + 1;
      else
        hi = mid;
    }
  return lo;
}

/* Columns [first, n_columns) of the decimation of [x0, x1) into n_columns. */
static void
decimate_range (WeftLossSeries *self, const Channel *c, double x0, double x1, guint first,
                guint n_columns, WeftLossColumn *columns)
{
  const double *x = (const double *) self->x->data;
  const double *y = (const double *) c->y->data;
  guint n = self->x->len;
  double width = (x1 - x0) / n_columns;
  guint lo = weft_loss_series_lower_bound (self, first == 0 ? x0 : x0 + width * first);

  for (guint k = first; k < n_columns; k++)
    {
      WeftLossColumn *col = &columns[k];
      double edge = k + 1 == n_columns ? x1 : x0 + width * (k + 1);
      guint hi = gallop (x, n, lo, edge);
      col->n = hi - lo;
      if (col->n == 0)
        {
          col->x_first = col->x_last = x0 + width * k;
          col->y_first = col->y_last = col->y_min = col->y_max = NAN;
          continue;
        }
      col->x_first = x[lo];
      col->y_first = y[lo];
      col->x_last = x[hi - 1];
      col->y_last = y[hi - 1];
      Extent e = channel_extent (c, lo, hi);
      col->y_min = e.min <= e.max ? e.min : NAN;
      col->y_max = e.min <= e.max ? e.max : NAN;
      lo = hi;
    }
}

const WeftLossColumn *
weft_loss_series_peek_decimation (WeftLossSeries *self, double x0, double x1, guint n_columns,
                                  gboolean smoothed)
{
  g_return_val_if_fail (WEFT_IS_LOSS_SERIES (self), NULL);
  g_return_val_if_fail (n_columns > 0, NULL);

  Channel *c = (Channel *) channel_for (self, smoothed);
  DecimateCache *cache = &c->cache;
  guint n = self->x->len;
  guint first = 0;
  if (cache->n_points <= n && cache->n_columns == n_columns && cache->x0 == x0
      && cache->x1 == x1)
    {
      if (cache->n_points == n)
        return cache->columns;
      /* points only ever append: columns left of the first new point keep their summary */
      double width = (x1 - x0) / n_columns;
      double xn = g_array_index (self->x, double, cache->n_points);
      first = xn < x0 ? 0 : xn >= x1 ? n_columns : (guint) MIN ((xn - x0) / width, n_columns - 1);
      /* the division may round across an edge: step back to the column whose edges hold xn */
      while (first > 0 && xn < x0 + width * first)
        first--;
    }
  else
    {
      if (cache->n_columns != n_columns)
        {
          g_free (cache->columns);
          cache->columns = g_new (WeftLossColumn, n_columns);
          cache->n_columns = n_columns;
        }
      cache->x0 = x0;
      cache->x1 = x1;
    }
  if (first < n_columns)
    decimate_range (self, c, x0, x1, first, n_columns, cache->columns);
  cache->n_points = n;
  return cache->columns;
}

void
weft_loss_series_decimate (WeftLossSeries *self, double x0, double x1, guint n_columns,
                           gboolean smoothed, WeftLossColumn *columns)
{
  g_return_if_fail (WEFT_IS_LOSS_SERIES (self));
  g_return_if_fail (n_columns == 0 || columns != NULL);

  if (n_columns > 0)
    memcpy (columns, weft_loss_series_peek_decimation (self, x0, x1, n_columns, smoothed),
            n_columns * sizeof *columns);
}
