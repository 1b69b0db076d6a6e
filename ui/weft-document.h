/* SPDX-License-Identifier: GPL-3.0-or-later */
/* weft-document.h: an open .weft graph being edited. Every edit is a named command on an
 * undo/redo stack ("Add Dense", "Connect", "Move 3 nodes"...). A command either succeeds
 * as a whole or leaves the graph untouched and sets a GError. */
#pragma once

#include <gio/gio.h>

#include "weft-file.h"
#include "weft-graph.h"
#include "weft-history.h"

G_BEGIN_DECLS

#define WEFT_DOCUMENT_ERROR (weft_document_error_quark ())
GQuark weft_document_error_quark (void);
/* Error codes are the engine's WeftStatus values. */

#define WEFT_TYPE_DOCUMENT (weft_document_get_type ())
G_DECLARE_FINAL_TYPE (WeftDocument, weft_document, WEFT, DOCUMENT, GObject)

/* A new untitled document: an empty main model. */
WeftDocument *weft_document_new             (void);
/* Takes ownership of graph (and of history, nullable). */
WeftDocument *weft_document_new_for_graph   (WeftGraph   *graph,
                                             WeftHistory *history);
/* Replaces the content with a file's; clears the undo stack. */
gboolean      weft_document_load            (WeftDocument *self,
                                             GFile        *file,
                                             GError      **error);
gboolean      weft_document_save            (WeftDocument *self,
                                             GFile        *file,
                                             GError      **error);

/* Borrowed; replaced by undo/redo/load: never keep it across a "changed" emission. */
WeftGraph    *weft_document_get_graph       (WeftDocument *self);
WeftHistory  *weft_document_get_history     (WeftDocument *self);
/* The model shown and edited (the main model, or a model opened in place). */
WeftId        weft_document_get_model       (WeftDocument *self);
void          weft_document_set_model       (WeftDocument *self,
                                             WeftId        model);
GFile        *weft_document_get_file        (WeftDocument *self);     /* (nullable) */
/* Names the file that the content belongs to without reading it (a recovered autosave of
 * that file): the title, relative data paths and a later save use it. */
void          weft_document_set_file        (WeftDocument *self,
                                             GFile        *file);
gboolean      weft_document_get_dirty       (WeftDocument *self);
/* Adopts history (nullable, owned from now on) as the training history saved with the
 * graph, freeing the previous one; not an undo entry. Marks the document modified. */
void          weft_document_set_history     (WeftDocument *self,
                                             WeftHistory  *history);
/* Marks the document unsaved after a change outside the undo stack (trained weights, a new
 * training run): it stays unsaved across undo and redo until saved or loaded. */
void          weft_document_mark_modified   (WeftDocument *self);
/* Stores the training settings saved with the graph (not an undo entry: they do not change
 * the model); marks the document modified when they differ from the graph's. */
void          weft_document_set_train_config (WeftDocument          *self,
                                              const WeftTrainConfig *config);
/* "three-heads.weft" or "Untitled"; newly allocated. */
char         *weft_document_dup_title       (WeftDocument *self);
/* Title shown while the document has no file (an example's name); NULL for "Untitled". */
void          weft_document_set_display_name (WeftDocument *self,
                                              const char   *name);
/* The file's title, description and data binding (written back by save) and the head
 * positions (read into the document; NULL in what get returns). set copies. */
void          weft_document_set_file_meta   (WeftDocument       *self,
                                             const WeftFileMeta *meta);
const WeftFileMeta *weft_document_get_file_meta (WeftDocument *self);
/* Replaces the data binding saved with the file ("data" JSON, copied; NULL removes it),
 * keeping title, description and head positions; marks the document modified when it
 * differs. Not an undo entry (it does not change the model). */
void          weft_document_set_data_binding (WeftDocument *self,
                                              JsonNode     *data);
/* Positions of the current model's heads by output index (WeftPoint, NaN = placed
 * automatically); pass to weft_canvas_scene_build. Newly allocated. */
GArray       *weft_document_dup_head_positions (WeftDocument *self);
/* A translated sentence for an engine status ("The wire would close a cycle"). */
const char   *weft_document_describe_status (WeftStatus    status);

