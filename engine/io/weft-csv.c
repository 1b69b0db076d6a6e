/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "weft-io"

#include "config.h"

#include "weft-csv.h"

#include <gio/gio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK (256 * 1024)
/* Distinct words a learned text vocabulary can count (ids stay exact in a float). */
#define MAX_TEXT_WORDS (1 << 24)
#define MAX_COLUMNS 1000000
/* Bytes of one record (line, or lines of a quoted field). */
#define MAX_RECORD_BYTES (256 * 1024 * 1024)

/* ---- options ---- */

static void
field_free (gpointer p)
{
  WeftCsvField *f = p;
  g_free (f->columns);
  g_strfreev (f->vocabulary);
  g_free (f->vocabulary_index);
  g_free (f);
}

static void
array_spec_free (gpointer p)
{
  WeftCsvArraySpec *a = p;
  g_free (a->name);
  g_ptr_array_unref (a->fields);
  g_free (a);
}

WeftCsvOptions *
weft_csv_options_new (void)
{
  WeftCsvOptions *o = g_new0 (WeftCsvOptions, 1);
  o->arrays = g_ptr_array_new_with_free_func (array_spec_free);
  return o;
}

void
weft_csv_options_free (WeftCsvOptions *options)
{
  if (options == NULL)
    return;
  g_ptr_array_unref (options->arrays);
  g_free (options);
}

WeftCsvArraySpec *
weft_csv_options_add_array (WeftCsvOptions *options, const char *name)
{
  g_return_val_if_fail (options != NULL && name != NULL, NULL);
  WeftCsvArraySpec *a = g_new0 (WeftCsvArraySpec, 1);
  a->name = g_strdup (name);
  a->fields = g_ptr_array_new_with_free_func (field_free);
  g_ptr_array_add (options->arrays, a);
  return a;
}

WeftCsvField *
weft_csv_array_add_field (WeftCsvArraySpec *array, const char *columns, WeftCsvKind kind)
{
  g_return_val_if_fail (array != NULL && columns != NULL, NULL);
  WeftCsvField *f = g_new0 (WeftCsvField, 1);
  f->columns = g_strdup (columns);
  f->kind = kind;
  f->text_vocabulary_size = 1000;
  f->text_length = 16;
  g_ptr_array_add (array->fields, f);
  return f;
}

const char *
weft_csv_kind_name (WeftCsvKind kind)
{
  switch (kind)
    {
    case WEFT_CSV_NUMERIC: return "numeric";
    case WEFT_CSV_CATEGORY_INDEX: return "categorical";
    case WEFT_CSV_CATEGORY_ONE_HOT: return "categorical (one-hot)";
    case WEFT_CSV_TEXT: return "text";
    default: return "?";
    }
}

/* ---- opening ---- */

GInputStream *
weft_csv_open_stream (const char *path_or_uri, guint64 *size, GInputStream **raw,
                      GError **error)
{
  g_autoptr (GFile) file = strstr (path_or_uri, "://") != NULL
                             ? g_file_new_for_uri (path_or_uri)
                             : g_file_new_for_path (path_or_uri);
  g_autoptr (GError) local = NULL;
  GFileInputStream *in = g_file_read (file, NULL, &local);

  if (size != NULL)
    *size = 0;
  if (raw != NULL)
    *raw = NULL;
  if (in == NULL)
    {
      g_set_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_IO, "%s: %s", path_or_uri,
                   local->message);
      return NULL;
    }
  g_autoptr (GFileInfo) info = g_file_input_stream_query_info (in,
                                                               G_FILE_ATTRIBUTE_STANDARD_SIZE,
                                                               NULL, NULL);
  if (info != NULL && size != NULL
      && g_file_info_has_attribute (info, G_FILE_ATTRIBUTE_STANDARD_SIZE))
    *size = (guint64) g_file_info_get_size (info);

  guint8 magic[2] = { 0 };
  gsize got = 0;
  if (!g_input_stream_read_all (G_INPUT_STREAM (in), magic, 2, &got, NULL, &local)
      || !g_seekable_seek (G_SEEKABLE (in), 0, G_SEEK_SET, NULL, &local))
    {
      g_set_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_IO, "%s: %s", path_or_uri,
                   local->message);
      g_object_unref (in);
      return NULL;
    }
  if (raw != NULL)
    *raw = G_INPUT_STREAM (in);
  if (got == 2 && magic[0] == 0x1f && magic[1] == 0x8b)
    {
      g_autoptr (GZlibDecompressor) z = g_zlib_decompressor_new (G_ZLIB_COMPRESSOR_FORMAT_GZIP);
      GInputStream *conv = g_converter_input_stream_new (G_INPUT_STREAM (in),
                                                         G_CONVERTER (z));
      g_object_unref (in);   /* the converter stream holds it */
      return conv;
    }
  return G_INPUT_STREAM (in);
}

/* ---- the record reader: a byte state machine over chunks ---- */

typedef enum { ST_START, ST_UNQUOTED, ST_QUOTED, ST_QUOTE_END, ST_BLANKS } State;

/* Return values of a record callback. */
enum { REC_CONTINUE = 1, REC_STOP = 0, REC_ERROR = -1 };

typedef int (*RecordFunc) (char **fields, int n, int64_t line, gpointer user_data,
                           GError **error);

typedef struct
{
  const char *display;
  char        sep;             /* resolved separator; ' ' = runs of blanks */
  State       state;
  gboolean    quoted;          /* the current field was quoted */
  gboolean    in_record;
  GString    *buf;             /* field bytes, each field NUL-ended */
  GArray     *offsets;         /* int: start of each field in buf */
  GPtrArray  *ptrs;
  int64_t     line;            /* 1-based line of the byte being read */
  int64_t     record_line;
  int64_t     quote_line;
} Reader;

static void
reader_end_field (Reader *r)
{
  if (!r->quoted)
    {
      /* trailing blanks of an unquoted field are padding, not data */
      int start = g_array_index (r->offsets, int, r->offsets->len - 1);
      while ((int) r->buf->len > start
             && (r->buf->str[r->buf->len - 1] == ' ' || r->buf->str[r->buf->len - 1] == '\t'))
        g_string_truncate (r->buf, r->buf->len - 1);
    }
  g_string_append_c (r->buf, '\0');
}

static void
reader_begin_field (Reader *r)
{
  int off = (int) r->buf->len;
  g_array_append_val (r->offsets, off);
  r->quoted = FALSE;
  r->in_record = TRUE;
}

