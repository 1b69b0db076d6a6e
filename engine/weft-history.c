/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "weft-history.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct
{
  int     run;
  int     epoch;
  int     batch;
  int64_t step;
  int64_t samples_seen;
  double  total;
} StepMeta;

typedef struct
{
  int    run;
  int    epoch;
  bool   has_validation;
  double total;
  double val_total;
  double seconds;
} EpochMeta;

/* Rows are split into a fixed-size part and a packed block of per-head doubles, so a row
 * costs (2 or 4) * n_heads doubles rather than WEFT_MAX_HEADS-sized arrays. */
typedef struct
{
  void   *meta;
  double *values;
  size_t  len;
  size_t  cap;
} Table;

struct _WeftHistory
{
  int    n_heads;
  char  *head_names[WEFT_MAX_HEADS];
  char  *metric_names[WEFT_MAX_HEADS];
  float  loss_weights[WEFT_MAX_HEADS];
  int    current_run;
  Table  steps;    /* StepMeta, 2 * n_heads values: loss, metric */
  Table  epochs;   /* EpochMeta, 4 * n_heads values: loss, metric, val_loss, val_metric */
};

#define STEP_VALUES(h)  (2 * (size_t) (h)->n_heads)
#define EPOCH_VALUES(h) (4 * (size_t) (h)->n_heads)

static char *
dup_string (const char *s)
{
  size_t len = strlen (s);
  char *copy = malloc (len + 1);

  if (copy != NULL)
    memcpy (copy, s, len + 1);
  return copy;
}

WeftHistory *
weft_history_new (int                n_heads,
                  const char *const *head_names,
                  const float       *loss_weights,
                  const char *const *metric_names)
{
  WeftHistory *h;

  if (n_heads < 1 || n_heads > WEFT_MAX_HEADS || head_names == NULL)
    return NULL;
  for (int j = 0; j < n_heads; j++)
    if (head_names[j] == NULL || head_names[j][0] == '\0')
      return NULL;

  h = calloc (1, sizeof *h);
  if (h == NULL)
    return NULL;
  h->n_heads = n_heads;
  for (int j = 0; j < n_heads; j++)
    {
      h->head_names[j] = dup_string (head_names[j]);
      if (h->head_names[j] == NULL)
        goto fail;
      h->loss_weights[j] = loss_weights != NULL ? loss_weights[j] : 1.0f;
      if (metric_names != NULL && metric_names[j] != NULL && metric_names[j][0] != '\0')
        {
          h->metric_names[j] = dup_string (metric_names[j]);
          if (h->metric_names[j] == NULL)
            goto fail;
        }
    }
  return h;

fail:
  weft_history_free (h);
  return NULL;
}

void
weft_history_free (WeftHistory *history)
{
  if (history == NULL)
    return;
  for (int j = 0; j < WEFT_MAX_HEADS; j++)
    {
      free (history->head_names[j]);
      free (history->metric_names[j]);
    }
  free (history->steps.meta);
  free (history->steps.values);
  free (history->epochs.meta);
  free (history->epochs.values);
  free (history);
}

void
weft_history_clear (WeftHistory *history)
{
  WEFT_CHECK (history != NULL);
  history->steps.len = 0;
  history->epochs.len = 0;
  history->current_run = 0;
}

int
weft_history_n_heads (const WeftHistory *history)
{
  WEFT_CHECK (history != NULL);
  return history->n_heads;
}

const char *
weft_history_head_name (const WeftHistory *history, int head)
{
  WEFT_CHECK (history != NULL && head >= 0 && head < history->n_heads);
  return history->head_names[head];
}

float
weft_history_loss_weight (const WeftHistory *history, int head)
{
  WEFT_CHECK (history != NULL && head >= 0 && head < history->n_heads);
  return history->loss_weights[head];
}

const char *
weft_history_metric_name (const WeftHistory *history, int head)
{
  WEFT_CHECK (history != NULL && head >= 0 && head < history->n_heads);
  return history->metric_names[head];
}

