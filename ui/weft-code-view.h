/* SPDX-License-Identifier: GPL-3.0-or-later */
/* weft-code-view.h: the "Keras code" pane: the document's graph as Keras functional-API
 * Python (weft_keras_code, the same text as the export), read-only, with the selected
 * node's lines highlighted and a button copying the text to the clipboard. */
#pragma once

#include <gtk/gtk.h>

#include "weft-document.h"

G_BEGIN_DECLS

#define WEFT_TYPE_CODE_VIEW (weft_code_view_get_type ())
G_DECLARE_FINAL_TYPE (WeftCodeView, weft_code_view, WEFT, CODE_VIEW, GtkWidget)

GtkWidget     *weft_code_view_new           (void);
/* The text follows the document's "changed" signal; it is regenerated while mapped. */
void           weft_code_view_set_document  (WeftCodeView *self,
                                             WeftDocument *document);
/* Highlights the lines of a node (or layer/model) and scrolls to them; WEFT_ID_NONE and
 * head ids clear the highlight. */
void           weft_code_view_set_highlight (WeftCodeView *self,
                                             WeftId        node);
/* The buffer shown; its tag "highlight" marks the highlighted lines. Borrowed. */
GtkTextBuffer *weft_code_view_get_buffer    (WeftCodeView *self);

G_END_DECLS