static int
reader_end_record (Reader *r, RecordFunc fn, gpointer ud, GError **error)
{
  int n = (int) r->offsets->len;
  int ret = REC_CONTINUE;
  /* an empty line is no record */
  gboolean empty = n == 0 || (n == 1 && !r->quoted && r->buf->str[0] == '\0');
  if (!empty)
    {
      g_ptr_array_set_size (r->ptrs, 0);
      for (int i = 0; i < n; i++)
        g_ptr_array_add (r->ptrs, r->buf->str + g_array_index (r->offsets, int, i));
      ret = fn ((char **) r->ptrs->pdata, n, r->record_line, ud, error);
    }
  g_string_truncate (r->buf, 0);
  g_array_set_size (r->offsets, 0);
  r->in_record = FALSE;
  r->quoted = FALSE;
  r->state = ST_START;
  return ret;
}

static gboolean
is_blank (char c)
{
  return c == ' ' || c == '\t';
}

/* Feeds bytes; returns REC_* (REC_STOP when the callback asked to stop). */
static int
reader_feed (Reader *r, const char *p, gsize len, RecordFunc fn, gpointer ud, GError **error)
{
  const gboolean ws = r->sep == ' ';
  const char sep = r->sep;

  for (gsize i = 0; i < len; i++)
    {
      char c = p[i];
      if (!r->in_record && r->state == ST_START)
        r->record_line = r->line;
      switch (r->state)
        {
        case ST_START:
        case ST_BLANKS:
          if (c == '\n')
            {
              if (r->state == ST_START && r->in_record)
                {
                  reader_begin_field (r);
                  reader_end_field (r);
                }
              r->line++;
              int ret = reader_end_record (r, fn, ud, error);
              if (ret != REC_CONTINUE)
                return ret;
              continue;
            }
          if (c == '\r')
            continue;
          if (ws && is_blank (c))
            continue;
          if (!ws && is_blank (c) && c != sep)
            continue;   /* blanks before a field */
          if (!ws && c == sep)
            {
              reader_begin_field (r);
              reader_end_field (r);
              r->state = ST_START;
              continue;
            }
          reader_begin_field (r);
          if (c == '"')
            {
              r->quoted = TRUE;
              r->quote_line = r->line;
              r->state = ST_QUOTED;
            }
          else
            {
              g_string_append_c (r->buf, c);
              r->state = ST_UNQUOTED;
            }
          break;
        case ST_UNQUOTED:
          if (c == '\n')
            {
              reader_end_field (r);
              r->line++;
              int ret = reader_end_record (r, fn, ud, error);
              if (ret != REC_CONTINUE)
                return ret;
            }
          else if (c == '\r')
            ;
          else if (ws ? is_blank (c) : c == sep)
            {
              reader_end_field (r);
              r->state = ws ? ST_BLANKS : ST_START;
            }
          else
            {
              /* copy the rest of the plain run at once */
              gsize j = i + 1;
              while (j < len && p[j] != '\n' && p[j] != '\r' && p[j] != sep
                     && !(ws && is_blank (p[j])))
                j++;
              g_string_append_len (r->buf, p + i, (gssize) (j - i));
              i = j - 1;
            }
          break;
        case ST_QUOTED:
          if (c == '"')
            r->state = ST_QUOTE_END;
          else
            {
              if (c == '\n')
                r->line++;
              g_string_append_c (r->buf, c);
            }
          break;
        case ST_QUOTE_END:
          if (c == '"')
            {
              g_string_append_c (r->buf, '"');
              r->state = ST_QUOTED;
            }
          else if (c == '\n')
            {
              reader_end_field (r);
              r->line++;
              int ret = reader_end_record (r, fn, ud, error);
              if (ret != REC_CONTINUE)
                return ret;
            }
          else if (c == '\r' || (is_blank (c) && !(ws || c == sep)))
            ;
          else if (ws ? is_blank (c) : c == sep)
            {
              reader_end_field (r);
              r->state = ws ? ST_BLANKS : ST_START;
            }
          else
            {
              g_set_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_FORMAT,
                           "%s: line %" G_GINT64_FORMAT ", column %u: unexpected '%c' after "
                           "the closing quote of a field (write a quote inside a quoted "
                           "field as \"\")", r->display, r->line, r->offsets->len - 1, c);
              return REC_ERROR;
            }
          break;
        }
    }
  /* One endless line (a small gzip file can inflate to gigabytes) must not grow the record
   * without bound: memory would follow it, and int offsets wrap past 2 GiB. A record grows
   * by at most one chunk between these checks. */
  if (r->offsets->len > MAX_COLUMNS)
    {
      g_set_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_TOO_LARGE,
                   "%s: line %" G_GINT64_FORMAT ": more than %d columns", r->display,
                   r->record_line, MAX_COLUMNS);
      return REC_ERROR;
    }
  if (r->buf->len > MAX_RECORD_BYTES)
    {
      g_set_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_TOO_LARGE,
                   "%s: line %" G_GINT64_FORMAT ": a record longer than %d MiB", r->display,
                   r->record_line, MAX_RECORD_BYTES / (1024 * 1024));
      return REC_ERROR;
    }
  return REC_CONTINUE;
}

static int
reader_finish (Reader *r, RecordFunc fn, gpointer ud, GError **error)
{
  if (r->state == ST_QUOTED)
    {
      g_set_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_FORMAT,
                   "%s: line %" G_GINT64_FORMAT ": a quoted field is not closed before the "
                   "end of the file", r->display, r->quote_line);
      return REC_ERROR;
    }
  if (!r->in_record)
    return REC_CONTINUE;
  if (r->state == ST_START)
    {
      reader_begin_field (r);
      reader_end_field (r);
    }
  else if (r->state != ST_BLANKS)
    reader_end_field (r);
  return reader_end_record (r, fn, ud, error);
}

static int
count_blank_fields (const char *line, gsize len)
{
  int n = 0;
  gboolean in = FALSE;
  for (gsize i = 0; i < len; i++)
    {
      gboolean blank = line[i] == ' ' || line[i] == '\t' || line[i] == '\r';
      if (!blank && !in)
        n++;
      in = !blank;
    }
  return n;
}

/* The separator that the sample lines (non-blank, complete) use most; with none of , ; tab,
 * blanks separate only when every sample line has the same number of blank-separated
 * fields (otherwise the file is one column of text). */
