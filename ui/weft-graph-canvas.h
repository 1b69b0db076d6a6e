/* SPDX-License-Identifier: GPL-3.0-or-later */
/* weft-graph-canvas.h: the node canvas widget. Draws a WeftDocument's current model through
 * the Cairo painter and turns pointer and keyboard input into document commands. Its actions
 * ("graph.delete", "graph.call-again", ...) are bound to the usual keys while it has focus. */
#pragma once

#include <gtk/gtk.h>

#include "weft-canvas-geometry.h"
#include "weft-document.h"

G_BEGIN_DECLS

#define WEFT_TYPE_GRAPH_CANVAS (weft_graph_canvas_get_type ())
G_DECLARE_FINAL_TYPE (WeftGraphCanvas, weft_graph_canvas, WEFT, GRAPH_CANVAS, GtkWidget)

/* What the pointer is doing. */
typedef enum
{
  WEFT_CANVAS_DRAG_NONE,
  WEFT_CANVAS_DRAG_MOVE_NODES,
  WEFT_CANVAS_DRAG_WIRE,
  WEFT_CANVAS_DRAG_RUBBER_BAND,
  WEFT_CANVAS_DRAG_PAN,
} WeftCanvasDragState;

GtkWidget    *weft_graph_canvas_new           (void);
void          weft_graph_canvas_set_document  (WeftGraphCanvas *self,
                                               WeftDocument    *document);
WeftDocument *weft_graph_canvas_get_document  (WeftGraphCanvas *self);   /* (nullable) */

/* Selected node ids (heads have WEFT_CANVAS_HEAD_ID ids), in selection order. Borrowed. */
const GArray *weft_graph_canvas_get_selection (WeftGraphCanvas *self);
void          weft_graph_canvas_select        (WeftGraphCanvas *self,
                                               const WeftId    *ids,
                                               int              n_ids);
/* The single selected layer node, or WEFT_ID_NONE. */
WeftId        weft_graph_canvas_get_focus_node (WeftGraphCanvas *self);

const WeftCanvasView  *weft_graph_canvas_get_view  (WeftGraphCanvas *self);
const WeftCanvasScene *weft_graph_canvas_get_scene (WeftGraphCanvas *self);
WeftCanvasDragState    weft_graph_canvas_get_drag_state (WeftGraphCanvas *self);
/* Shows the whole graph (the F key). A document set on the canvas opens fitted too, but
 * never smaller than a legible zoom unless it is large. */
void          weft_graph_canvas_fit           (WeftGraphCanvas *self);
/* Sets the view transform (zoom clamped), e.g. 100 % at a given offset. */
void          weft_graph_canvas_set_view      (WeftGraphCanvas      *self,
                                               const WeftCanvasView *view);
/* Adds a layer of `type` (or places model "model:NAME") centred at a graph point. */
WeftId        weft_graph_canvas_add_at        (WeftGraphCanvas *self,
                                               const char      *type,
                                               double           x,
                                               double           y);
/* Graph point at the centre of the visible area. */
WeftPoint     weft_graph_canvas_get_center    (WeftGraphCanvas *self);

G_END_DECLS