/* ---- undo ---- */
gboolean      weft_document_can_undo        (WeftDocument *self);
gboolean      weft_document_can_redo        (WeftDocument *self);
/* Name of the entry that undo/redo would apply, NULL when none. */
const char   *weft_document_get_undo_name   (WeftDocument *self);
const char   *weft_document_get_redo_name   (WeftDocument *self);
gboolean      weft_document_undo            (WeftDocument *self);
gboolean      weft_document_redo            (WeftDocument *self);

/* ---- commands (each one undo entry) ---- */
/* "Add Dense": a new layer of `type` and one call of it at (x, y) in the current model;
 * an Input becomes a model input. Returns the node or WEFT_ID_NONE. */
WeftId        weft_document_add_layer       (WeftDocument *self, const char *type,
                                             double x, double y, GError **error);
/* "Call dense again": a new node of the same layer or model (shared weights). */
WeftId        weft_document_call_again      (WeftDocument *self, WeftId node,
                                             double x, double y, GError **error);
/* "Place model": a node calling model `callee` in the current model. */
WeftId        weft_document_add_model_node  (WeftDocument *self, WeftId callee,
                                             double x, double y, GError **error);
/* "Duplicate 2 nodes" / "Paste 2 nodes": copies nodes of `source` (any graph, may be this
 * document's own) as new layers with the same settings and new weights, with the wires
 * among them, moved by (dx, dy). Returns the new node ids (in order) or NULL. */
GArray       *weft_document_paste           (WeftDocument *self, WeftGraph *source,
                                             const WeftId *nodes, int n_nodes,
                                             double dx, double dy, gboolean duplicate,
                                             GError **error);
/* "Delete 3 nodes": removes nodes with their wires and heads; layers left without any call
 * are removed too. */
gboolean      weft_document_remove_nodes    (WeftDocument *self, const WeftId *nodes,
                                             int n_nodes, GError **error);
/* "Connect" (replaces a wire already at dst_port) / "Disconnect". */
gboolean      weft_document_connect         (WeftDocument *self, WeftId src, int src_port,
                                             WeftId dst, int dst_port, GError **error);
gboolean      weft_document_disconnect      (WeftDocument *self, WeftId dst, int dst_port,
                                             GError **error);
/* "Move 3 nodes": nodes of the current model and heads (WEFT_CANVAS_HEAD_ID ids). */
gboolean      weft_document_move_nodes      (WeftDocument *self, const WeftId *nodes,
                                             int n_nodes, double dx, double dy);
/* "Change units". */
gboolean      weft_document_set_param       (WeftDocument *self, WeftId layer,
                                             const char *param, const WeftValue *value,
                                             GError **error);
/* "Rename dense". */
gboolean      weft_document_rename          (WeftDocument *self, WeftId layer_or_model,
                                             const char *name, GError **error);
gboolean      weft_document_set_trainable   (WeftDocument *self, WeftId layer,
                                             gboolean trainable);
/* "Add head": node:port becomes an output of the current model (loss mse, weight 1). */
gboolean      weft_document_add_head        (WeftDocument *self, WeftId node, int port,
                                             GError **error);
/* "Change loss" etc.: replaces head i of the current model. */
gboolean      weft_document_set_head        (WeftDocument *self, int index,
                                             const WeftHead *head, const char *what,
                                             GError **error);
gboolean      weft_document_remove_head     (WeftDocument *self, int index);
/* One entry named `what` ("Apply suggested loss weights"): the loss weights of heads
 * 0..n_weights-1 of `model` (any model of the graph). Finite and >= 0, else an error. */
gboolean      weft_document_set_head_weights (WeftDocument *self, WeftId model,
                                              const float *weights, int n_weights,
                                              const char *what, GError **error);
/* "Group into model": the nodes become a new model (wires entering the selection become
 * its inputs, wires and heads leaving it its outputs) called once in their place.
 * Returns the new node calling the model. */
WeftId        weft_document_group           (WeftDocument *self, const WeftId *nodes,
                                             int n_nodes, GError **error);
/* "Ungroup": replaces a model node by the model's nodes (sharing their layers). */
gboolean      weft_document_ungroup         (WeftDocument *self, WeftId node,
                                             GError **error);
/* "Tidy up": layered layout of the current model. */
void          weft_document_tidy            (WeftDocument *self);

G_END_DECLS
