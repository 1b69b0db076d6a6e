/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "weft-io"

#include "config.h"

#include "weft-csv-history.h"
#include "weft-safetensors.h"   /* WEFT_IO_ERROR */

#include <errno.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

/* A history CSV of a very long run is tens of MiB; refuse anything absurd before reading. */
#define CSV_MAX_BYTES ((goffset) 1 << 30)
#define CSV_MAX_FIELDS 4096

/* ---------------------------------------------------------------------------------------- */
/* Writing */

static void
append_field (GString *s, const char *text, gboolean first)
{
  if (!first)
    g_string_append_c (s, ',');
  if (strpbrk (text, ",\"\r\n") == NULL)
    {
      g_string_append (s, text);
      return;
    }
  /* RFC 4180 quoting: only head names can need it. */
  g_string_append_c (s, '"');
  for (const char *p = text; *p != '\0'; p++)
    {
      if (*p == '"')
        g_string_append_c (s, '"');
      g_string_append_c (s, *p);
    }
  g_string_append_c (s, '"');
}

static void
append_name2 (GString *s, const char *prefix, const char *a, const char *b)
{
  g_autofree char *name = g_strconcat (prefix, a, "_", b, NULL);
  append_field (s, name, FALSE);
}

static void
append_number (GString *s, double v)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  g_string_append_c (s, ',');
  if (isnan (v))
    g_string_append (s, "nan");
  else if (isinf (v))
    g_string_append (s, v > 0 ? "inf" : "-inf");
  else
    g_string_append (s, g_ascii_formatd (buf, sizeof buf, "%.9g", v));
}

static void
append_missing (GString *s)
{
  g_string_append_c (s, ',');
}

static void
selected_range (const WeftHistory *h, WeftCsvHistoryKind kind, int run,
                size_t *first, size_t *count)
{
  if (run < 0)
    {
      *first = 0;
      *count = kind == WEFT_CSV_HISTORY_EPOCHS ? weft_history_n_epochs (h)
                                               : weft_history_n_steps (h);
    }
  else if (kind == WEFT_CSV_HISTORY_EPOCHS)
    weft_history_run_epochs (h, run, first, count);
  else
    weft_history_run_steps (h, run, first, count);
}

static int
row_run (const WeftHistory *h, WeftCsvHistoryKind kind, size_t i)
{
  if (kind == WEFT_CSV_HISTORY_EPOCHS)
    {
      WeftHistoryEpoch e;
      weft_history_get_epoch (h, i, &e);
      return e.run;
    }
  else
    {
      WeftHistoryStep st;
      weft_history_get_step (h, i, &st);
      return st.run;
    }
}

