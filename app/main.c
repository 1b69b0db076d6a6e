/* SPDX-License-Identifier: GPL-3.0-or-later */
/* main.c: one binary. Sub-commands run headless; otherwise the editor window opens when a
 * display is present, and without one the built-in example is trained headless. */
#include "config.h"

#include <glib/gi18n.h>
#include <locale.h>
#include <stdio.h>

#include "weft-application.h"
#include "weft-cli.h"
#include "weft-heap.h"
#include "weft-openblas.h"


int
main (int    argc,
      char **argv)
{
  weft_openblas_ensure (argv);

  setlocale (LC_ALL, "");
  /* WEFT_LOCALEDIR: catalogues from elsewhere, e.g. a build tree's po/ in the tests */
  const char *localedir = g_getenv ("WEFT_LOCALEDIR");
  bindtextdomain (GETTEXT_PACKAGE, localedir != NULL && localedir[0] != '\0' ? localedir
                                                                              : LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  if (weft_cli_handles (argc, argv))
    return weft_cli_run (argc, argv);

  if (weft_cli_have_display ())
    {
      weft_heap_keep_for_frames ();   /* live views: no heap trim and refault every frame */
      return weft_application_run (argc, argv);
    }
  return weft_cli_demo (argc, argv);
}