/* Makes room for one more row; doubling keeps appends amortised O(1). */
static bool
table_reserve_one (Table *t, size_t meta_size, size_t n_values)
{
  size_t cap;
  void *meta;
  double *values;

  if (t->len < t->cap)
    return true;
  cap = t->cap == 0 ? 64 : t->cap * 2;
  if (cap < t->cap || cap > SIZE_MAX / meta_size || cap > SIZE_MAX / sizeof (double) / n_values)
    return false;
  /* Grow both blocks before committing cap, so a failure leaves the table consistent. */
  meta = realloc (t->meta, cap * meta_size);
  if (meta == NULL)
    return false;
  t->meta = meta;
  values = realloc (t->values, cap * n_values * sizeof (double));
  if (values == NULL)
    return false;
  t->values = values;
  t->cap = cap;
  return true;
}

static void
copy_or_nan (double *dst, const double *src, int n)
{
  for (int j = 0; j < n; j++)
    dst[j] = src != NULL ? src[j] : NAN;
}

static int
last_run (const Table *t, size_t meta_size)
{
  if (t->len == 0)
    return -1;
  /* run is the first member of both meta structs. */
  return *(const int *) ((const char *) t->meta + (t->len - 1) * meta_size);
}

/* Each table keeps its runs ascending (so a run is one contiguous range); the two tables
 * are independent, so a loader may fill one completely before the other. */
static bool
run_is_acceptable (const Table *t, size_t meta_size, int run)
{
  return run >= 0 && run >= last_run (t, meta_size);
}

bool
weft_history_append_step (WeftHistory *history, const WeftHistoryStep *row)
{
  StepMeta *meta;
  double *values;
  int n;

  WEFT_CHECK (history != NULL && row != NULL && row->loss != NULL);
  if (!run_is_acceptable (&history->steps, sizeof (StepMeta), row->run))
    return false;
  if (!table_reserve_one (&history->steps, sizeof (StepMeta), STEP_VALUES (history)))
    return false;
  n = history->n_heads;
  meta = (StepMeta *) history->steps.meta + history->steps.len;
  meta->run = row->run;
  meta->epoch = row->epoch;
  meta->batch = row->batch;
  meta->step = row->step;
  meta->samples_seen = row->samples_seen;
  meta->total = row->total;
  values = history->steps.values + history->steps.len * STEP_VALUES (history);
  copy_or_nan (values, row->loss, n);
  copy_or_nan (values + n, row->metric, n);
  history->steps.len++;
  if (row->run > history->current_run)
    history->current_run = row->run;
  return true;
}

bool
weft_history_append_epoch (WeftHistory *history, const WeftHistoryEpoch *row)
{
  EpochMeta *meta;
  double *values;
  int n;

  WEFT_CHECK (history != NULL && row != NULL && row->loss != NULL);
  if (!run_is_acceptable (&history->epochs, sizeof (EpochMeta), row->run))
    return false;
  if (!table_reserve_one (&history->epochs, sizeof (EpochMeta), EPOCH_VALUES (history)))
    return false;
  n = history->n_heads;
  meta = (EpochMeta *) history->epochs.meta + history->epochs.len;
  meta->run = row->run;
  meta->epoch = row->epoch;
  meta->has_validation = row->has_validation;
  meta->total = row->total;
  meta->val_total = row->has_validation ? row->val_total : NAN;
  meta->seconds = row->seconds;
  values = history->epochs.values + history->epochs.len * EPOCH_VALUES (history);
  copy_or_nan (values, row->loss, n);
  copy_or_nan (values + n, row->metric, n);
  copy_or_nan (values + 2 * n, row->has_validation ? row->val_loss : NULL, n);
  copy_or_nan (values + 3 * n, row->has_validation ? row->val_metric : NULL, n);
  history->epochs.len++;
  if (row->run > history->current_run)
    history->current_run = row->run;
  return true;
}

bool
weft_history_add_step (WeftHistory *history, const WeftStepReport *report)
{
  WeftHistoryStep row;

  WEFT_CHECK (history != NULL && report != NULL);
  if (report->n_heads != history->n_heads)
    return false;
  row.run = history->current_run;
  row.step = report->step;
  row.epoch = report->epoch;
  row.batch = report->batch;
  row.samples_seen = report->samples_seen;
  row.total = report->total;
  row.loss = report->loss;
  row.metric = report->metric;
  return weft_history_append_step (history, &row);
}