char *
weft_csv_history_format (const WeftHistory *history, WeftCsvHistoryKind kind, int run)
{
  GString *s;
  size_t first, count;
  int n;
  gboolean with_run, with_val = FALSE;

  g_return_val_if_fail (history != NULL, NULL);
  g_return_val_if_fail (kind == WEFT_CSV_HISTORY_EPOCHS || kind == WEFT_CSV_HISTORY_STEPS,
                        NULL);

  n = weft_history_n_heads (history);
  selected_range (history, kind, run, &first, &count);
  /* Runs are contiguous and ascending, so first and last row tell whether several appear. */
  with_run = count > 0 && row_run (history, kind, first) != row_run (history, kind,
                                                                      first + count - 1);
  if (kind == WEFT_CSV_HISTORY_EPOCHS)
    for (size_t i = first; i < first + count && !with_val; i++)
      {
        WeftHistoryEpoch e;
        weft_history_get_epoch (history, i, &e);
        with_val = e.has_validation;
      }

  s = g_string_new (NULL);
  if (kind == WEFT_CSV_HISTORY_EPOCHS)
    append_field (s, "epoch", TRUE);
  else
    {
      append_field (s, "step", TRUE);
      append_field (s, "epoch", FALSE);
      append_field (s, "batch", FALSE);
      append_field (s, "samples", FALSE);
    }
  append_field (s, "loss", FALSE);
  for (int j = 0; j < n; j++)
    append_name2 (s, "", weft_history_head_name (history, j), "loss");
  for (int j = 0; j < n; j++)
    if (weft_history_metric_name (history, j) != NULL)
      append_name2 (s, "", weft_history_head_name (history, j),
                    weft_history_metric_name (history, j));
  if (with_val)
    {
      append_field (s, "val_loss", FALSE);
      for (int j = 0; j < n; j++)
        append_name2 (s, "val_", weft_history_head_name (history, j), "loss");
      for (int j = 0; j < n; j++)
        if (weft_history_metric_name (history, j) != NULL)
          append_name2 (s, "val_", weft_history_head_name (history, j),
                        weft_history_metric_name (history, j));
    }
  if (kind == WEFT_CSV_HISTORY_EPOCHS)
    append_field (s, "seconds", FALSE);
  if (with_run)
    append_field (s, "run", FALSE);
  g_string_append_c (s, '\n');

  for (size_t i = first; i < first + count; i++)
    {
      if (kind == WEFT_CSV_HISTORY_EPOCHS)
        {
          WeftHistoryEpoch e;

          weft_history_get_epoch (history, i, &e);
          g_string_append_printf (s, "%d", e.epoch);
          append_number (s, e.total);
          for (int j = 0; j < n; j++)
            append_number (s, e.loss[j]);
          for (int j = 0; j < n; j++)
            if (weft_history_metric_name (history, j) != NULL)
              append_number (s, e.metric[j]);
          if (with_val)
            {
              if (e.has_validation)
                append_number (s, e.val_total);
              else
                append_missing (s);
              for (int j = 0; j < n; j++)
                if (e.has_validation)
                  append_number (s, e.val_loss[j]);
                else
                  append_missing (s);
              for (int j = 0; j < n; j++)
                if (weft_history_metric_name (history, j) != NULL)
                  {
                    if (e.has_validation)
                      append_number (s, e.val_metric[j]);
                    else
                      append_missing (s);
                  }
            }
          append_number (s, e.seconds);
          if (with_run)
            g_string_append_printf (s, ",%d", e.run);
        }
      else
        {
          WeftHistoryStep st;

          weft_history_get_step (history, i, &st);
          g_string_append_printf (s, "%" G_GINT64_FORMAT ",%d,%d,%" G_GINT64_FORMAT,
                                  (gint64) st.step, st.epoch, st.batch,
                                  (gint64) st.samples_seen);
          append_number (s, st.total);
          for (int j = 0; j < n; j++)
            append_number (s, st.loss[j]);
          for (int j = 0; j < n; j++)
            if (weft_history_metric_name (history, j) != NULL)
              append_number (s, st.metric[j]);
          if (with_run)
            g_string_append_printf (s, ",%d", st.run);
        }
      g_string_append_c (s, '\n');
    }
  return g_string_free (s, FALSE);
}

gboolean
weft_csv_history_save (const WeftHistory *history, const char *path, WeftCsvHistoryKind kind,
                       int run, GError **error)
{
  g_autofree char *text = NULL;
  g_autoptr (GError) local = NULL;

  g_return_val_if_fail (history != NULL, FALSE);
  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  text = weft_csv_history_format (history, kind, run);
  if (text == NULL)
    {
      g_set_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_IO, "%s: bad history kind", path);
      return FALSE;
    }
  if (!g_file_set_contents_full (path, text, -1,
                                 G_FILE_SET_CONTENTS_CONSISTENT | G_FILE_SET_CONTENTS_DURABLE,
                                 0666, &local))
    {
      g_set_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_IO, "Could not save %s: %s", path,
                   local->message);
      return FALSE;
    }
  return TRUE;
}

/* ---------------------------------------------------------------------------------------- */
/* Reading */

/* One parsed CSV record: fields point into `buf`. */
typedef struct
{
  GPtrArray *fields;   /* char *, owned */
  int        line;     /* 1-based line where the record starts */
} Record;