static char
detect_separator (const char *text, gsize len)
{
  int comma = 0, semi = 0, tab = 0, fields = -1;
  gboolean q = FALSE, same = TRUE;
  const char *line = text;
  for (gsize i = 0; i <= len; i++)
    {
      if (i == len || (text[i] == '\n' && !q))
        {
          gsize l = (gsize) (text + i - line);
          int f = count_blank_fields (line, l);
          if (f > 0)
            {
              if (fields >= 0 && f != fields)
                same = FALSE;
              fields = f;
            }
          line = text + i + 1;
          continue;
        }
      if (text[i] == '"')
        q = !q;
      else if (!q)
        {
          comma += text[i] == ',';
          semi += text[i] == ';';
          tab += text[i] == '\t';
        }
    }
  if (comma == 0 && semi == 0 && tab == 0)
    return same ? ' ' : ',';
  if (comma >= semi && comma >= tab)
    return ',';
  return semi >= tab ? ';' : '\t';
}

static const char *
separator_name (char sep)
{
  return sep == ',' ? "comma" : sep == ';' ? "semicolon" : sep == '\t' ? "tab" : "blanks";
}

/* Streams the file through fn, record by record. */
static gboolean
read_records (const char *path, const WeftCsvOptions *o, char *sep_out, RecordFunc fn,
              gpointer ud, GError **error)
{
  guint64 size = 0;
  GInputStream *raw = NULL;
  g_autoptr (GInputStream) in = weft_csv_open_stream (path, &size, &raw, error);
  if (in == NULL)
    return FALSE;

  Reader r = { 0 };
  r.display = path;
  r.sep = o->separator;
  r.line = 1;
  if (sep_out != NULL)
    *sep_out = r.sep;
  r.buf = g_string_sized_new (4096);
  r.offsets = g_array_new (FALSE, FALSE, sizeof (int));
  r.ptrs = g_ptr_array_new ();
  g_autofree char *chunk = g_malloc (CHUNK);
  GString *pending = r.sep == 0 ? g_string_new (NULL) : NULL;
  int skip = MAX (o->skip_lines, 0);
  int ret = REC_CONTINUE;
  gboolean ok = TRUE;

  if (r.sep != 0 && r.sep != ',' && r.sep != ';' && r.sep != '\t' && r.sep != ' ')
    {
      g_set_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_FORMAT,
                   "%s: the separator must be ',', ';', tab or blanks, not '%c'", path, r.sep);
      ok = FALSE;
      goto out;
    }
  for (;;)
    {
      g_autoptr (GError) local = NULL;
      gssize got = g_input_stream_read (in, chunk, CHUNK, NULL, &local);
      if (got < 0)
        {
          gboolean cut = g_error_matches (local, G_IO_ERROR, G_IO_ERROR_PARTIAL_INPUT);
          g_set_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_IO, "%s: %s", path,
                       cut ? "the compressed data ends early (is the file truncated?)"
                           : local->message);
          ok = FALSE;
          break;
        }
      const char *p = chunk;
      gsize len = (gsize) got;
      while (skip > 0 && len > 0)
        {
          const char *nl = memchr (p, '\n', len);
          if (nl == NULL)
            {
              len = 0;
              break;
            }
          len -= (gsize) (nl + 1 - p);
          p = nl + 1;
          r.line++;
          skip--;
        }
      if (pending != NULL)
        {
          /* the separator is guessed from the first (up to 20) lines that are not blank */
          g_string_append_len (pending, p, (gssize) len);
          int lines = 0;
          gsize upto = 0;
          for (gsize i = 0; i < pending->len && lines < 20; i++)
            if (pending->str[i] == '\n')
              {
                lines++;
                upto = i;
              }
          if (lines < 20 && got > 0 && pending->len < 16 * 1024 * 1024)
            continue;
          r.sep = detect_separator (pending->str, lines > 0 && got > 0 ? upto : pending->len);
          if (sep_out != NULL)
            *sep_out = r.sep;
          ret = reader_feed (&r, pending->str, pending->len, fn, ud, error);
          g_string_free (pending, TRUE);
          pending = NULL;
        }
      else if (len > 0)
        ret = reader_feed (&r, p, len, fn, ud, error);
      if (ret != REC_CONTINUE)
        break;
      if (o->progress != NULL && raw != NULL)
        {
          guint64 done = (guint64) g_seekable_tell (G_SEEKABLE (raw));
          if (!o->progress (done, size, o->progress_data))
            {
              g_set_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED, "%s: reading cancelled",
                           path);
              ok = FALSE;
              break;
            }
        }
      if (got == 0)
        {
          ret = reader_finish (&r, fn, ud, error);
          break;
        }
    }
  if (ret == REC_ERROR)
    ok = FALSE;
out:
  if (sep_out != NULL)
    *sep_out = r.sep;
  if (pending != NULL)
    g_string_free (pending, TRUE);
  g_string_free (r.buf, TRUE);
  g_array_unref (r.offsets);
  g_ptr_array_unref (r.ptrs);
  return ok;
}

/* ---- values ---- */

static gboolean
is_missing (const char *s)
{
  if (s[0] != '\0' && s[0] != 'n' && s[0] != 'N' && s[0] != '?')
    return FALSE;   /* the common case, without four string compares */
  return s[0] == '\0' || g_ascii_strcasecmp (s, "na") == 0 || g_ascii_strcasecmp (s, "n/a") == 0
         || g_ascii_strcasecmp (s, "nan") == 0 || g_ascii_strcasecmp (s, "null") == 0
         || strcmp (s, "?") == 0;
}

static const double pow10_exact[] = {
  1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
  1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};

/* A decimal number filling the whole string; the common case is computed exactly (a
 * mantissa below 2^53 times an exact power of ten), the rest by g_ascii_strtod, so the
 * user's locale never matters. */
static gboolean
parse_number (const char *s, double *out)
{
  const char *p = s;
  gboolean neg = FALSE, any = FALSE;
  uint64_t mant = 0;
  int exp10 = 0;
  gboolean exact = TRUE;

  if (*p == '+' || *p == '-')
    neg = *p++ == '-';
  for (; *p >= '0' && *p <= '9'; p++)
    {
      any = TRUE;
      if (mant < (UINT64_C (1) << 53) / 10)
        mant = mant * 10 + (uint64_t) (*p - '0');
      else
        {
          exact = FALSE;
          exp10++;
        }
    }
  if (*p == '.')
    for (p++; *p >= '0' && *p <= '9'; p++)
      {
        any = TRUE;
        if (mant < (UINT64_C (1) << 53) / 10)
          {
            mant = mant * 10 + (uint64_t) (*p - '0');
            exp10--;
          }
        else if (*p != '0')
          exact = FALSE;
      }
  if (!any)
    return FALSE;
  if (*p == 'e' || *p == 'E')
    {
      p++;
      gboolean eneg = FALSE;
      if (*p == '+' || *p == '-')
        eneg = *p++ == '-';
      if (!(*p >= '0' && *p <= '9'))
        return FALSE;
      int e = 0;
      for (; *p >= '0' && *p <= '9'; p++)
        if (e < 100000)
          e = e * 10 + (*p - '0');
      exp10 += eneg ? -e : e;
    }
  if (*p != '\0')
    return FALSE;
  double v;
  if (exact && exp10 >= -22 && exp10 <= 22)
    v = exp10 >= 0 ? (double) mant * pow10_exact[exp10] : (double) mant / pow10_exact[-exp10];
  else
    {
      char *end = NULL;
      v = fabs (g_ascii_strtod (s, &end));
      if (end == NULL || *end != '\0')
        return FALSE;
    }
  *out = neg ? -v : v;
  return TRUE;
}

