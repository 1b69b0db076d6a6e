/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "weft"

#include "config.h"

#include "weft-progress.h"

#include <glib/gi18n.h>
#include <math.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define DEFAULT_WIDTH        80
#define REDRAW_INTERVAL_US   (G_USEC_PER_SEC / 10)
#define RATE_MIN_US          (G_USEC_PER_SEC / 5)   /* shorter spans give noise, not rates */
#define BAR_MIN              10
#define BAR_SMALLEST         5     /* below this, no bar at all */
#define BAR_MAX              30

struct _WeftProgress
{
  FILE     *out;
  int       epochs;
  int       batches;
  int       first_epoch;
  int       n_heads;
  char    **head_names;
  char    **metric_names;     /* NULL or n_heads entries (NULL entries: no metric) */
  gboolean  interactive;
  int       fixed_width;      /* > 0: overrides the terminal's */
  gboolean  line_open;        /* a bar is on screen without its newline */
  int       bar_width;        /* sticky, so the bar does not jump as numbers change */
  int       bar_for_width;    /* terminal width bar_width was chosen for */

  gint64    start_us;
  gint64    epoch_start_us;
  gint64    last_draw_us;
  gint64    steps_done;       /* in this fit call */
  WeftStepReport last;        /* last step seen (for redraws and epoch lines) */
  gboolean  have_last;
};

static gboolean
out_is_terminal (FILE *out)
{
  const char *term = g_getenv ("TERM");
  int fd = fileno (out);

  return fd >= 0 && isatty (fd) && !(term != NULL && strcmp (term, "dumb") == 0);
}