typedef struct
{
  const char *p;
  const char *end;
  int         line;
  const char *what;    /* "epochs CSV" / "steps CSV" for messages */
} Reader;

static gboolean
format_error (GError **error, const Reader *r, int line, const char *fmt, ...) G_GNUC_PRINTF (4, 5);

static gboolean
format_error (GError **error, const Reader *r, int line, const char *fmt, ...)
{
  g_autofree char *msg = NULL;
  va_list ap;

  va_start (ap, fmt);
  msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  g_set_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_FORMAT, "%s, line %d: %s", r->what, line,
               msg);
  return FALSE;
}

/* Reads one RFC 4180 record. Returns FALSE at the end of input (fields == NULL) or on error
 * (error set). Blank lines are skipped. */
static gboolean
read_record (Reader *r, Record *rec, GError **error)
{
  GString *field;

  rec->fields = NULL;
  while (r->p < r->end && (*r->p == '\n' || *r->p == '\r'))
    {
      if (*r->p == '\n')
        r->line++;
      r->p++;
    }
  if (r->p >= r->end)
    return FALSE;

  rec->line = r->line;
  rec->fields = g_ptr_array_new_with_free_func (g_free);
  field = g_string_new (NULL);
  for (;;)
    {
      gboolean quoted = FALSE;

      g_string_truncate (field, 0);
      if (r->p < r->end && *r->p == '"')
        {
          quoted = TRUE;
          r->p++;
          for (;;)
            {
              if (r->p >= r->end)
                {
                  g_string_free (field, TRUE);
                  g_clear_pointer (&rec->fields, g_ptr_array_unref);
                  return format_error (error, r, rec->line, "unterminated quoted field");
                }
              if (*r->p == '"')
                {
                  if (r->p + 1 < r->end && r->p[1] == '"')
                    {
                      g_string_append_c (field, '"');
                      r->p += 2;
                      continue;
                    }
                  r->p++;
                  break;
                }
              if (*r->p == '\n')
                r->line++;
              g_string_append_c (field, *r->p++);
            }
        }
      while (r->p < r->end && *r->p != ',' && *r->p != '\n' && *r->p != '\r')
        {
          if (quoted || *r->p == '"')
            {
              g_string_free (field, TRUE);
              g_clear_pointer (&rec->fields, g_ptr_array_unref);
              return format_error (error, r, r->line, "stray quote or text after a quoted field");
            }
          g_string_append_c (field, *r->p++);
        }
      if (rec->fields->len >= CSV_MAX_FIELDS)
        {
          g_string_free (field, TRUE);
          g_clear_pointer (&rec->fields, g_ptr_array_unref);
          return format_error (error, r, rec->line, "more than %d fields", CSV_MAX_FIELDS);
        }
      g_ptr_array_add (rec->fields, g_strdup (field->str));
      if (r->p < r->end && *r->p == ',')
        {
          r->p++;
          continue;
        }
      /* end of record */
      if (r->p < r->end && *r->p == '\r')
        r->p++;
      if (r->p < r->end && *r->p == '\n')
        {
          r->p++;
          r->line++;
        }
      break;
    }
  g_string_free (field, TRUE);
  return TRUE;
}

#define COL_NONE (-1)

/* Where each value lives in a record. */
typedef struct
{
  WeftCsvHistoryKind kind;
  int    n_fields;
  int    epoch, step, batch, samples, loss, val_loss, seconds, run;
  int    n_heads;
  char  *head_names[WEFT_MAX_HEADS];
  char  *metric_names[WEFT_MAX_HEADS];
  int    head_loss[WEFT_MAX_HEADS];
  int    head_metric[WEFT_MAX_HEADS];
  int    head_val_loss[WEFT_MAX_HEADS];
  int    head_val_metric[WEFT_MAX_HEADS];
  gboolean keras_single;  /* no <head>_loss columns: "loss" is the only head's loss */
} Layout;

static void
layout_clear (Layout *l)
{
  for (int j = 0; j < WEFT_MAX_HEADS; j++)
    {
      g_clear_pointer (&l->head_names[j], g_free);
      g_clear_pointer (&l->metric_names[j], g_free);
    }
}