bool
weft_history_add_epoch (WeftHistory *history, const WeftEpochReport *report)
{
  WeftHistoryEpoch row;

  WEFT_CHECK (history != NULL && report != NULL);
  if (report->n_heads != history->n_heads)
    return false;
  row.run = history->current_run;
  row.epoch = report->epoch;
  row.total = report->total;
  row.has_validation = report->has_validation;
  row.val_total = report->val_total;
  row.seconds = report->seconds;
  row.loss = report->loss;
  row.metric = report->metric;
  row.val_loss = report->val_loss;
  row.val_metric = report->val_metric;
  return weft_history_append_epoch (history, &row);
}

int
weft_history_begin_run (WeftHistory *history)
{
  WEFT_CHECK (history != NULL);
  if (last_run (&history->steps, sizeof (StepMeta)) == history->current_run
      || last_run (&history->epochs, sizeof (EpochMeta)) == history->current_run)
    history->current_run++;
  return history->current_run;
}

int
weft_history_current_run (const WeftHistory *history)
{
  WEFT_CHECK (history != NULL);
  return history->current_run;
}

int
weft_history_n_runs (const WeftHistory *history)
{
  WEFT_CHECK (history != NULL);
  return history->current_run + 1;
}

size_t
weft_history_n_steps (const WeftHistory *history)
{
  WEFT_CHECK (history != NULL);
  return history->steps.len;
}

size_t
weft_history_n_epochs (const WeftHistory *history)
{
  WEFT_CHECK (history != NULL);
  return history->epochs.len;
}

bool
weft_history_get_step (const WeftHistory *history, size_t i, WeftHistoryStep *row)
{
  const StepMeta *meta;
  const double *values;

  WEFT_CHECK (history != NULL && row != NULL);
  if (i >= history->steps.len)
    return false;
  meta = (const StepMeta *) history->steps.meta + i;
  values = history->steps.values + i * STEP_VALUES (history);
  row->run = meta->run;
  row->step = meta->step;
  row->epoch = meta->epoch;
  row->batch = meta->batch;
  row->samples_seen = meta->samples_seen;
  row->total = meta->total;
  row->loss = values;
  row->metric = values + history->n_heads;
  return true;
}

bool
weft_history_get_epoch (const WeftHistory *history, size_t i, WeftHistoryEpoch *row)
{
  const EpochMeta *meta;
  const double *values;
  int n;

  WEFT_CHECK (history != NULL && row != NULL);
  if (i >= history->epochs.len)
    return false;
  n = history->n_heads;
  meta = (const EpochMeta *) history->epochs.meta + i;
  values = history->epochs.values + i * EPOCH_VALUES (history);
  row->run = meta->run;
  row->epoch = meta->epoch;
  row->total = meta->total;
  row->has_validation = meta->has_validation;
  row->val_total = meta->val_total;
  row->seconds = meta->seconds;
  row->loss = values;
  row->metric = values + n;
  row->val_loss = values + 2 * n;
  row->val_metric = values + 3 * n;
  return true;
}

/* Rows are sorted by run, so a run's range is found by two binary searches. */
static size_t
lower_bound_run (const Table *t, size_t meta_size, int run)
{
  size_t lo = 0, hi = t->len;

  while (lo < hi)
    {
      size_t mid = lo + (hi - lo) / 2;
      int r = *(const int *) ((const char *) t->meta + mid * meta_size);

      if (r < run)
        lo = mid + 1;
      else
        hi = mid;
    }
  return lo;
}

static void
run_range (const Table *t, size_t meta_size, int run, size_t *first, size_t *count)
{
  size_t a = lower_bound_run (t, meta_size, run);
  size_t b = run < INT32_MAX ? lower_bound_run (t, meta_size, run + 1) : t->len;

  if (first != NULL)
    *first = a;
  if (count != NULL)
    *count = b - a;
}

void
weft_history_run_steps (const WeftHistory *history, int run, size_t *first, size_t *count)
{
  WEFT_CHECK (history != NULL);
  run_range (&history->steps, sizeof (StepMeta), run, first, count);
}

void
weft_history_run_epochs (const WeftHistory *history, int run, size_t *first, size_t *count)
{
  WEFT_CHECK (history != NULL);
  run_range (&history->epochs, sizeof (EpochMeta), run, first, count);
}
