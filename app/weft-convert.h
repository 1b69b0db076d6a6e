/* SPDX-License-Identifier: GPL-3.0-or-later */
/* weft-convert.h: `weft convert SRC DST [--to onnx|tfjs|pytorch|keras|weft]`. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* argv[0] is the program name ("weft convert"). SRC is a .weft file, a TensorFlow.js
 * model.json (or its folder) or a Keras to_json() file; DST's format comes from --to or its
 * name (.weft, .onnx; a folder needs --to tfjs or --to pytorch; .py needs --to pytorch or
 * --to keras). Prints what it wrote; returns 0, 1 on a failed conversion (the message names
 * the layer/weight/file), 2 on a usage error. */
int weft_convert_main (int argc, char **argv);

G_END_DECLS