static int
find_head (const Layout *l, const char *name, gsize len)
{
  for (int j = 0; j < l->n_heads; j++)
    if (strlen (l->head_names[j]) == len && strncmp (l->head_names[j], name, len) == 0)
      return j;
  return -1;
}

/* The head whose "<head>_" is the longest prefix of name, with a non-empty rest. */
static int
find_head_prefix (const Layout *l, const char *name, const char **rest)
{
  int best = -1;
  gsize best_len = 0;

  for (int j = 0; j < l->n_heads; j++)
    {
      gsize len = strlen (l->head_names[j]);

      if (len >= best_len && strncmp (name, l->head_names[j], len) == 0 && name[len] == '_'
          && name[len + 1] != '\0')
        {
          best = j;
          best_len = len;
        }
    }
  if (best >= 0)
    *rest = name + best_len + 1;
  return best;
}

static gboolean
set_fixed (int *slot, int col, const Reader *r, int line, const char *name, GError **error)
{
  if (*slot != COL_NONE)
    return format_error (error, r, line, "column \"%s\" appears twice", name);
  *slot = col;
  return TRUE;
}

static gboolean
parse_header (const Reader *r, const Record *rec, WeftCsvHistoryKind kind, Layout *l,
              GError **error)
{
  const char *const *f = (const char *const *) rec->fields->pdata;
  int nf = (int) rec->fields->len;
  g_autofree gboolean *used = g_new0 (gboolean, nf);

  memset (l, 0, sizeof *l);
  l->kind = kind;
  l->n_fields = nf;
  l->epoch = l->step = l->batch = l->samples = l->loss = l->val_loss = l->seconds = l->run =
    COL_NONE;
  for (int j = 0; j < WEFT_MAX_HEADS; j++)
    l->head_loss[j] = l->head_metric[j] = l->head_val_loss[j] = l->head_val_metric[j] =
      COL_NONE;

  /* Fixed columns. */
  for (int c = 0; c < nf; c++)
    {
      int *slot = NULL;

      if (strcmp (f[c], "epoch") == 0)
        slot = &l->epoch;
      else if (strcmp (f[c], "step") == 0)
        slot = &l->step;
      else if (strcmp (f[c], "batch") == 0)
        slot = &l->batch;
      else if (strcmp (f[c], "samples") == 0)
        slot = &l->samples;
      else if (strcmp (f[c], "loss") == 0)
        slot = &l->loss;
      else if (strcmp (f[c], "val_loss") == 0)
        slot = &l->val_loss;
      else if (strcmp (f[c], "seconds") == 0)
        slot = &l->seconds;
      else if (strcmp (f[c], "run") == 0)
        slot = &l->run;
      if (slot != NULL)
        {
          if (!set_fixed (slot, c, r, rec->line, f[c], error))
            return FALSE;
          used[c] = TRUE;
        }
    }
  if (kind == WEFT_CSV_HISTORY_EPOCHS && l->epoch == COL_NONE)
    return format_error (error, r, rec->line, "no \"epoch\" column");
  if (kind == WEFT_CSV_HISTORY_STEPS && l->step == COL_NONE)
    return format_error (error, r, rec->line, "no \"step\" column");
  if (l->loss == COL_NONE)
    return format_error (error, r, rec->line, "no \"loss\" column");

  /* Heads: training <head>_loss columns, in order. "val_x_loss" is a head only when there
   * is no head "x" (decided in a second pass). */
  for (int pass = 0; pass < 2; pass++)
    for (int c = 0; c < nf; c++)
      {
        gsize len = strlen (f[c]);
        gboolean is_val = g_str_has_prefix (f[c], "val_");

        if (used[c] || len <= 5 || !g_str_has_suffix (f[c], "_loss"))
          continue;
        if (is_val != (pass == 1))
          continue;
        if (pass == 1 && find_head (l, f[c] + 4, len - 4 - 5) >= 0)
          continue;
        if (find_head (l, f[c], len - 5) >= 0)
          return format_error (error, r, rec->line, "column \"%s\" appears twice", f[c]);
        if (l->n_heads == WEFT_MAX_HEADS)
          return format_error (error, r, rec->line, "more than %d heads", WEFT_MAX_HEADS);
        l->head_names[l->n_heads] = g_strndup (f[c], len - 5);
        l->head_loss[l->n_heads] = c;
        l->n_heads++;
        used[c] = TRUE;
      }

  if (l->n_heads == 0)
    {
      l->keras_single = TRUE;
      l->n_heads = 1;
      l->head_names[0] = g_strdup ("output");
      l->head_loss[0] = l->loss;
      for (int c = 0; c < nf; c++)
        if (!used[c] && !g_str_has_prefix (f[c], "val_") && f[c][0] != '\0')
          {
            l->metric_names[0] = g_strdup (f[c]);
            l->head_metric[0] = c;
            used[c] = TRUE;
            break;
          }
      if (l->metric_names[0] != NULL)
        for (int c = 0; c < nf; c++)
          if (!used[c] && g_str_has_prefix (f[c], "val_")
              && strcmp (f[c] + 4, l->metric_names[0]) == 0)
            {
              l->head_val_metric[0] = c;
              used[c] = TRUE;
            }
      l->head_val_loss[0] = l->val_loss;
      return TRUE;
    }

  /* Validation losses, then metrics: <head>_<metric> and val_<head>_<metric>. */
  for (int c = 0; c < nf; c++)
    {
      gsize len = strlen (f[c]);
      int j;

      if (used[c] || !g_str_has_prefix (f[c], "val_") || !g_str_has_suffix (f[c], "_loss")
          || len <= 9)
        continue;
      j = find_head (l, f[c] + 4, len - 9);
      if (j < 0)
        continue;
      if (l->head_val_loss[j] != COL_NONE)
        return format_error (error, r, rec->line, "column \"%s\" appears twice", f[c]);
      l->head_val_loss[j] = c;
      used[c] = TRUE;
    }
  for (int c = 0; c < nf; c++)
    {
      const char *metric = NULL;
      int j;

      if (used[c])
        continue;
      j = find_head_prefix (l, f[c], &metric);
      if (j < 0 || l->head_metric[j] != COL_NONE)
        continue;   /* unknown column or a second metric of the head: ignored */
      l->head_metric[j] = c;
      l->metric_names[j] = g_strdup (metric);
      used[c] = TRUE;
    }
  for (int c = 0; c < nf; c++)
    {
      const char *metric = NULL;
      int j;

      if (used[c] || !g_str_has_prefix (f[c], "val_"))
        continue;
      j = find_head_prefix (l, f[c] + 4, &metric);
      if (j < 0 || l->metric_names[j] == NULL || strcmp (metric, l->metric_names[j]) != 0)
        continue;
      l->head_val_metric[j] = c;
      used[c] = TRUE;
    }
  return TRUE;
}

