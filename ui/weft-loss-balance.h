/* SPDX-License-Identifier: GPL-3.0-or-later */
/* weft-loss-balance.h: how the heads share the weighted total loss, the "suggest weights"
 * rule, and the gradient share per shared layer; plain Cairo pictures of both. */
#pragma once

#include <cairo.h>
#include <glib.h>

#include "weft-history.h"
#include "weft-train.h"

G_BEGIN_DECLS

/* Mean unweighted loss of each head over the last `window` steps of `run` (-1: current),
 * finite values only (NaN for a head without any). FALSE when the run has no step. */
gboolean weft_loss_balance_recent_losses (const WeftHistory *history,
                                          int                run,
                                          int                window,
                                          double            *mean_loss);

/* The suggest-weights rule: w_j proportional to 1 / L_j (L_j: mean recent unweighted loss),
 * normalised so the new weights sum to the current sum, which makes every head's
 * contribution w_j L_j equal. Heads whose L_j is not finite and > 0 keep their weight and
 * are left out of the normalisation. Returns the number of heads whose weight changed. */
int      weft_loss_balance_suggest       (int           n_heads,
                                          const float  *weights,
                                          const double *mean_loss,
                                          float        *suggested);

/* share[j] = w_j L_j / sum_k w_k L_k (NaN when the sum is not finite and > 0). */
void     weft_loss_balance_shares        (int           n_heads,
                                          const float  *weights,
                                          const double *loss,
                                          double       *share);

/* Stacked band of the shares over the steps of `run` (-1: current), one colour per head
 * (the chart's), averaged per pixel column. weights: n_heads weights, NULL for the
 * history's. */
void     weft_loss_balance_paint         (cairo_t           *cr,
                                          double             width,
                                          double             height,
                                          const WeftHistory *history,
                                          int                run,
                                          const float       *weights,
                                          gboolean           dark);

/* The same band kept up to date as steps arrive: prefix sums of each head's share over the
 * steps of the history's current run (with its loss weights), so a redraw costs O(width)
 * and a sync O(new steps), however long the run. */
typedef struct _WeftLossBalanceBand WeftLossBalanceBand;

WeftLossBalanceBand *weft_loss_balance_band_new   (void);
void                 weft_loss_balance_band_free  (WeftLossBalanceBand *band);  /* NULL-safe */
/* Reads the steps added since the last sync; a different history, a new run or changed
 * weights start over. Returns the number of steps read. history may be NULL. */
size_t               weft_loss_balance_band_sync  (WeftLossBalanceBand *band,
                                                   const WeftHistory   *history);
/* Paints what weft_loss_balance_paint paints for the synced steps. */
void                 weft_loss_balance_band_paint (WeftLossBalanceBand *band,
                                                   cairo_t             *cr,
                                                   double               width,
                                                   double               height,
                                                   gboolean             dark);

/* A row is shared when at least two heads send it a non-zero gradient. */
gboolean weft_loss_balance_row_is_shared (const WeftGradientShare *row);

/* One horizontal bar per shared layer, split by each head's part of the summed gradient
 * norms, with the layer name. Returns the height used. */
double   weft_loss_balance_paint_gradient_share (cairo_t                 *cr,
                                                 double                   width,
                                                 const WeftGradientShare *rows,
                                                 int                      n_rows,
                                                 gboolean                 dark);

/* The same over time: one band per shared layer with the heads' parts of its gradient norm
 * stacked, epochs from left to right. rows holds n_epochs blocks of n_rows rows, each block
 * the same layers in the same order (one plan). Returns the height used. */
double   weft_loss_balance_paint_gradient_share_history (cairo_t                 *cr,
                                                         double                   width,
                                                         const WeftGradientShare *rows,
                                                         int                      n_rows,
                                                         int                      n_epochs,
                                                         gboolean                 dark);

G_END_DECLS