/* ---- loading into arrays ---- */

typedef struct
{
  char    *word;
  int      id;          /* provisional id */
  int64_t  count;
} Word;

typedef struct
{
  const WeftCsvField *spec;
  int         *cols;
  int          n_cols;
  int          offset;       /* in the array's parse layout */
  int          width;        /* parse width */
  GHashTable  *index;        /* categorical/text: value -> GINT (index + 1) or Word* */
  GPtrArray   *learned;      /* categorical: values in first-seen order; text: Word* */
  int          n_classes;    /* categorical with a fixed vocabulary */
  gboolean     fixed;
} Field;

typedef struct
{
  const WeftCsvArraySpec *spec;
  char    *name;
  Field   *fields;
  int      n_fields;
  int      width;            /* parse layout: numeric 1 per column, categorical 1, text L */
  float   *data;
} Array;

typedef struct
{
  const char           *path;
  const WeftCsvOptions *o;
  gboolean              header_pending;
  int                   n_columns;
  char                **names;
  Array                *arrays;
  int                   n_arrays;
  gboolean              default_arrays;
  int64_t               n_rows;
  int64_t               cap;
  char                  sep;
  const char           *sep_ptr;   /* the reader's resolved separator */
} Load;

static void
word_free (gpointer p)
{
  Word *w = p;
  g_free (w->word);
  g_free (w);
}

static void
load_clear (Load *l)
{
  for (int a = 0; a < l->n_arrays; a++)
    {
      Array *arr = &l->arrays[a];
      for (int f = 0; f < arr->n_fields; f++)
        {
          Field *fd = &arr->fields[f];
          g_free (fd->cols);
          if (fd->index != NULL)
            g_hash_table_unref (fd->index);
          if (fd->learned != NULL)
            g_ptr_array_unref (fd->learned);
        }
      g_free (arr->fields);
      g_free (arr->name);
      g_free (arr->data);
    }
  g_free (l->arrays);
  g_strfreev (l->names);
}

static char *
column_label (const Load *l, int c)
{
  if (l->names != NULL && l->o->header)
    return g_strdup_printf ("column %d '%s'", c, l->names[c]);
  return g_strdup_printf ("column %d", c);
}

static gboolean
parse_index (const char *s, int *out)
{
  if (*s == '\0')
    return FALSE;
  gint64 v = 0;
  for (const char *p = s; *p; p++)
    {
      if (*p < '0' || *p > '9')
        return FALSE;
      v = v * 10 + (*p - '0');
      if (v > G_MAXINT)
        return FALSE;
    }
  *out = (int) v;
  return TRUE;
}

static gboolean
resolve_columns (Load *l, const char *array, const char *sel, int **cols_out, int *n_out,
                 GError **error)
{
  g_auto (GStrv) items = g_strsplit (sel, ",", -1);
  GArray *cols = g_array_new (FALSE, FALSE, sizeof (int));
  for (int i = 0; items[i] != NULL; i++)
    {
      char *it = g_strstrip (items[i]);
      int found = -1, a, b;
      if (l->o->header)
        for (int c = 0; c < l->n_columns && found < 0; c++)
          if (strcmp (l->names[c], it) == 0)
            found = c;
      if (found >= 0)
        {
          g_array_append_val (cols, found);
          continue;
        }
      char *dash = strchr (it, '-');
      gboolean ok;
      if (dash != NULL && dash != it)
        {
          *dash = '\0';
          ok = parse_index (it, &a);
          if (ok && dash[1] == '\0')
            b = l->n_columns - 1;
          else
            ok = ok && parse_index (dash + 1, &b);
          *dash = '-';
        }
      else
        {
          ok = parse_index (it, &a);
          b = a;
        }
      if (!ok)
        {
          g_set_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_MISMATCH,
                       "%s: array '%s': '%s' is not a column %s", l->path, array, it,
                       l->o->header ? "name, number or range (a-b)"
                                    : "number or range (a-b); the file has no header, so "
                                      "columns have no names");
          g_array_unref (cols);
          return FALSE;
        }
      if (a > b || b >= l->n_columns)
        {
          g_set_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_MISMATCH,
                       "%s: array '%s': columns '%s' are not within 0-%d (the file has %d "
                       "columns, counted from 0)", l->path, array, it, l->n_columns - 1,
                       l->n_columns);
          g_array_unref (cols);
          return FALSE;
        }
      for (int c = a; c <= b; c++)
        g_array_append_val (cols, c);
    }
  if (cols->len == 0)
    {
      g_set_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_MISMATCH,
                   "%s: array '%s' selects no column", l->path, array);
      g_array_unref (cols);
      return FALSE;
    }
  *n_out = (int) cols->len;
  *cols_out = (int *) g_array_free (cols, FALSE);
  return TRUE;
}

