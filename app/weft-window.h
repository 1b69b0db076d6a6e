/* SPDX-License-Identifier: GPL-3.0-or-later */
/* weft-window.h: the editor window: start view, header bar, palette, canvas, inspector,
 * summary, toasts. */
#pragma once

#include <adwaita.h>

#include "weft-document.h"

G_BEGIN_DECLS

#define WEFT_TYPE_WINDOW (weft_window_get_type ())
G_DECLARE_FINAL_TYPE (WeftWindow, weft_window, WEFT, WINDOW, AdwApplicationWindow)

WeftWindow   *weft_window_new           (GtkApplication *application);
/* Shows document (takes a reference). */
void          weft_window_set_document  (WeftWindow   *self,
                                         WeftDocument *document);
WeftDocument *weft_window_get_document  (WeftWindow   *self);
/* Opens a .weft file in this window; errors are shown in the window. */
gboolean      weft_window_open_file     (WeftWindow   *self,
                                         GFile        *file);
/* Opens a copy of a built-in example from the GResource (e.g. "three-heads"): untitled, so
 * saving asks for a path; the window title is the example's title. */
gboolean      weft_window_open_example  (WeftWindow   *self,
                                         const char   *name);
/* The empty box below the canvas where the training dashboard goes. */
GtkWidget    *weft_window_get_dashboard_area (WeftWindow *self);
/* TRUE while the start view (recent files, examples) is shown instead of the editor. */
gboolean      weft_window_is_start_view (WeftWindow   *self);
/* Offers to restore (or discard) the autosaves that a crash left behind and nobody else
 * owns or offers, in a bar at the top; a restored graph opens unsaved, in this window when
 * it shows the start view, else in a new one. */
void          weft_window_offer_restore (WeftWindow   *self);

G_END_DECLS