/* Parses a number cell. Empty or "NA" is missing (*present = FALSE, value NaN). */
static gboolean
parse_double (const Reader *r, const Record *rec, int col, double *value, gboolean *present,
              GError **error)
{
  const char *s;
  char *end = NULL;

  *value = NAN;
  if (present != NULL)
    *present = FALSE;
  if (col == COL_NONE)
    return TRUE;
  s = g_ptr_array_index (rec->fields, col);
  while (*s == ' ')
    s++;
  if (*s == '\0' || strcmp (s, "NA") == 0)
    return TRUE;
  errno = 0;
  *value = g_ascii_strtod (s, &end);
  while (end != NULL && *end == ' ')
    end++;
  if (end == s || end == NULL || *end != '\0')
    return format_error (error, r, rec->line, "\"%s\" is not a number", s);
  if (present != NULL)
    *present = TRUE;
  return TRUE;
}

static gboolean
parse_int (const Reader *r, const Record *rec, int col, gint64 min, gint64 max, gint64 dflt,
           gint64 *value, GError **error)
{
  const char *s;
  g_autoptr (GError) local = NULL;

  *value = dflt;
  if (col == COL_NONE)
    return TRUE;
  s = g_ptr_array_index (rec->fields, col);
  if (!g_ascii_string_to_signed (s, 10, min, max, value, &local))
    return format_error (error, r, rec->line, "column %d: %s", col + 1, local->message);
  return TRUE;
}