static gboolean
setup_arrays (Load *l, GError **error)
{
  const WeftCsvOptions *o = l->o;
  if (o->arrays == NULL || o->arrays->len == 0)
    {
      l->default_arrays = TRUE;
      l->n_arrays = l->n_columns;
      l->arrays = g_new0 (Array, l->n_arrays);
      for (int c = 0; c < l->n_columns; c++)
        {
          Array *arr = &l->arrays[c];
          arr->name = g_strdup (l->names[c]);
          arr->n_fields = 1;
          arr->fields = g_new0 (Field, 1);
          arr->fields[0].cols = g_new (int, 1);
          arr->fields[0].cols[0] = c;
          arr->fields[0].n_cols = 1;
          arr->fields[0].width = 1;
          arr->width = 1;
        }
      return TRUE;
    }
  l->n_arrays = (int) o->arrays->len;
  l->arrays = g_new0 (Array, l->n_arrays);
  for (int a = 0; a < l->n_arrays; a++)
    {
      const WeftCsvArraySpec *spec = o->arrays->pdata[a];
      Array *arr = &l->arrays[a];
      arr->spec = spec;
      arr->name = g_strdup (spec->name);
      for (int b = 0; b < a; b++)
        if (strcmp (l->arrays[b].name, spec->name) == 0)
          {
            g_set_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_MISMATCH,
                         "%s: two arrays are named '%s'", l->path, spec->name);
            return FALSE;
          }
      if (spec->fields->len == 0)
        {
          g_set_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_MISMATCH,
                       "%s: array '%s' has no columns", l->path, spec->name);
          return FALSE;
        }
      arr->n_fields = (int) spec->fields->len;
      arr->fields = g_new0 (Field, arr->n_fields);
      for (int f = 0; f < arr->n_fields; f++)
        {
          Field *fd = &arr->fields[f];
          fd->spec = spec->fields->pdata[f];
          if (!resolve_columns (l, spec->name, fd->spec->columns, &fd->cols, &fd->n_cols,
                                error))
            return FALSE;
          fd->offset = arr->width;
          switch (fd->spec->kind)
            {
            case WEFT_CSV_NUMERIC:
              fd->width = fd->n_cols;
              break;
            case WEFT_CSV_CATEGORY_INDEX:
            case WEFT_CSV_CATEGORY_ONE_HOT:
            case WEFT_CSV_TEXT:
              if (fd->n_cols != 1)
                {
                  g_set_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_MISMATCH,
                               "%s: array '%s': a %s field takes exactly one column, not "
                               "'%s'", l->path, spec->name, weft_csv_kind_name (fd->spec->kind),
                               fd->spec->columns);
                  return FALSE;
                }
              if (fd->spec->kind == WEFT_CSV_TEXT)
                {
                  if (fd->spec->text_length < 1
                      || fd->spec->text_length > WEFT_CSV_MAX_TEXT_LENGTH
                      || fd->spec->text_vocabulary_size < 3)
                    {
                      g_set_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_MISMATCH,
                                   "%s: array '%s': a text field needs a length in 1..%d "
                                   "and a vocabulary size of at least 3 (0 pads, 1 is an "
                                   "unknown word)", l->path, spec->name,
                                   WEFT_CSV_MAX_TEXT_LENGTH);
                      return FALSE;
                    }
                  fd->width = fd->spec->text_length;
                  fd->index = g_hash_table_new (g_str_hash, g_str_equal);
                  if (fd->spec->vocabulary != NULL)
                    {
                      fd->fixed = TRUE;
                      for (int i = 0; fd->spec->vocabulary[i] != NULL
                                      && i + 2 < fd->spec->text_vocabulary_size; i++)
                        g_hash_table_insert (fd->index, fd->spec->vocabulary[i],
                                             GINT_TO_POINTER (i + 2 + 1));
                    }
                  else
                    fd->learned = g_ptr_array_new_with_free_func (word_free);
                }
              else
                {
                  fd->width = 1;
                  fd->index = g_hash_table_new_full (g_str_hash, g_str_equal,
                                                     fd->spec->vocabulary ? NULL : g_free,
                                                     NULL);
                  if (fd->spec->vocabulary != NULL)
                    {
                      fd->fixed = TRUE;
                      for (int i = 0; fd->spec->vocabulary[i] != NULL; i++)
                        {
                          int k = fd->spec->vocabulary_index ? fd->spec->vocabulary_index[i]
                                                             : i;
                          if (k < 0 || k >= WEFT_CSV_MAX_CATEGORIES)
                            {
                              g_set_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_MISMATCH,
                                           "%s: array '%s': class %d of '%s' is out of "
                                           "range", l->path, spec->name, k,
                                           fd->spec->vocabulary[i]);
                              return FALSE;
                            }
                          g_hash_table_insert (fd->index, fd->spec->vocabulary[i],
                                               GINT_TO_POINTER (k + 1));
                          fd->n_classes = MAX (fd->n_classes, k + 1);
                        }
                      if (fd->n_classes == 0)
                        {
                          g_set_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_MISMATCH,
                                       "%s: array '%s': the vocabulary is empty", l->path,
                                       spec->name);
                          return FALSE;
                        }
                    }
                  else
                    fd->learned = g_ptr_array_new ();
                }
              break;
            default:
              g_set_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_MISMATCH,
                           "%s: array '%s': unknown field kind %d", l->path, spec->name,
                           (int) fd->spec->kind);
              return FALSE;
            }
          arr->width += fd->width;
        }
    }
  return TRUE;
}

static gboolean
grow (Load *l, int64_t line, GError **error)
{
  int64_t cap = l->cap < 1024 ? 1024 : l->cap + l->cap / 2;
  if (l->o->max_rows > 0 && cap > l->o->max_rows)
    cap = l->o->max_rows;
  for (int a = 0; a < l->n_arrays; a++)
    {
      Array *arr = &l->arrays[a];
      if ((guint64) cap > G_MAXSIZE / sizeof (float) / (guint64) arr->width)
        goto oom;
      float *d = g_try_realloc (arr->data, (gsize) cap * (gsize) arr->width * sizeof (float));
      if (d == NULL)
        goto oom;
      arr->data = d;
    }
  l->cap = cap;
  return TRUE;
oom:
  g_set_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_TOO_LARGE,
               "%s: out of memory at line %" G_GINT64_FORMAT " (%" G_GINT64_FORMAT " rows)",
               l->path, line, l->n_rows);
  return FALSE;
}

static int
text_row (Load *l, Field *fd, const char *s, float *out, int64_t line, int col, GError **error)
{
  int L = fd->spec->text_length, n = 0;
  if (!g_utf8_validate (s, -1, NULL))
    {
      g_autofree char *lab = column_label (l, col);
      g_set_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_FORMAT,
                   "%s: line %" G_GINT64_FORMAT ", %s: the text is not valid UTF-8", l->path,
                   line, lab);
      return REC_ERROR;
    }
  g_auto (GStrv) words = weft_csv_tokenise (s);
  for (int i = 0; words[i] != NULL; i++)
    {
      float id;
      if (fd->fixed)
        {
          if (n >= L)
            break;
          gpointer v = g_hash_table_lookup (fd->index, words[i]);
          id = v ? (float) (GPOINTER_TO_INT (v) - 1) : 1.0f;
        }
      else
        {
          Word *w = g_hash_table_lookup (fd->index, words[i]);
          if (w == NULL)
            {
              if (fd->learned->len >= MAX_TEXT_WORDS)
                {
                  g_autofree char *lab = column_label (l, col);
                  g_set_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_TOO_LARGE,
                               "%s: line %" G_GINT64_FORMAT ", %s: more than %d distinct "
                               "words", l->path, line, lab, MAX_TEXT_WORDS);
                  return REC_ERROR;
                }
              w = g_new0 (Word, 1);
              w->word = words[i];
              words[i] = g_strdup ("");
              w->id = (int) fd->learned->len;
              g_ptr_array_add (fd->learned, w);
              g_hash_table_insert (fd->index, w->word, w);
            }
          w->count++;   /* every word counts for the vocabulary, kept or cut */
          if (n >= L)
            continue;
          id = (float) w->id;
        }
      out[n++] = id;
    }
  for (; n < L; n++)
    out[n] = fd->fixed ? 0.0f : -1.0f;   /* learned: -1 marks padding until the remap */
  return REC_CONTINUE;
}

