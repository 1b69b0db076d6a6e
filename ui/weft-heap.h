/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

gboolean weft_heap_keep_for_frames (void);

G_END_DECLS
