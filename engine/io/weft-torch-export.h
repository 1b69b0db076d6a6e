/* SPDX-License-Identifier: GPL-3.0-or-later */
/* weft-torch-export.h: the graph as PyTorch: DIR/model.py (an nn.Module per model, weights in
 * Keras layouts and names so that they load unchanged, forward passes with Keras semantics),
 * DIR/weights.safetensors, and DIR/train.py, which trains with the graph's per-head losses,
 * loss weights and optimizer on one CPU, and unchanged under torchrun with
 * DistributedDataParallel (NCCL on GPUs, Gloo on CPUs). Errors are WEFT_INTEROP_ERROR. */
#pragma once

#include <glib.h>

#include "weft-graph.h"
#include "weft-interop-util.h"

G_BEGIN_DECLS

/* The model.py text (newly allocated), or NULL with error set (a layer or option PyTorch
 * export does not cover is named). */
char     *weft_torch_model_code (WeftGraph *graph, GError **error);
/* The train.py text (newly allocated). */
char     *weft_torch_train_code (WeftGraph *graph, GError **error);
/* Writes model.py, train.py and weights.safetensors into dir (created when missing). Weights
 * without data are initialised first (the graph's seed). */
gboolean  weft_torch_export     (WeftGraph *graph, const char *dir, GError **error);

/* Same, with the module file named MODULE.py (train.py imports it). */
gboolean  weft_torch_export_module (WeftGraph *graph, const char *dir, const char *module,
                                    GError **error);

G_END_DECLS
