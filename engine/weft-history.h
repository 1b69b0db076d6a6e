/* SPDX-License-Identifier: GPL-3.0-or-later */
/* weft-history.h: a training history (Keras' History, per step and per epoch, per head),
 * able to hold several runs so a new run can be drawn over the previous one. */
#pragma once

#include "weft-train.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _WeftHistory WeftHistory;

/* One training batch. The arrays hold n_heads values and are borrowed from the history:
 * valid until the next call that adds rows, clears or frees it. */
typedef struct
{
  int           run;           /* 0-based run index */
  int64_t       step;          /* global step, as reported by the trainer */
  int           epoch;         /* 0-based */
  int           batch;         /* 0-based within the epoch */
  int64_t       samples_seen;  /* within the epoch, after this batch */
  double        total;         /* sum of weight * loss */
  const double *loss;          /* unweighted loss per head */
  const double *metric;        /* metric per head; NaN when the head has no metric */
} WeftHistoryStep;

/* One finished epoch; the same borrowing rules. val_* are NaN when !has_validation. */
typedef struct
{
  int           run;
  int           epoch;         /* 0-based */
  double        total;         /* weighted total training loss */
  bool          has_validation;
  double        val_total;
  double        seconds;       /* wall time of the epoch */
  const double *loss;
  const double *metric;
  const double *val_loss;
  const double *val_metric;
} WeftHistoryEpoch;

/* Creates an empty history with run 0 current. head_names: n_heads non-empty strings
 * (copied). loss_weights: n_heads weights or NULL for all 1. metric_names: NULL, or n_heads
 * entries where NULL or "" means "no metric" (copied). Returns NULL when n_heads is outside
 * 1..WEFT_MAX_HEADS, a head name is missing or memory runs out. */
WeftHistory *weft_history_new   (int                n_heads,
                                 const char *const *head_names,
                                 const float       *loss_weights,
                                 const char *const *metric_names);
void         weft_history_free  (WeftHistory *history);                       /* NULL-safe */
/* Removes every row and every run; the next row belongs to run 0. Keeps the heads. */
void         weft_history_clear (WeftHistory *history);

int          weft_history_n_heads     (const WeftHistory *history);
/* Borrowed; head must be in 0..n_heads-1 (WEFT_CHECK). */
const char  *weft_history_head_name   (const WeftHistory *history, int head);
float        weft_history_loss_weight (const WeftHistory *history, int head);
/* Borrowed; NULL when the head has no metric. */
const char  *weft_history_metric_name (const WeftHistory *history, int head);

/* Appends one row from the trainer's callbacks to the current run. Amortised O(1): storage
 * grows geometrically. False (history unchanged) when report->n_heads differs from the
 * history's or memory runs out. Not thread-safe: one writer, readers on the same thread. */
bool         weft_history_add_step    (WeftHistory *history, const WeftStepReport *report);
bool         weft_history_add_epoch   (WeftHistory *history, const WeftEpochReport *report);

/* Runs. A continued fit keeps adding to the current run; a fresh start calls begin_run,
 * which makes the next rows belong to a new run (a no-op while the current run is empty).
 * Returns the index of the current run. */
int          weft_history_begin_run   (WeftHistory *history);
int          weft_history_current_run (const WeftHistory *history);
/* current_run + 1: the current run counts even while it has no rows yet. */
int          weft_history_n_runs      (const WeftHistory *history);

size_t       weft_history_n_steps     (const WeftHistory *history);
size_t       weft_history_n_epochs    (const WeftHistory *history);
/* Fills *row with step/epoch row i (0..n-1, in the order added; runs are contiguous and
 * ascending). False when i is out of range. */
bool         weft_history_get_step    (const WeftHistory *history, size_t i,
                                       WeftHistoryStep *row);
bool         weft_history_get_epoch   (const WeftHistory *history, size_t i,
                                       WeftHistoryEpoch *row);
/* Row range [*first, *first + *count) of one run; count is 0 for a run without rows. */
void         weft_history_run_steps   (const WeftHistory *history, int run,
                                       size_t *first, size_t *count);
void         weft_history_run_epochs  (const WeftHistory *history, int run,
                                       size_t *first, size_t *count);

/* Loading (from .weft or CSV): appends a row given as values. row->run must be >= the run of
 * the last row of the same table (steps and epochs are independent, so either may be loaded
 * first); a larger run becomes the current run. The arrays hold n_heads values;
 * metric, val_loss and val_metric may be NULL (NaN). False on a bad run or no memory. */
bool         weft_history_append_step  (WeftHistory *history, const WeftHistoryStep *row);
bool         weft_history_append_epoch (WeftHistory *history, const WeftHistoryEpoch *row);

#ifdef __cplusplus
}
#endif
