/* SPDX-License-Identifier: GPL-3.0-or-later */
/* weft-inspector.h: the settings of the selected node, generated from the registry's
 * parameter specs (spin, dropdown, switch, entry, with help text), its shapes, parameter
 * count and the nodes it shares weights with; head boxes show loss and loss weight. With
 * nothing selected it lists the model's problems. Every edit goes through the document. */
#pragma once

#include <gtk/gtk.h>

#include "weft-document.h"

G_BEGIN_DECLS

#define WEFT_TYPE_INSPECTOR (weft_inspector_get_type ())
G_DECLARE_FINAL_TYPE (WeftInspector, weft_inspector, WEFT, INSPECTOR, GtkWidget)

GtkWidget *weft_inspector_new          (void);
void       weft_inspector_set_document (WeftInspector *self,
                                        WeftDocument  *document);
/* Shows a node, a head (WEFT_CANVAS_HEAD_ID) or the model (WEFT_ID_NONE). */
void       weft_inspector_show         (WeftInspector *self,
                                        WeftId         id);
WeftId     weft_inspector_get_shown    (WeftInspector *self);

G_END_DECLS