static gboolean
parse_rows (Reader *r, const Layout *l, WeftHistory *h, GError **error)
{
  Record rec;
  GError *local = NULL;
  int n = l->n_heads;

  while (read_record (r, &rec, &local))
    {
      g_autoptr (GPtrArray) fields = rec.fields;
      double loss[WEFT_MAX_HEADS], metric[WEFT_MAX_HEADS];
      double val_loss[WEFT_MAX_HEADS], val_metric[WEFT_MAX_HEADS];
      double total;
      gboolean present;
      gint64 run;

      if ((int) fields->len != l->n_fields)
        return format_error (error, r, rec.line, "expected %d fields, found %u", l->n_fields,
                             fields->len);
      if (!parse_int (r, &rec, l->run, 0, G_MAXINT32 - 1, 0, &run, error))
        return FALSE;
      if (!parse_double (r, &rec, l->loss, &total, &present, error))
        return FALSE;
      if (!present)
        return format_error (error, r, rec.line, "\"loss\" is empty");
      for (int j = 0; j < n; j++)
        {
          if (!parse_double (r, &rec, l->head_loss[j], &loss[j], &present, error))
            return FALSE;
          if (!present)
            return format_error (error, r, rec.line, "\"%s_loss\" is empty", l->head_names[j]);
          if (!parse_double (r, &rec, l->head_metric[j], &metric[j], NULL, error))
            return FALSE;
        }

      if (l->kind == WEFT_CSV_HISTORY_EPOCHS)
        {
          WeftHistoryEpoch e = { 0 };
          gint64 epoch;
          gboolean has_val = FALSE;

          if (!parse_int (r, &rec, l->epoch, 0, G_MAXINT32, 0, &epoch, error))
            return FALSE;
          if (!parse_double (r, &rec, l->val_loss, &e.val_total, &has_val, error))
            return FALSE;
          for (int j = 0; j < n; j++)
            {
              gboolean p = FALSE;

              if (!parse_double (r, &rec, l->head_val_loss[j], &val_loss[j], &p, error)
                  || !parse_double (r, &rec, l->head_val_metric[j], &val_metric[j], NULL,
                                    error))
                return FALSE;
              has_val = has_val || p;
            }
          if (!parse_double (r, &rec, l->seconds, &e.seconds, NULL, error))
            return FALSE;
          e.run = (int) run;
          e.epoch = (int) epoch;
          e.total = total;
          e.has_validation = has_val;
          e.loss = loss;
          e.metric = metric;
          e.val_loss = val_loss;
          e.val_metric = val_metric;
          if (!weft_history_append_epoch (h, &e))
            return format_error (error, r, rec.line, "run %d comes after a later run", e.run);
        }
      else
        {
          WeftHistoryStep st = { 0 };
          gint64 step, epoch, batch, samples;

          if (!parse_int (r, &rec, l->step, 0, G_MAXINT64, 0, &step, error)
              || !parse_int (r, &rec, l->epoch, 0, G_MAXINT32, 0, &epoch, error)
              || !parse_int (r, &rec, l->batch, 0, G_MAXINT32, 0, &batch, error)
              || !parse_int (r, &rec, l->samples, 0, G_MAXINT64, 0, &samples, error))
            return FALSE;
          st.run = (int) run;
          st.step = step;
          st.epoch = (int) epoch;
          st.batch = (int) batch;
          st.samples_seen = samples;
          st.total = total;
          st.loss = loss;
          st.metric = metric;
          if (!weft_history_append_step (h, &st))
            return format_error (error, r, rec.line, "run %d comes after a later run", st.run);
        }
    }
  if (local != NULL)
    {
      g_propagate_error (error, local);
      return FALSE;
    }
  return TRUE;
}