static int
load_record (char **fields, int n, int64_t line, gpointer ud, GError **error)
{
  Load *l = ud;
  l->sep = *l->sep_ptr;
  if (l->n_columns == 0)
    {
      if (n > MAX_COLUMNS)
        {
          g_set_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_TOO_LARGE,
                       "%s: line %" G_GINT64_FORMAT ": %d columns is too many", l->path, line,
                       n);
          return REC_ERROR;
        }
      l->n_columns = n;
      l->names = g_new0 (char *, n + 1);
      for (int c = 0; c < n; c++)
        l->names[c] = l->o->header ? g_strdup (fields[c]) : g_strdup_printf ("column_%d", c);
      if (!setup_arrays (l, error))
        return REC_ERROR;
      if (l->o->header)
        return REC_CONTINUE;
    }
  if (n != l->n_columns)
    {
      g_set_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_FORMAT,
                   "%s: line %" G_GINT64_FORMAT " has %d fields but the %s has %d (check "
                   "the separator, %s, and quotes)", l->path, line, n,
                   l->o->header ? "header" : "first row", l->n_columns,
                   separator_name (l->sep));
      return REC_ERROR;
    }
  if (l->n_rows == l->cap && !grow (l, line, error))
    return REC_ERROR;
  for (int a = 0; a < l->n_arrays; a++)
    {
      Array *arr = &l->arrays[a];
      float *row = arr->data + (size_t) l->n_rows * (size_t) arr->width;
      for (int f = 0; f < arr->n_fields; f++)
        {
          Field *fd = &arr->fields[f];
          float *out = row + fd->offset;
          WeftCsvKind kind = fd->spec ? fd->spec->kind : WEFT_CSV_NUMERIC;
          if (kind == WEFT_CSV_TEXT)
            {
              if (text_row (l, fd, fields[fd->cols[0]], out, line, fd->cols[0], error)
                  != REC_CONTINUE)
                return REC_ERROR;
              continue;
            }
          for (int k = 0; k < fd->n_cols; k++)
            {
              int c = fd->cols[k];
              const char *s = fields[c];
              gboolean missing = is_missing (s);
              if (missing && l->o->missing == WEFT_CSV_MISSING_ERROR)
                {
                  g_autofree char *lab = column_label (l, c);
                  g_set_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_FORMAT,
                               "%s: line %" G_GINT64_FORMAT ", %s: missing value%s%s%s (or "
                               "choose a fill value)", l->path, line, lab,
                               s[0] ? " '" : "", s, s[0] ? "'" : "");
                  return REC_ERROR;
                }
              if (kind == WEFT_CSV_NUMERIC)
                {
                  double v;
                  if (missing)
                    v = l->o->fill_value;
                  else if (!parse_number (s, &v) || !isfinite ((float) v))
                    {
                      g_autofree char *lab = column_label (l, c);
                      gboolean num = parse_number (s, &v);
                      g_set_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_FORMAT,
                                   "%s: line %" G_GINT64_FORMAT ", %s: '%.40s' is not %s "
                                   "(declare the column categorical or text?)", l->path, line,
                                   lab, s, num ? "a finite float32 number" : "a number");
                      return REC_ERROR;
                    }
                  out[k] = (float) v;
                  continue;
                }
              const char *key = missing ? "" : s;
              gpointer hit = g_hash_table_lookup (fd->index, key);
              if (hit != NULL)
                out[k] = (float) (GPOINTER_TO_INT (hit) - 1);
              else if (fd->fixed)
                {
                  g_autofree char *lab = column_label (l, c);
                  g_set_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_MISMATCH,
                               "%s: line %" G_GINT64_FORMAT ", %s: '%.40s' is not one of "
                               "the column's %u known categories", l->path, line, lab, key,
                               g_hash_table_size (fd->index));
                  return REC_ERROR;
                }
              else
                {
                  if (fd->learned->len >= WEFT_CSV_MAX_CATEGORIES)
                    {
                      g_autofree char *lab = column_label (l, c);
                      g_set_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_TOO_LARGE,
                                   "%s: line %" G_GINT64_FORMAT ", %s: more than %d "
                                   "categories (is this column text?)", l->path, line, lab,
                                   WEFT_CSV_MAX_CATEGORIES);
                      return REC_ERROR;
                    }
                  char *copy = g_strdup (key);
                  int id = (int) fd->learned->len;
                  g_ptr_array_add (fd->learned, copy);
                  g_hash_table_insert (fd->index, copy, GINT_TO_POINTER (id + 1));
                  out[k] = (float) id;
                }
            }
        }
    }
  l->n_rows++;
  if (l->o->max_rows > 0 && l->n_rows >= l->o->max_rows)
    return REC_STOP;
  return REC_CONTINUE;
}

static int
cmp_category (gconstpointer a, gconstpointer b, gpointer numeric)
{
  const char *x = *(const char *const *) a, *y = *(const char *const *) b;
  if (GPOINTER_TO_INT (numeric))
    {
      double u = 0, v = 0;
      parse_number (x, &u);
      parse_number (y, &v);
      if (u != v)
        return u < v ? -1 : 1;
    }
  return strcmp (x, y);
}

static int
cmp_word (gconstpointer a, gconstpointer b)
{
  const Word *x = *(const Word *const *) a, *y = *(const Word *const *) b;
  if (x->count != y->count)
    return x->count > y->count ? -1 : 1;
  return strcmp (x->word, y->word);
}

