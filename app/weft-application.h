/* SPDX-License-Identifier: GPL-3.0-or-later */
/* weft-application.h: the AdwApplication of the Weft editor window: settings, recent files,
 * colour scheme, about window. */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define WEFT_TYPE_APPLICATION (weft_application_get_type ())
G_DECLARE_FINAL_TYPE (WeftApplication, weft_application, WEFT, APPLICATION, AdwApplication)

WeftApplication *weft_application_new (void);

/* Runs the editor: opens the .weft files named in argv (or shows the start view when there
 * are none) and returns the exit status. Called by main() when a display is available and
 * no sub-command was given. */
int              weft_application_run (int    argc,
                                       char **argv);

/* The app's settings (org.weft.Weft). Borrowed. */
GSettings       *weft_application_get_settings (WeftApplication *self);
/* Puts file first in the recent files (at most WEFT_RECENT_MAX are kept). */
void             weft_application_add_recent   (WeftApplication *self,
                                                GFile           *file);

#define WEFT_RECENT_MAX 10

/* Finds Weft's compiled schema: the default schema directories, then beside the installed
 * binary (../share/weft/schemas), the configured prefix, then the build tree. Returns a new
 * reference or NULL. */
GSettingsSchema *weft_settings_schema_lookup (void);

G_END_DECLS