static gboolean
layouts_agree (const Layout *a, const Layout *b)
{
  if (a->n_heads != b->n_heads)
    return FALSE;
  for (int j = 0; j < a->n_heads; j++)
    if (strcmp (a->head_names[j], b->head_names[j]) != 0
        || g_strcmp0 (a->metric_names[j], b->metric_names[j]) != 0)
      return FALSE;
  return TRUE;
}

WeftHistory *
weft_csv_history_parse (const char *epochs_text, const char *steps_text, GError **error)
{
  Reader readers[2] = {
    { epochs_text, NULL, 1, "epochs CSV" },
    { steps_text, NULL, 1, "steps CSV" },
  };
  Layout layouts[2];
  gboolean have[2] = { epochs_text != NULL, steps_text != NULL };
  WeftHistory *h = NULL;
  const Layout *heads = NULL;

  g_return_val_if_fail (epochs_text != NULL || steps_text != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  memset (layouts, 0, sizeof layouts);
  for (int k = 0; k < 2; k++)
    {
      Record rec;
      GError *local = NULL;

      if (!have[k])
        continue;
      readers[k].end = readers[k].p + strlen (readers[k].p);
      if (!read_record (&readers[k], &rec, &local))
        {
          if (local == NULL)
            format_error (&local, &readers[k], readers[k].line, "no header line");
          g_propagate_error (error, local);
          goto out;
        }
      if (!parse_header (&readers[k], &rec, k == 0 ? WEFT_CSV_HISTORY_EPOCHS
                                                   : WEFT_CSV_HISTORY_STEPS,
                         &layouts[k], error))
        {
          g_ptr_array_unref (rec.fields);
          goto out;
        }
      g_ptr_array_unref (rec.fields);
      if (heads == NULL)
        heads = &layouts[k];
      else if (!layouts_agree (heads, &layouts[k]))
        {
          g_set_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_MISMATCH,
                       "The epochs CSV and the steps CSV name different heads or metrics");
          goto out;
        }
    }

  h = weft_history_new (heads->n_heads, (const char *const *) heads->head_names, NULL,
                        (const char *const *) heads->metric_names);
  if (h == NULL)
    {
      g_set_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_FORMAT, "Bad head names in CSV header");
      goto out;
    }
  for (int k = 0; k < 2; k++)
    if (have[k] && !parse_rows (&readers[k], &layouts[k], h, error))
      {
        g_clear_pointer (&h, weft_history_free);
        goto out;
      }

out:
  layout_clear (&layouts[0]);
  layout_clear (&layouts[1]);
  return h;
}

static char *
read_text (const char *path, GError **error)
{
  GStatBuf st;
  g_autoptr (GError) local = NULL;
  char *text = NULL;
  gsize len = 0;

  if (g_stat (path, &st) == 0 && (goffset) st.st_size > CSV_MAX_BYTES)
    {
      g_set_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_TOO_LARGE,
                   "%s is too large for a history CSV", path);
      return NULL;
    }
  if (!g_file_get_contents (path, &text, &len, &local))
    {
      g_set_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_IO, "Could not read %s: %s", path,
                   local->message);
      return NULL;
    }
  if (memchr (text, '\0', len) != NULL)
    {
      g_free (text);
      g_set_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_FORMAT,
                   "%s is not a text file (contains NUL bytes)", path);
      return NULL;
    }
  return text;
}

WeftHistory *
weft_csv_history_load (const char *epochs_path, const char *steps_path, GError **error)
{
  g_autofree char *epochs_text = NULL;
  g_autofree char *steps_text = NULL;

  g_return_val_if_fail (epochs_path != NULL || steps_path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (epochs_path != NULL && (epochs_text = read_text (epochs_path, error)) == NULL)
    return NULL;
  if (steps_path != NULL && (steps_text = read_text (steps_path, error)) == NULL)
    return NULL;
  return weft_csv_history_parse (epochs_text, steps_text, error);
}
