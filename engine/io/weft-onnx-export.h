/* SPDX-License-Identifier: GPL-3.0-or-later */
/* weft-onnx-export.h: the main model as an ONNX model (opset 13, IR version 7) with its
 * weights as initializers. Inputs and outputs keep Weft's names and its channels-last layout
 * with a symbolic "batch" axis first; convolutions and pooling run in NCHW inside, between
 * Transposes. Nested models are inlined; a shared layer's weights are stored once. Token-id
 * inputs (dtype int32) are int32 tensors. Errors are WEFT_INTEROP_ERROR. */
#pragma once

#include <glib.h>

#include "weft-graph.h"
#include "weft-interop-util.h"

G_BEGIN_DECLS

#define WEFT_ONNX_OPSET 13

/* The serialised ModelProto (newly allocated bytes), or NULL with error set (a layer or
 * option ONNX export does not cover is named). Weights without data are initialised first. */
GBytes   *weft_onnx_export_bytes (WeftGraph *graph, GError **error);
/* Same, written atomically to path. */
gboolean  weft_onnx_export       (WeftGraph *graph, const char *path, GError **error);

G_END_DECLS
