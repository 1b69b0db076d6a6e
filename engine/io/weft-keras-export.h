/* SPDX-License-Identifier: GPL-3.0-or-later */
/* weft-keras-export.h: Keras out of Weft: the TensorFlow.js layers-model folder (model.json
 * with the Keras 2 topology and a weights manifest, plus one binary shard) and Keras
 * functional-API Python source. Errors are WEFT_INTEROP_ERROR (weft-interop-util.h). */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

#include "weft-graph.h"
#include "weft-interop-util.h"

G_BEGIN_DECLS

/* The Keras topology of the main model ({"class_name": "Model", "config": {...}} as tfjs
 * writes it; nested models become layers of class "Model"). for_tfjs refuses layers and
 * options TensorFlow.js 4.22 cannot load. New node, or NULL with error set. */
JsonNode *weft_keras_topology      (WeftGraph *graph, gboolean for_tfjs, GError **error);

/* Writes DIR/model.json and DIR/group1-shard1of1.bin (DIR is created when missing), loadable
 * with tf.loadLayersModel in TensorFlow.js 4.22. Weights without data are initialised first
 * (the graph's seed). */
gboolean  weft_tfjs_export         (WeftGraph *graph, const char *dir, GError **error);

/* The graph as Keras functional-API Python (nested models first, the main model last, then
 * compile() with per-output losses, loss_weights and metrics). Shared layers are one
 * instance called several times. When highlight_node is a node (or a layer/model) of the
 * graph, the highlight_first_line and
 * highlight_last_line out-values receive its 1-based line range, else 0.
 * The out-pointers may be NULL. Returns newly allocated text; NULL only when the graph has
 * no main model. */
char     *weft_keras_code          (WeftGraph *graph, WeftId highlight_node,
                                    int *highlight_first_line, int *highlight_last_line);

/* Writes weft_keras_code to path (atomically). */
gboolean  weft_keras_code_export   (WeftGraph *graph, const char *path, GError **error);

G_END_DECLS
