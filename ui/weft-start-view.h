/* SPDX-License-Identifier: GPL-3.0-or-later */
/* weft-start-view.h: what the window shows when no graph is open: buttons for a new or an
 * existing graph, the recent files and the gallery of built-in examples, each with a picture
 * of its graph drawn by the canvas painter. */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define WEFT_TYPE_START_VIEW (weft_start_view_get_type ())
G_DECLARE_FINAL_TYPE (WeftStartView, weft_start_view, WEFT, START_VIEW, GtkWidget)

GtkWidget *weft_start_view_new         (void);
/* Shows these files (URIs, newest first; missing local files are left out). */
void       weft_start_view_set_recent  (WeftStartView      *self,
                                        const char * const *uris);
/* Redraws the example pictures for a dark or light background. */
void       weft_start_view_set_dark    (WeftStartView      *self,
                                        gboolean            dark);
/* Number of examples in the gallery. */
guint      weft_start_view_get_n_examples (WeftStartView *self);

/* The title of a built-in example ("Sequential MLP"), or NULL when there is none; newly
 * allocated. name is the resource's base name without ".weft". */
char      *weft_example_dup_title      (const char *name);

G_END_DECLS