/* Sorts learned vocabularies, remaps provisional ids, expands one-hot fields. */
static gboolean
finish_array (Load *l, Array *arr, WeftCsvArray *out, GError **error)
{
  int64_t n = l->n_rows;
  int final_width = 0;
  out->vocabularies = g_ptr_array_new_with_free_func ((GDestroyNotify) g_strfreev);
  for (int f = 0; f < arr->n_fields; f++)
    {
      Field *fd = &arr->fields[f];
      WeftCsvKind kind = fd->spec ? fd->spec->kind : WEFT_CSV_NUMERIC;
      char **vocab = NULL;
      if (kind == WEFT_CSV_CATEGORY_INDEX || kind == WEFT_CSV_CATEGORY_ONE_HOT)
        {
          if (!fd->fixed)
            {
              int K = (int) fd->learned->len;
              gboolean numeric = TRUE;
              for (int i = 0; i < K && numeric; i++)
                {
                  double v;
                  numeric = parse_number (fd->learned->pdata[i], &v);
                }
              char **sorted = g_new0 (char *, K + 1);
              if (K > 0)
                memcpy (sorted, fd->learned->pdata, sizeof (char *) * (size_t) K);
              g_qsort_with_data (sorted, K, sizeof (char *), cmp_category,
                                 GINT_TO_POINTER (numeric));
              int *map = g_new (int, MAX (K, 1));
              for (int i = 0; i < K; i++)
                map[GPOINTER_TO_INT (g_hash_table_lookup (fd->index, sorted[i])) - 1] = i;
              for (int64_t r = 0; r < n; r++)
                {
                  float *v = arr->data + (size_t) r * (size_t) arr->width + fd->offset;
                  *v = (float) map[(int) *v];
                }
              g_free (map);
              for (int i = 0; i < K; i++)
                sorted[i] = g_strdup (sorted[i]);
              vocab = sorted;
              fd->n_classes = K;
            }
          else
            {
              vocab = g_strdupv (fd->spec->vocabulary);
            }
          final_width += kind == WEFT_CSV_CATEGORY_ONE_HOT ? fd->n_classes : 1;
        }
      else if (kind == WEFT_CSV_TEXT)
        {
          int V = fd->spec->text_vocabulary_size;
          if (!fd->fixed)
            {
              int W = (int) fd->learned->len;
              Word **by_id = g_new (Word *, MAX (W, 1));
              Word **ranked = g_new (Word *, MAX (W, 1));
              /* No words at all (no rows, or only empty texts): pdata may be NULL. */
              if (W > 0)
                {
                  memcpy (by_id, fd->learned->pdata, sizeof (Word *) * (size_t) W);
                  memcpy (ranked, fd->learned->pdata, sizeof (Word *) * (size_t) W);
                  qsort (ranked, (size_t) W, sizeof (Word *), cmp_word);
                }
              int keep = MIN (W, V - 2);
              int *map = g_new (int, MAX (W, 1));
              for (int i = 0; i < W; i++)
                map[ranked[i]->id] = i < keep ? i + 2 : 1;
              vocab = g_new0 (char *, keep + 1);
              for (int i = 0; i < keep; i++)
                vocab[i] = g_strdup (ranked[i]->word);
              for (int64_t r = 0; r < n; r++)
                {
                  float *v = arr->data + (size_t) r * (size_t) arr->width + fd->offset;
                  for (int k = 0; k < fd->width; k++)
                    v[k] = v[k] < 0 ? 0.0f : (float) map[(int) v[k]];
                }
              g_free (map);
              g_free (ranked);
              g_free (by_id);
            }
          else
            {
              int keep = 0;
              while (fd->spec->vocabulary[keep] != NULL && keep + 2 < V)
                keep++;
              vocab = g_new0 (char *, keep + 1);
              for (int i = 0; i < keep; i++)
                vocab[i] = g_strdup (fd->spec->vocabulary[i]);
            }
          final_width += fd->width;
        }
      else
        final_width += fd->width;
      g_ptr_array_add (out->vocabularies, vocab);
    }

  if (final_width != arr->width)
    {
      if (n > 0 && (guint64) n > G_MAXSIZE / sizeof (float) / (guint64) final_width)
        goto oom;
      float *wide = g_try_malloc0 (MAX ((gsize) n * (gsize) final_width, 1) * sizeof (float));
      if (wide == NULL)
        goto oom;
      for (int64_t r = 0; r < n; r++)
        {
          const float *src = arr->data + (size_t) r * (size_t) arr->width;
          float *dst = wide + (size_t) r * (size_t) final_width;
          int o = 0;
          for (int f = 0; f < arr->n_fields; f++)
            {
              Field *fd = &arr->fields[f];
              if (fd->spec != NULL && fd->spec->kind == WEFT_CSV_CATEGORY_ONE_HOT)
                {
                  dst[o + (int) src[fd->offset]] = 1.0f;
                  o += fd->n_classes;
                }
              else
                {
                  memcpy (dst + o, src + fd->offset, sizeof (float) * (size_t) fd->width);
                  o += fd->width;
                }
            }
        }
      g_free (arr->data);
      arr->data = wide;
    }
  else if (n < l->cap && n > 0)
    {
      float *d = g_try_realloc (arr->data, (gsize) n * (gsize) final_width * sizeof (float));
      if (d != NULL)
        arr->data = d;
    }
  out->name = g_strdup (arr->name);
  out->rank = 1;
  out->dims[0] = final_width;
  out->data = arr->data;
  arr->data = NULL;
  return TRUE;
oom:
  g_set_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_TOO_LARGE,
               "%s: array '%s': out of memory for %" G_GINT64_FORMAT " rows of %d values",
               l->path, arr->name, n, final_width);
  return FALSE;
}

static void
csv_array_free (gpointer p)
{
  WeftCsvArray *a = p;
  g_free (a->name);
  g_free (a->data);
  if (a->vocabularies != NULL)
    g_ptr_array_unref (a->vocabularies);
  g_free (a);
}

void
weft_csv_table_free (WeftCsvTable *table)
{
  if (table == NULL)
    return;
  g_strfreev (table->column_names);
  if (table->arrays != NULL)
    g_ptr_array_unref (table->arrays);
  g_free (table);
}

WeftCsvArray *
weft_csv_table_find (WeftCsvTable *table, const char *name)
{
  g_return_val_if_fail (table != NULL && name != NULL, NULL);
  for (guint i = 0; i < table->arrays->len; i++)
    {
      WeftCsvArray *a = table->arrays->pdata[i];
      if (strcmp (a->name, name) == 0)
        return a;
    }
  return NULL;
}

