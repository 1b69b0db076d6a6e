/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "weft"

#include "config.h"

#include "weft-openblas.h"

#include "weft-blas.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define GUARD_VARIABLE    "WEFT_OPENBLAS_REEXEC"
#define CORETYPE_VARIABLE "OPENBLAS_CORETYPE"

/* OpenBLAS extension (declared here like engine/weft-blas.c does). */
extern char *openblas_get_config (void);

typedef enum
{
  CORE_UNCHECKED,     /* weft_openblas_ensure was not called */
  CORE_LIBRARY,       /* OpenBLAS's own choice, and it is the best one we know */
  CORE_WEAKER,        /* OpenBLAS's own choice, weaker than the CPU allows (no switch) */
  CORE_USER,          /* OPENBLAS_CORETYPE came from the user's environment */
  CORE_AUTO,          /* we set OPENBLAS_CORETYPE and re-executed */
  CORE_EXEC_FAILED,   /* we wanted to, but exec failed */
} CoreOrigin;

static CoreOrigin origin = CORE_UNCHECKED;
static char requested[32];
static int exec_errno;

/* Kernel families OpenBLAS names, by the widest vector unit they use. A name missing here
 * (a newer OpenBLAS, another architecture) is never replaced: it may well be better. */
static int
core_rank (const char *name)
{
  static const struct { const char *name; int rank; } ranks[] = {
    { "SkylakeX", 3 }, { "Cooperlake", 3 }, { "SapphireRapids", 3 },
    { "Haswell", 2 }, { "Zen", 2 }, { "Excavator", 2 },
    { "Sandybridge", 1 }, { "Bulldozer", 1 }, { "Piledriver", 1 }, { "Steamroller", 1 },
    { "Prescott", 0 }, { "Core2", 0 }, { "Penryn", 0 }, { "Dunnington", 0 },
    { "Nehalem", 0 }, { "Atom", 0 }, { "Barcelona", 0 }, { "Opteron", 0 },
    { "Opteron_SSE3", 0 }, { "Athlon", 0 }, { "Bobcat", 0 }, { "Nano", 0 },
    { "Katmai", 0 }, { "Coppermine", 0 }, { "Northwood", 0 }, { "Banias", 0 },
    { "Generic", 0 },
  };

  if (name == NULL)
    return -1;
  for (gsize i = 0; i < G_N_ELEMENTS (ranks); i++)
    if (g_ascii_strcasecmp (ranks[i].name, name) == 0)
      return ranks[i].rank;
  return -1;
}

void
weft_openblas_ensure (char **argv)
{
  const char *best, *current;
  int best_rank, current_rank;

  if (g_getenv (GUARD_VARIABLE) != NULL)
    {
      const char *core = g_getenv (CORETYPE_VARIABLE);

      /* A guard without a core type was not set by us; report OpenBLAS's own choice. */
      origin = core != NULL && core[0] != '\0' ? CORE_AUTO : CORE_UNCHECKED;
      g_strlcpy (requested, core != NULL ? core : "", sizeof requested);
      /* Children inherit OPENBLAS_CORETYPE, which already stops them from re-executing. */
      g_unsetenv (GUARD_VARIABLE);
      return;
    }
  if (g_getenv (CORETYPE_VARIABLE) != NULL)
    {
      origin = CORE_USER;
      g_strlcpy (requested, g_getenv (CORETYPE_VARIABLE), sizeof requested);
      return;
    }

  best = weft_blas_best_core ();
  current = weft_blas_core_name ();
  best_rank = core_rank (best);
  current_rank = core_rank (current);
  if (best == NULL || best_rank < 0 || current_rank < 0 || current_rank >= best_rank)
    {
      origin = best != NULL && current_rank >= 0 && current_rank < best_rank ? CORE_WEAKER
                                                                              : CORE_LIBRARY;
      return;
    }
  g_strlcpy (requested, best, sizeof requested);
  if (argv == NULL || argv[0] == NULL)
    {
      origin = CORE_WEAKER;
      return;
    }

  g_setenv (CORETYPE_VARIABLE, best, TRUE);
  g_setenv (GUARD_VARIABLE, "1", TRUE);
  /* Nothing buffered may be lost or printed twice across the exec. */
  fflush (stdout);
  fflush (stderr);
  execv ("/proc/self/exe", argv);

  exec_errno = errno;
  g_unsetenv (CORETYPE_VARIABLE);
  g_unsetenv (GUARD_VARIABLE);
  origin = CORE_EXEC_FAILED;
}

static const char *
library_version (char *buf, gsize len)
{
  const char *config = openblas_get_config ();
  g_auto (GStrv) words = NULL;

  if (config == NULL)
    return "OpenBLAS";
  words = g_strsplit (config, " ", 3);
  if (words[0] != NULL && words[1] != NULL && g_ascii_isdigit (words[1][0]))
    g_snprintf (buf, len, "%s %s", words[0], words[1]);
  else
    g_strlcpy (buf, words[0] != NULL ? words[0] : "OpenBLAS", len);
  return buf;
}

const char *
weft_openblas_report (void)
{
  static char report[256];
  char version[64];
  const char *core = weft_blas_core_name ();
  const char *best = weft_blas_best_core ();
  g_autofree char *note = NULL;

  switch (origin)
    {
    case CORE_AUTO:
      if (g_ascii_strcasecmp (core, requested) == 0)
        note = g_strdup ("auto-selected for this CPU");
      else
        note = g_strdup_printf ("%s requested, not available in this OpenBLAS", requested);
      break;
    case CORE_USER:
      if (g_ascii_strcasecmp (core, requested) == 0)
        note = g_strdup ("from " CORETYPE_VARIABLE);
      else
        note = g_strdup_printf (CORETYPE_VARIABLE "=%s not honoured", requested);
      break;
    case CORE_EXEC_FAILED:
      note = g_strdup_printf ("could not restart with %s kernels: %s; set "
                              CORETYPE_VARIABLE "=%s", requested, g_strerror (exec_errno),
                              requested);
      break;
    case CORE_WEAKER:
      note = g_strdup_printf ("this CPU supports %s; set " CORETYPE_VARIABLE "=%s",
                              best, best);
      break;
    case CORE_LIBRARY:
      note = g_strdup ("OpenBLAS's choice for this CPU");
      break;
    case CORE_UNCHECKED:
    default:
      if (best != NULL && core_rank (core) >= 0 && core_rank (core) < core_rank (best))
        note = g_strdup_printf ("this CPU supports %s", best);
      break;
    }
  if (note != NULL)
    g_snprintf (report, sizeof report, "%s, %s kernels (%s)",
                library_version (version, sizeof version), core, note);
  else
    g_snprintf (report, sizeof report, "%s, %s kernels",
                library_version (version, sizeof version), core);
  return report;
}