static int
terminal_width (const WeftProgress *p)
{
  struct winsize ws;
  int fd;

  if (p->fixed_width > 0)
    return p->fixed_width;
  fd = fileno (p->out);
  if (fd >= 0 && ioctl (fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
    return ws.ws_col;
  return DEFAULT_WIDTH;
}

WeftProgress *
weft_progress_new (FILE *out, int epochs, int batches_per_epoch, int n_heads,
                   const char *const *head_names)
{
  WeftProgress *p;

  g_return_val_if_fail (out != NULL, NULL);
  g_return_val_if_fail (n_heads >= 0 && n_heads <= WEFT_MAX_HEADS, NULL);
  g_return_val_if_fail (n_heads == 0 || head_names != NULL, NULL);

  p = g_new0 (WeftProgress, 1);
  p->out = out;
  p->epochs = MAX (epochs, 0);
  p->batches = MAX (batches_per_epoch, 0);
  p->n_heads = n_heads;
  p->head_names = g_new0 (char *, n_heads + 1);
  for (int j = 0; j < n_heads; j++)
    p->head_names[j] = g_strdup (head_names[j] != NULL ? head_names[j] : "");
  p->interactive = out_is_terminal (out);
  p->start_us = p->epoch_start_us = g_get_monotonic_time ();
  return p;
}

static void
end_line (WeftProgress *p)
{
  if (p->line_open)
    {
      fputc ('\n', p->out);
      fflush (p->out);
      p->line_open = FALSE;
    }
}

void
weft_progress_free (WeftProgress *progress)
{
  if (progress == NULL)
    return;
  end_line (progress);
  g_strfreev (progress->head_names);
  if (progress->metric_names != NULL)
    {
      for (int j = 0; j < progress->n_heads; j++)
        g_free (progress->metric_names[j]);
      g_free (progress->metric_names);
    }
  g_free (progress);
}

void
weft_progress_set_metric_names (WeftProgress *progress, const char *const *metric_names)
{
  g_return_if_fail (progress != NULL);
  if (progress->metric_names != NULL)
    {
      for (int j = 0; j < progress->n_heads; j++)
        g_free (progress->metric_names[j]);
      g_clear_pointer (&progress->metric_names, g_free);
    }
  if (metric_names == NULL)
    return;
  progress->metric_names = g_new0 (char *, progress->n_heads + 1);
  for (int j = 0; j < progress->n_heads; j++)
    progress->metric_names[j] = metric_names[j] != NULL && metric_names[j][0] != '\0'
                                ? g_strdup (metric_names[j]) : NULL;
}

void
weft_progress_set_first_epoch (WeftProgress *progress, int first_epoch)
{
  g_return_if_fail (progress != NULL);
  progress->first_epoch = MAX (first_epoch, 0);
}

void
weft_progress_set_interactive (WeftProgress *progress, gboolean interactive, int width)
{
  g_return_if_fail (progress != NULL);
  progress->interactive = interactive;
  progress->fixed_width = width;
}

/* Numbers are printed in C-locale form, like Keras: the lines are read by scripts too. */
static void
append_value (GString *s, double v)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  if (isnan (v))
    g_string_append (s, "nan");
  else if (isinf (v))
    g_string_append (s, v > 0 ? "inf" : "-inf");
  else
    g_string_append (s, g_ascii_formatd (buf, sizeof buf, "%.4g", v));
}

static void
append_duration (GString *s, double seconds)
{
  gint64 t;

  if (!isfinite (seconds) || seconds < 0)
    {
      g_string_append (s, "--:--");
      return;
    }
  t = (gint64) llround (seconds);
  if (t >= 3600)
    g_string_append_printf (s, "%" G_GINT64_FORMAT ":%02d:%02d", t / 3600, (int) (t / 60 % 60),
                            (int) (t % 60));
  else
    g_string_append_printf (s, "%02d:%02d", (int) (t / 60), (int) (t % 60));
}

static int
display_epoch (const WeftProgress *p, int epoch)
{
  return epoch - p->first_epoch + 1;
}

static int
batches_of (const WeftProgress *p)
{
  if (p->batches > 0)
    return p->batches;
  return p->have_last ? MAX (p->last.n_batches, 1) : 1;
}

static double
samples_per_second (const WeftProgress *p, gint64 now)
{
  double secs = (double) (now - p->epoch_start_us) / G_USEC_PER_SEC;

  if (!p->have_last || now - p->epoch_start_us < RATE_MIN_US)
    return NAN;
  return (double) p->last.samples_seen / secs;
}

/* The bar's text after "[####....] ": detail 2 = everything, 1 = no per-head losses,
 * 0 = epoch, batch, loss and ETA only. */
static void
format_status (const WeftProgress *p, gint64 now, int detail, GString *s)
{
  const WeftStepReport *r = &p->last;
  int batches = batches_of (p);
  gint64 total = (gint64) p->epochs * batches;
  double elapsed = (double) (now - p->start_us) / G_USEC_PER_SEC;
  double rate = samples_per_second (p, now);

  /* TRANSLATORS: the progress bar's text; the loss value follows, keep the two spaces */
  g_string_append_printf (s, _("epoch %d/%d  batch %d/%d  loss "),
                          display_epoch (p, r->epoch), p->epochs, r->batch + 1, batches);
  append_value (s, r->total);
  if (detail >= 2 && p->n_heads > 1)
    {
      g_string_append (s, " (");
      for (int j = 0; j < p->n_heads && j < r->n_heads; j++)
        {
          if (j > 0)
            g_string_append_c (s, ' ');
          g_string_append_printf (s, "%s ", p->head_names[j]);
          append_value (s, r->loss[j]);
        }
      g_string_append_c (s, ')');
    }
  if (detail >= 1 && isfinite (rate))
    {
      g_string_append (s, "  ");
      g_string_append_printf (s, _("%.0f samples/s"), rate);
    }
  g_string_append (s, "  ");
  /* TRANSLATORS: estimated time left in training (minutes:seconds follow) */
  g_string_append (s, _("ETA"));
  g_string_append_c (s, ' ');
  if (total > 0 && p->steps_done > 0 && p->steps_done <= total)
    append_duration (s, elapsed / p->steps_done * (double) (total - p->steps_done));
  else
    append_duration (s, NAN);
}

static void
draw_bar (WeftProgress *p, gint64 now)
{
  g_autoptr (GString) line = g_string_new (NULL);
  g_autoptr (GString) status = g_string_new (NULL);
  int width = terminal_width (p);
  int batches = batches_of (p);
  double fraction;
  int bar = 0;

  /* Keep the line one column short of the terminal: a full line wraps on some terminals,
   * and then "\r" no longer returns to the bar. */
  for (int detail = 2; detail >= 0; detail--)
    {
      g_string_truncate (status, 0);
      format_status (p, now, detail, status);
      bar = width - 1 - 3 - (int) g_utf8_strlen (status->str, -1);
      if (bar >= BAR_MIN || detail == 0)
        break;
    }
  bar = bar < BAR_SMALLEST ? 0 : MIN (bar, BAR_MAX);
  if (p->bar_for_width == width && p->bar_width < bar)
    bar = p->bar_width;
  p->bar_width = bar;
  p->bar_for_width = width;
  fraction = (double) (p->last.batch + 1) / batches;
  fraction = CLAMP (fraction, 0.0, 1.0);

  g_string_append_c (line, '\r');
  if (bar > 0)
    {
      int filled = (int) floor (fraction * bar + 1e-9);

      g_string_append_c (line, '[');
      for (int i = 0; i < bar; i++)
        g_string_append_c (line, i < filled ? '#' : '.');
      g_string_append (line, "] ");
    }
  g_string_append_len (line, status->str, status->len);
  if ((int) g_utf8_strlen (line->str, -1) > MAX (width, 1))
    g_string_truncate (line, g_utf8_offset_to_pointer (line->str, MAX (width, 1)) - line->str);
  g_string_append (line, "\033[K");
  fputs (line->str, p->out);
  fflush (p->out);
  p->line_open = TRUE;
  p->last_draw_us = now;
}

void
weft_progress_step (WeftProgress *progress, const WeftStepReport *report)
{
  gint64 now;
  gboolean last_of_epoch;

  g_return_if_fail (progress != NULL && report != NULL);
  now = g_get_monotonic_time ();
  progress->last = *report;
  progress->have_last = TRUE;
  progress->steps_done++;
  if (!progress->interactive)
    return;
  last_of_epoch = report->n_batches > 0 && report->batch + 1 >= report->n_batches;
  if (progress->steps_done == 1 || last_of_epoch
      || now - progress->last_draw_us >= REDRAW_INTERVAL_US)
    draw_bar (progress, now);
}

static void
append_heads (const WeftProgress *p, GString *s, const char *prefix, const double *loss,
              const double *metric, int n)
{
  for (int j = 0; j < p->n_heads && j < n; j++)
    {
      g_string_append_printf (s, "  %s%s_loss ", prefix, p->head_names[j]);
      append_value (s, loss[j]);
    }
  for (int j = 0; j < p->n_heads && j < n; j++)
    {
      const char *name = p->metric_names != NULL ? p->metric_names[j] : NULL;

      if (name == NULL && (p->metric_names != NULL || isnan (metric[j])))
        continue;
      g_string_append_printf (s, "  %s%s_%s ", prefix, p->head_names[j],
                              name != NULL ? name : "metric");
      append_value (s, metric[j]);
    }
}

void
weft_progress_epoch (WeftProgress *progress, const WeftEpochReport *r)
{
  g_autoptr (GString) s = g_string_new (NULL);
  gint64 now;
  double rate;

  g_return_if_fail (progress != NULL && r != NULL);
  now = g_get_monotonic_time ();
  rate = samples_per_second (progress, now);

  if (progress->interactive && progress->line_open)
    {
      /* The epoch's line replaces its bar: one line per finished epoch, as when piped. */
      fputs ("\r\033[K", progress->out);
      progress->line_open = FALSE;
    }
  /* TRANSLATORS: starts the line of a finished epoch; Keras' history keys (loss,
   * val_loss, HEAD_loss) follow untranslated */
  g_string_append_printf (s, _("epoch %d/%d"), display_epoch (progress, r->epoch),
                          progress->epochs);
  g_string_append (s, "  loss ");
  append_value (s, r->total);
  append_heads (progress, s, "", r->loss, r->metric, r->n_heads);
  if (r->has_validation)
    {
      g_string_append (s, "  val_loss ");
      append_value (s, r->val_total);
      append_heads (progress, s, "val_", r->val_loss, r->val_metric, r->n_heads);
    }
  g_string_append_printf (s, "  %.1fs", r->seconds);
  if (isfinite (rate))
    {
      g_string_append (s, "  ");
      g_string_append_printf (s, _("%.0f samples/s"), rate);
    }
  g_string_append_c (s, '\n');
  fputs (s->str, progress->out);
  fflush (progress->out);

  progress->epoch_start_us = now;
  progress->have_last = FALSE;
}

void
weft_progress_message (WeftProgress *progress, const char *format, ...)
{
  g_autofree char *text = NULL;
  gboolean redraw;
  va_list ap;

  g_return_if_fail (progress != NULL && format != NULL);
  va_start (ap, format);
  text = g_strdup_vprintf (format, ap);
  va_end (ap);

  redraw = progress->line_open;
  if (redraw)
    fputs ("\r\033[K", progress->out);
  progress->line_open = FALSE;
  fputs (text, progress->out);
  if (!g_str_has_suffix (text, "\n"))
    fputc ('\n', progress->out);
  fflush (progress->out);
  if (redraw && progress->have_last)
    draw_bar (progress, g_get_monotonic_time ());
}
