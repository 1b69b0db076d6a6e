/* SPDX-License-Identifier: GPL-3.0-or-later */
/* main.c: one binary. Sub-commands run headless; otherwise the editor window opens when a
 * display is present, and without one the built-in example is trained headless. */
#include "config.h"

#include <glib/gi18n.h>
#include <locale.h>
#include <stdio.h>

#include "weft-application.h"
#include "weft-cli.h"

/* Provided by app/weft-openblas.c: pins the OpenBLAS core type (may re-exec argv). */
void weft_openblas_ensure (char **argv);

/* The editor lives in other files of app/ that may be missing from a build (a headless
 * build, or while it is being written): a weak reference lets main() fall back to the
 * headless demo instead of failing to link. */
#pragma weak weft_application_run
#pragma weak weft_openblas_ensure

int
main (int    argc,
      char **argv)
{
  if (weft_openblas_ensure != NULL)
    weft_openblas_ensure (argv);

  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  if (weft_cli_handles (argc, argv))
    return weft_cli_run (argc, argv);

  if (weft_cli_have_display ())
    {
      if (weft_application_run != NULL)
        return weft_application_run (argc, argv);
      fprintf (stderr, "weft: the editor window is not part of this build; running the "
               "headless demo instead\n");
    }
  return weft_cli_demo (argc, argv);
}
