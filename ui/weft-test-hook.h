/* SPDX-License-Identifier: GPL-3.0-or-later */
/* weft-test-hook.h: event lines for end-to-end tests. When WEFT_TEST_HOOK=1 the editor prints
 * one line per interesting event ("first frame", "drop Dense id=4 x=120 y=80") on stdout. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

gboolean weft_test_hook_enabled (void);
/* Prints "weft-test: <message>\n" and flushes, when enabled. */
void     weft_test_hook         (const char *format,
                                 ...) G_GNUC_PRINTF (1, 2);

G_END_DECLS
