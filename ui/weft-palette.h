/* SPDX-License-Identifier: GPL-3.0-or-later */
/* weft-palette.h: the searchable list of layer types grouped by palette category, plus the
 * graph's models (reusable as layers) and the output head. Rows are drag sources carrying
 * the type name ("Dense", "model:NAME" or "head"); activating a row emits "add". */
#pragma once

#include <gtk/gtk.h>

#include "weft-graph.h"

G_BEGIN_DECLS

#define WEFT_TYPE_PALETTE (weft_palette_get_type ())
G_DECLARE_FINAL_TYPE (WeftPalette, weft_palette, WEFT, PALETTE, GtkWidget)

GtkWidget *weft_palette_new          (void);
/* Lists the models of graph (all but main) in the "Models" group; NULL clears it. */
void       weft_palette_set_models   (WeftPalette *self,
                                      WeftGraph   *graph);
void       weft_palette_focus_search (WeftPalette *self);
/* Number of rows the current search shows (for tests). */
guint      weft_palette_n_visible    (WeftPalette *self);
/* Centre of the row of `type` in the coordinates of `target`; FALSE when not shown. */
gboolean   weft_palette_row_point    (WeftPalette *self,
                                      const char  *type,
                                      GtkWidget   *target,
                                      double      *x,
                                      double      *y);

G_END_DECLS
