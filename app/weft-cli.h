/* SPDX-License-Identifier: GPL-3.0-or-later */
/* weft-cli.h: the headless command line (summary, validate, train, predict, examples) and
 * the headless demo that runs when there is no display. Exit status: 0 ok, 1 invalid graph
 * or data (message on stderr), 2 usage, 130 training interrupted by Ctrl-C. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define WEFT_EXIT_OK        0
#define WEFT_EXIT_INVALID   1
#define WEFT_EXIT_USAGE     2
#define WEFT_EXIT_INTERRUPT 130

/* The built-in example trained by the headless demo, and where the demo writes. */
#define WEFT_DEFAULT_EXAMPLE "three-heads"
#define WEFT_DEMO_DIR        "weft-demo"

/* TRUE when argv[1] is a sub-command or a global option (--help, --version) of the CLI. */
gboolean weft_cli_handles      (int argc, char **argv);
/* Runs the sub-command in argv[1]; returns the exit status. */
int      weft_cli_run          (int argc, char **argv);
/* TRUE when DISPLAY or WAYLAND_DISPLAY is set (non-empty). */
gboolean weft_cli_have_display (void);
/* No display: prints the summary of FILE (or of the default example) and trains it with
 * a progress bar, writing the trained .weft, the loss history CSV and a PNG plot into
 * ./weft-demo/ (or --out DIR). Options: [--epochs N] [--samples N] [--out DIR] [FILE]. */
int      weft_cli_demo         (int argc, char **argv);

G_END_DECLS
