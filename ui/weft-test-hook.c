/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "weft-test-hook.h"

#include <stdio.h>

gboolean
weft_test_hook_enabled (void)
{
  static int enabled = -1;

  if (enabled < 0)
    enabled = g_strcmp0 (g_getenv ("WEFT_TEST_HOOK"), "1") == 0;
  return enabled;
}

void
weft_test_hook (const char *format, ...)
{
  g_autofree char *line = NULL;
  va_list args;

  if (!weft_test_hook_enabled ())
    return;
  va_start (args, format);
  line = g_strdup_vprintf (format, args);
  va_end (args);
  printf ("weft-test: %s\n", line);
  fflush (stdout);
}
