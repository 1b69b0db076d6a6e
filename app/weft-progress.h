/* SPDX-License-Identifier: GPL-3.0-or-later */
/* weft-progress.h: training progress for the command line. On a terminal, one bar redrawn
 * in place (at most ~10 times a second); when piped, one plain line per epoch. */
#pragma once

#include <glib.h>
#include <stdio.h>

#include "weft-train.h"

G_BEGIN_DECLS

typedef struct _WeftProgress WeftProgress;

/* Reports to out (borrowed; not closed). epochs: epochs of this fit call; batches_per_epoch
 * may be 0 when unknown (taken from the reports). head_names: n_heads strings, copied.
 * Interactive (the bar) when out is a terminal and TERM is not "dumb". */
WeftProgress *weft_progress_new          (FILE               *out,
                                          int                 epochs,
                                          int                 batches_per_epoch,
                                          int                 n_heads,
                                          const char *const  *head_names);
/* Ends an unfinished bar line, then frees. NULL-safe. */
void          weft_progress_free         (WeftProgress *progress);
/* Optional: names of the per-head metrics (NULL entries: none) for the per-epoch lines. */
void          weft_progress_set_metric_names (WeftProgress       *progress,
                                              const char *const  *metric_names);
/* Optional: the epoch number (0-based, as in reports) this fit starts at, when continuing a
 * trained model, so that "epoch 1/5" counts this call's epochs. Default 0. */
void          weft_progress_set_first_epoch  (WeftProgress *progress, int first_epoch);
/* Overrides terminal detection (tests, --no-progress); width <= 0 keeps the detected one. */
void          weft_progress_set_interactive  (WeftProgress *progress, gboolean interactive,
                                              int width);

/* Feed from WeftTrainCallbacks (same thread as the writer of out). */
void          weft_progress_step         (WeftProgress *progress, const WeftStepReport *report);
void          weft_progress_epoch        (WeftProgress *progress,
                                          const WeftEpochReport *report);
/* Prints a line of text without garbling the bar (which is redrawn after it). */
void          weft_progress_message      (WeftProgress *progress,
                                          const char   *format,
                                          ...) G_GNUC_PRINTF (2, 3);

G_END_DECLS