WeftCsvTable *
weft_csv_read (const char *path_or_uri, const WeftCsvOptions *options, GError **error)
{
  g_return_val_if_fail (path_or_uri != NULL && options != NULL, NULL);
  Load l = { 0 };
  l.path = path_or_uri;
  l.o = options;
  char sep = 0;
  l.sep_ptr = &sep;

  if (!read_records (path_or_uri, options, &sep, load_record, &l, error))
    {
      load_clear (&l);
      return NULL;
    }
  if (l.n_columns == 0)
    {
      g_set_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_FORMAT, "%s: the file holds no %s",
                   path_or_uri, options->header ? "header" : "rows");
      load_clear (&l);
      return NULL;
    }
  WeftCsvTable *t = g_new0 (WeftCsvTable, 1);
  t->n_rows = l.n_rows;
  t->n_columns = l.n_columns;
  t->column_names = l.names;
  l.names = NULL;
  t->separator = sep;
  t->arrays = g_ptr_array_new_with_free_func (csv_array_free);
  for (int a = 0; a < l.n_arrays; a++)
    {
      WeftCsvArray *out = g_new0 (WeftCsvArray, 1);
      g_ptr_array_add (t->arrays, out);
      if (!finish_array (&l, &l.arrays[a], out, error))
        {
          weft_csv_table_free (t);
          load_clear (&l);
          return NULL;
        }
    }
  load_clear (&l);
  return t;
}

/* ---- tokenising ---- */

char **
weft_csv_tokenise (const char *text)
{
  GPtrArray *words = g_ptr_array_new ();
  GString *w = g_string_new (NULL);
  const char *p = text;
  if (!g_utf8_validate (text, -1, NULL))
    p = "";
  while (*p)
    {
      gunichar c = g_utf8_get_char (p);
      p = g_utf8_next_char (p);
      if (g_unichar_isalnum (c))
        g_string_append_unichar (w, g_unichar_tolower (c));
      else if (w->len > 0)
        {
          g_ptr_array_add (words, g_strdup (w->str));
          g_string_truncate (w, 0);
        }
    }
  if (w->len > 0)
    g_ptr_array_add (words, g_strdup (w->str));
  g_string_free (w, TRUE);
  g_ptr_array_add (words, NULL);
  return (char **) g_ptr_array_free (words, FALSE);
}

/* ---- preview ---- */

typedef struct
{
  const char           *path;
  const WeftCsvOptions *o;
  int                   max_rows, scan_rows;
  WeftCsvPreview       *p;
  GHashTable          **distinct;
  gboolean             *numeric, *spaces;
  int                  *non_missing;
} Peek;

static int
peek_record (char **fields, int n, int64_t line, gpointer ud, GError **error)
{
  Peek *k = ud;
  WeftCsvPreview *p = k->p;
  if (p->n_columns == 0)
    {
      if (n > MAX_COLUMNS)
        {
          g_set_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_TOO_LARGE,
                       "%s: line %" G_GINT64_FORMAT ": %d columns is too many", k->path, line,
                       n);
          return REC_ERROR;
        }
      p->n_columns = n;
      p->column_names = g_new0 (char *, n + 1);
      for (int c = 0; c < n; c++)
        p->column_names[c] = k->o->header ? g_strdup (fields[c])
                                          : g_strdup_printf ("column_%d", c);
      p->kinds = g_new0 (WeftCsvKind, n);
      p->n_distinct = g_new0 (int, n);
      p->n_missing = g_new0 (int, n);
      k->distinct = g_new0 (GHashTable *, n);
      k->numeric = g_new (gboolean, n);
      k->spaces = g_new0 (gboolean, n);
      k->non_missing = g_new0 (int, n);
      for (int c = 0; c < n; c++)
        {
          k->distinct[c] = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
          k->numeric[c] = TRUE;
        }
      if (k->o->header)
        return REC_CONTINUE;
    }
  if (n != p->n_columns)
    {
      g_set_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_FORMAT,
                   "%s: line %" G_GINT64_FORMAT " has %d fields but the %s has %d (check "
                   "the separator and quotes)", k->path, line, n,
                   k->o->header ? "header" : "first row", p->n_columns);
      return REC_ERROR;
    }
  if ((int) p->rows->len < k->max_rows)
    {
      char **copy = g_new0 (char *, n + 1);
      for (int c = 0; c < n; c++)
        copy[c] = g_strdup (fields[c]);
      g_ptr_array_add (p->rows, copy);
    }
  for (int c = 0; c < n; c++)
    {
      const char *s = fields[c];
      if (is_missing (s))
        {
          p->n_missing[c]++;
          continue;
        }
      k->non_missing[c]++;
      double v;
      if (k->numeric[c] && !parse_number (s, &v))
        k->numeric[c] = FALSE;
      if (strchr (s, ' ') != NULL)
        k->spaces[c] = TRUE;
      if (g_hash_table_size (k->distinct[c]) < 1000)
        g_hash_table_add (k->distinct[c], g_strdup (s));
    }
  p->rows_scanned++;
  if (p->rows_scanned >= MAX (k->scan_rows, k->max_rows))
    return REC_STOP;
  return REC_CONTINUE;
}

WeftCsvPreview *
weft_csv_preview (const char *path_or_uri, const WeftCsvOptions *options, int max_rows,
                  int scan_rows, GError **error)
{
  g_return_val_if_fail (path_or_uri != NULL && options != NULL, NULL);
  WeftCsvPreview *p = g_new0 (WeftCsvPreview, 1);
  p->rows = g_ptr_array_new_with_free_func ((GDestroyNotify) g_strfreev);
  Peek k = { path_or_uri, options, MAX (max_rows, 0), MAX (scan_rows, 1), p, NULL, NULL,
             NULL, NULL };
  gboolean ok = read_records (path_or_uri, options, &p->separator, peek_record, &k, error);
  if (ok && p->n_columns == 0)
    {
      g_set_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_FORMAT, "%s: the file holds no %s",
                   path_or_uri, options->header ? "header" : "rows");
      ok = FALSE;
    }
  for (int c = 0; c < p->n_columns; c++)
    {
      int d = (int) g_hash_table_size (k.distinct[c]);
      p->n_distinct[c] = d;
      if (k.numeric[c])
        p->kinds[c] = WEFT_CSV_NUMERIC;
      else if (k.spaces[c] && d * 2 > k.non_missing[c])
        p->kinds[c] = WEFT_CSV_TEXT;
      else
        p->kinds[c] = WEFT_CSV_CATEGORY_INDEX;
      g_hash_table_unref (k.distinct[c]);
    }
  g_free (k.distinct);
  g_free (k.numeric);
  g_free (k.spaces);
  g_free (k.non_missing);
  if (!ok)
    {
      weft_csv_preview_free (p);
      return NULL;
    }
  return p;
}

void
weft_csv_preview_free (WeftCsvPreview *preview)
{
  if (preview == NULL)
    return;
  g_strfreev (preview->column_names);
  g_free (preview->kinds);
  g_free (preview->n_distinct);
  g_free (preview->n_missing);
  g_ptr_array_unref (preview->rows);
  g_free (preview);
}
