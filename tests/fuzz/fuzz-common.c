/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "weft-fuzz.h"

#include <stdio.h>
#include <stdlib.h>

/* GLib's own fatal path raises SIGTRAP, which libFuzzer does not catch (no crash file is
 * written); abort() is caught, so criticals and warnings end here. */
static void
fatal_handler (const char *domain, GLogLevelFlags level, const char *message, gpointer data)
{
  if (!(level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING)))
    {
      g_log_default_handler (domain, level, message, data);
      return;
    }
  fprintf (stderr, "%s-%s: %s\n", domain ? domain : "(null)",
           (level & G_LOG_LEVEL_CRITICAL) ? "CRITICAL" : "WARNING", message);
  abort ();
}

static GLogWriterOutput
fatal_writer (GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer data)
{
  if (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING))
    {
      for (gsize i = 0; i < n_fields; i++)
        if (g_strcmp0 (fields[i].key, "MESSAGE") == 0)
          fprintf (stderr, "fatal log message: %s\n", (const char *) fields[i].value);
      abort ();
    }
  return g_log_writer_default (level, fields, n_fields, data);
}

void
weft_fuzz_init (void)
{
  g_log_set_default_handler (fatal_handler, NULL);
  g_log_set_writer_func (fatal_writer, NULL, NULL);
}
