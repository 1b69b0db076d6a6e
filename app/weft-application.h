/* SPDX-License-Identifier: GPL-3.0-or-later */
/* weft-application.h: the GtkApplication of the Weft editor window. */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define WEFT_TYPE_APPLICATION (weft_application_get_type ())
G_DECLARE_FINAL_TYPE (WeftApplication, weft_application, WEFT, APPLICATION, GtkApplication)

WeftApplication *weft_application_new (void);

/* Runs the editor: opens the .weft files named in argv (or the built-in example
 * "three-heads" when there are none) and returns the exit status. Called by main()
 * when a display is available and no sub-command was given. */
int              weft_application_run (int    argc,
                                       char **argv);

G_END_DECLS
