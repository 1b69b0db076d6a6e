/* SPDX-License-Identifier: GPL-3.0-or-later */
/* weft-csv-history.h: training history as CSV, with Keras CSVLogger column names, and back.
 * Numbers are written with "%.9g" in C-locale form whatever the user's locale. */
#pragma once

#include <glib.h>

#include "weft-history.h"

G_BEGIN_DECLS

typedef enum
{
  /* epoch,loss,<head>_loss...,<head>_<metric>...,val_loss,val_<head>_loss...,
   * val_<head>_<metric>...,seconds[,run]. The val_ columns appear when any written epoch has
   * validation (empty cells for epochs without); "loss" is the weighted total. */
  WEFT_CSV_HISTORY_EPOCHS,
  /* step,epoch,batch,samples,loss,<head>_loss...,<head>_<metric>...[,run] */
  WEFT_CSV_HISTORY_STEPS,
} WeftCsvHistoryKind;

/* The CSV text (caller frees). run: one run index, or -1 for every run; a trailing "run"
 * column is added when the rows written span more than one run. Heads without a metric
 * have no metric column; NaN/Inf are written as nan/inf/-inf. */
char        *weft_csv_history_format (const WeftHistory *history,
                                      WeftCsvHistoryKind kind,
                                      int                run);
/* Writes the same text to path atomically (temporary file, fsync, rename): the previous
 * file survives any failure. Errors are WEFT_IO_ERROR_IO naming the path. */
gboolean     weft_csv_history_save   (const WeftHistory *history,
                                      const char        *path,
                                      WeftCsvHistoryKind kind,
                                      int                run,
                                      GError           **error);

/* Parses an epochs CSV and/or a steps CSV (either may be NULL, not both) into a new history.
 * Heads come from the <head>_loss columns (a Keras single-output file without them gives one
 * head "output"); when both texts are given their heads must agree. Columns Weft does not
 * know (e.g. Keras' "lr") are ignored; one metric per head is kept. CSV does not record loss
 * weights: every head gets weight 1. Malformed text is WEFT_IO_ERROR_FORMAT naming the
 * line. Returns NULL on error. */
WeftHistory *weft_csv_history_parse  (const char *epochs_text,
                                      const char *steps_text,
                                      GError    **error);
/* Same, reading files (WEFT_IO_ERROR_IO when one cannot be read). */
WeftHistory *weft_csv_history_load   (const char *epochs_path,
                                      const char *steps_path,
                                      GError    **error);

G_END_DECLS
