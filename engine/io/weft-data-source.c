/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "weft-io"

#include "config.h"

#include "weft-data-source.h"

#include <math.h>
#include <stdarg.h>
#include <string.h>

#include "weft-image-folder.h"
#include "weft-npy.h"

typedef enum { FMT_CSV, FMT_NPY, FMT_NPZ, FMT_IMAGES, FMT_COUNT } Format;
static const char *const format_names[] = { "csv", "npy", "npz", "image-folder" };

typedef enum { NORM_NONE, NORM_STANDARDISE, NORM_MINMAX, NORM_COUNT } Norm;
static const char *const norm_names[] = { "none", "standardise", "min-max" };

typedef enum { PAIR_NONE, PAIR_FIRST, PAIR_SECOND, PAIR_SAME, PAIR_COUNT } Pair;
static const char *const pair_names[] = { "none", "first", "second", "same" };

static const char *const kind_names[] = { "numeric", "categorical", "one-hot", "text" };

typedef struct
{
  char     *name;
  char     *path;          /* as written (relative to the binding's base) */
  char     *resolved;      /* path or URI to open */
  char     *val_path;      /* validation file replacing this one, as written, or NULL */
  char     *val_resolved;
  Format    format;
  gboolean  header;
  int       skip_lines;
  char      separator;     /* 0 = detect */
  gboolean  fill;
  float     fill_value;
} Source;

typedef struct
{
  char        *name;       /* model input or head */
  char        *source;     /* NULL only for pair "same" */
  char        *columns;    /* CSV columns, NPZ array, "images"/"labels"; NULL = default */
  WeftCsvKind  kind;
  int          text_length, text_vocabulary_size;
  char       **vocabulary; /* given or learned */
  int         *vocabulary_index;  /* "classes" mapping, or NULL */
  Norm         norm;
  float       *stat_a, *stat_b;   /* mean/std or min/max */
  int          n_stat;
  Pair         pair;
} Entry;

struct _WeftDataBinding
{
  GPtrArray *sources;      /* Source* */
  GPtrArray *entries;      /* Entry* */
  gboolean   shuffle;
  guint64    seed;
  double     validation_split;   /* -1 = from the training settings */
  Entry     *pair_label;   /* pairs: the label that decides "same", or NULL */
  int64_t    pair_count;
};

static void
source_free (gpointer p)
{
  Source *s = p;
  g_free (s->name);
  g_free (s->path);
  g_free (s->resolved);
  g_free (s->val_path);
  g_free (s->val_resolved);
  g_free (s);
}

static void
entry_free (gpointer p)
{
  Entry *e = p;
  if (e == NULL)
    return;
  g_free (e->name);
  g_free (e->source);
  g_free (e->columns);
  g_strfreev (e->vocabulary);
  g_free (e->vocabulary_index);
  g_free (e->stat_a);
  g_free (e->stat_b);
  g_free (e);
}

static Entry *
entry_new (const char *name)
{
  Entry *e = g_new0 (Entry, 1);
  e->name = g_strdup (name);
  e->text_length = 16;
  e->text_vocabulary_size = 1000;
  return e;
}

WeftDataBinding *
weft_data_binding_new (void)
{
  WeftDataBinding *b = g_new0 (WeftDataBinding, 1);
  b->sources = g_ptr_array_new_with_free_func (source_free);
  b->entries = g_ptr_array_new_with_free_func (entry_free);
  b->shuffle = TRUE;
  b->validation_split = -1;
  return b;
}

void
weft_data_binding_free (WeftDataBinding *binding)
{
  if (binding == NULL)
    return;
  g_ptr_array_unref (binding->sources);
  g_ptr_array_unref (binding->entries);
  entry_free (binding->pair_label);
  g_free (binding);
}

static Entry *
entry_copy (const Entry *e)
{
  if (e == NULL)
    return NULL;
  Entry *c = g_memdup2 (e, sizeof *e);
  c->name = g_strdup (e->name);
  c->source = g_strdup (e->source);
  c->columns = g_strdup (e->columns);
  c->vocabulary = g_strdupv (e->vocabulary);
  c->vocabulary_index = e->vocabulary_index && e->vocabulary
                          ? g_memdup2 (e->vocabulary_index,
                                       sizeof (int) * g_strv_length (e->vocabulary))
                          : NULL;
  c->stat_a = e->stat_a ? g_memdup2 (e->stat_a, sizeof (float) * (gsize) e->n_stat) : NULL;
  c->stat_b = e->stat_b ? g_memdup2 (e->stat_b, sizeof (float) * (gsize) e->n_stat) : NULL;
  return c;
}

WeftDataBinding *
weft_data_binding_copy (const WeftDataBinding *binding)
{
  g_return_val_if_fail (binding != NULL, NULL);
  WeftDataBinding *b = weft_data_binding_new ();
  for (guint i = 0; i < binding->sources->len; i++)
    {
      const Source *s = binding->sources->pdata[i];
      Source *c = g_memdup2 (s, sizeof *s);
      c->name = g_strdup (s->name);
      c->path = g_strdup (s->path);
      c->resolved = g_strdup (s->resolved);
      c->val_path = g_strdup (s->val_path);
      c->val_resolved = g_strdup (s->val_resolved);
      g_ptr_array_add (b->sources, c);
    }
  for (guint i = 0; i < binding->entries->len; i++)
    g_ptr_array_add (b->entries, entry_copy (binding->entries->pdata[i]));
  b->shuffle = binding->shuffle;
  b->seed = binding->seed;
  b->validation_split = binding->validation_split;
  b->pair_label = entry_copy (binding->pair_label);
  b->pair_count = binding->pair_count;
  return b;
}

int
weft_data_binding_n_entries (const WeftDataBinding *binding)
{
  return (int) binding->entries->len;
}

const char *
weft_data_binding_entry_name (const WeftDataBinding *binding, int i)
{
  g_return_val_if_fail (i >= 0 && i < (int) binding->entries->len, NULL);
  return ((Entry *) binding->entries->pdata[i])->name;
}

double
weft_data_binding_get_validation_split (const WeftDataBinding *binding)
{
  return binding->validation_split;
}

static Source *
find_source (const WeftDataBinding *b, const char *name)
{
  for (guint i = 0; i < b->sources->len; i++)
    if (strcmp (((Source *) b->sources->pdata[i])->name, name) == 0)
      return b->sources->pdata[i];
  return NULL;
}

static Entry *
find_entry (const WeftDataBinding *b, const char *name)
{
  for (guint i = 0; i < b->entries->len; i++)
    if (strcmp (((Entry *) b->entries->pdata[i])->name, name) == 0)
      return b->entries->pdata[i];
  return NULL;
}

static int
lookup (const char *const *names, int n, const char *s)
{
  for (int i = 0; i < n; i++)
    if (strcmp (names[i], s) == 0)
      return i;
  return -1;
}

/* ---- paths ---- */

static gboolean
is_uri (const char *s)
{
  const char *c = strstr (s, "://");
  if (c == NULL || c == s)
    return FALSE;
  for (const char *p = s; p < c; p++)
    if (!g_ascii_isalnum (*p) && *p != '+' && *p != '-' && *p != '.')
      return FALSE;
  return TRUE;
}

static char *
resolve_path (const char *base_dir, const char *path)
{
  if (base_dir == NULL || is_uri (path) || g_path_is_absolute (path))
    return g_strdup (path);
  if (is_uri (base_dir))
    {
      g_autoptr (GFile) base = g_file_new_for_uri (base_dir);
      g_autoptr (GFile) f = g_file_resolve_relative_path (base, path);
      return g_file_get_uri (f);
    }
  g_autofree char *abs_base = g_canonicalize_filename (base_dir, NULL);
  return g_canonicalize_filename (path, abs_base);
}

static char *
relative_components (const char *base, const char *path, char sep)
{
  char seps[2] = { sep, 0 };
  g_auto (GStrv) a = g_strsplit (base, seps, -1);
  g_auto (GStrv) b = g_strsplit (path, seps, -1);
  int i = 0;
  while (a[i] && b[i] && b[i + 1] && strcmp (a[i], b[i]) == 0)
    i++;
  GString *r = g_string_new (NULL);
  for (int k = i; a[k]; k++)
    if (a[k][0] != '\0')
      g_string_append_printf (r, "..%c", sep);
  for (int k = i; b[k]; k++)
    {
      g_string_append (r, b[k]);
      if (b[k + 1])
        g_string_append_c (r, sep);
    }
  return g_string_free (r, FALSE);
}

/* path relative to base_dir when both are local, or both URIs of one scheme and host
 * ("../data/x.csv" is fine); otherwise path as it is. */
static char *
relative_path (const char *base_dir, const char *path)
{
  if (base_dir == NULL)
    return g_strdup (path);
  if (is_uri (path) || is_uri (base_dir))
    {
      if (!is_uri (path) || !is_uri (base_dir))
        return g_strdup (path);
      const char *pa = strstr (path, "://") + 3, *pb = strstr (base_dir, "://") + 3;
      const char *sa = strchr (pa, '/'), *sb = strchr (pb, '/');
      if (sa == NULL || sb == NULL || sa - path != sb - base_dir
          || strncmp (path, base_dir, (size_t) (sa - path)) != 0)
        return g_strdup (path);
      return relative_components (sb, sa, '/');
    }
  g_autofree char *abs_base = g_canonicalize_filename (base_dir, NULL);
  g_autofree char *abs_path = g_canonicalize_filename (path, NULL);
  return relative_components (abs_base, abs_path, G_DIR_SEPARATOR);
}

/* ---- JSON ---- */

static gboolean fail (GError **error, const char *format, ...) G_GNUC_PRINTF (2, 3);

static gboolean
fail (GError **error, const char *format, ...)
{
  va_list ap;
  va_start (ap, format);
  char *msg = g_strdup_vprintf (format, ap);
  va_end (ap);
  g_set_error_literal (error, WEFT_IO_ERROR, WEFT_IO_ERROR_FORMAT, msg);
  g_free (msg);
  return FALSE;
}

#define FAIL(...) fail (error, __VA_ARGS__)

static gboolean
check_keys (JsonObject *o, const char *const *allowed, const char *ctx, GError **error)
{
  g_autoptr (GList) members = json_object_get_members (o);
  for (GList *l = members; l; l = l->next)
    if (!g_strv_contains (allowed, l->data))
      return FAIL ("data binding: %s: unknown key '%s'", ctx, (const char *) l->data);
  return TRUE;
}

static gboolean
get_string (JsonObject *o, const char *key, const char *ctx, const char **out, GError **error)
{
  JsonNode *n = json_object_get_member (o, key);
  *out = NULL;
  if (n == NULL || JSON_NODE_HOLDS_NULL (n))
    return TRUE;
  if (!JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_STRING)
    return FAIL ("data binding: %s: '%s' must be a string", ctx, key);
  *out = json_node_get_string (n);
  return TRUE;
}

static gboolean
get_int (JsonObject *o, const char *key, const char *ctx, gint64 lo, gint64 hi, gint64 *out,
         GError **error)
{
  JsonNode *n = json_object_get_member (o, key);
  if (n == NULL || JSON_NODE_HOLDS_NULL (n))
    return TRUE;
  if (!JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_INT64
      || json_node_get_int (n) < lo || json_node_get_int (n) > hi)
    return FAIL ("data binding: %s: '%s' must be an integer in %" G_GINT64_FORMAT "..%"
                 G_GINT64_FORMAT, ctx, key, lo, hi);
  *out = json_node_get_int (n);
  return TRUE;
}

static gboolean
get_number (JsonObject *o, const char *key, const char *ctx, double *out, GError **error)
{
  JsonNode *n = json_object_get_member (o, key);
  if (n == NULL || JSON_NODE_HOLDS_NULL (n))
    return TRUE;
  if (!JSON_NODE_HOLDS_VALUE (n)
      || (json_node_get_value_type (n) != G_TYPE_INT64
          && json_node_get_value_type (n) != G_TYPE_DOUBLE)
      || !isfinite (json_node_get_double (n)))
    return FAIL ("data binding: %s: '%s' must be a number", ctx, key);
  *out = json_node_get_double (n);
  return TRUE;
}

static gboolean
get_bool (JsonObject *o, const char *key, const char *ctx, gboolean *out, GError **error)
{
  JsonNode *n = json_object_get_member (o, key);
  if (n == NULL || JSON_NODE_HOLDS_NULL (n))
    return TRUE;
  if (!JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_BOOLEAN)
    return FAIL ("data binding: %s: '%s' must be true or false", ctx, key);
  *out = json_node_get_boolean (n);
  return TRUE;
}

static gboolean
get_choice (JsonObject *o, const char *key, const char *ctx, const char *const *names, int n,
            int *out, GError **error)
{
  const char *s;
  if (!get_string (o, key, ctx, &s, error))
    return FALSE;
  if (s == NULL)
    return TRUE;
  int k = lookup (names, n, s);
  if (k < 0)
    {
      GString *list = g_string_new (NULL);
      for (int i = 0; i < n; i++)
        g_string_append_printf (list, "%s%s", i ? ", " : "", names[i]);
      fail (error, "data binding: %s: '%s' must be one of %s, not '%s'", ctx, key, list->str,
            s);
      g_string_free (list, TRUE);
      return FALSE;
    }
  *out = k;
  return TRUE;
}

static gboolean
get_floats (JsonObject *o, const char *key, const char *ctx, float **out, int *n_out,
            GError **error)
{
  JsonNode *n = json_object_get_member (o, key);
  if (n == NULL || !JSON_NODE_HOLDS_ARRAY (n))
    return FAIL ("data binding: %s: '%s' must be an array of numbers", ctx, key);
  JsonArray *a = json_node_get_array (n);
  int len = (int) json_array_get_length (a);
  float *v = g_new (float, MAX (len, 1));
  for (int i = 0; i < len; i++)
    {
      JsonNode *x = json_array_get_element (a, (guint) i);
      if (!JSON_NODE_HOLDS_VALUE (x)
          || (json_node_get_value_type (x) != G_TYPE_INT64
              && json_node_get_value_type (x) != G_TYPE_DOUBLE)
          || !isfinite (json_node_get_double (x)))
        {
          g_free (v);
          return FAIL ("data binding: %s: '%s'[%d] is not a finite number", ctx, key, i);
        }
      v[i] = (float) json_node_get_double (x);
    }
  if (*n_out >= 0 && *n_out != len)
    {
      g_free (v);
      return FAIL ("data binding: %s: '%s' has %d values, expected %d", ctx, key, len,
                   *n_out);
    }
  *n_out = len;
  *out = v;
  return TRUE;
}

static gboolean
entry_from_json (Entry *e, JsonObject *o, const char *ctx, gboolean label_only,
                 GError **error)
{
  static const char *const keys[] = { "source", "columns", "type", "vocabulary", "classes",
                                      "length", "vocabulary_size", "normalise", "statistics",
                                      "pair", NULL };
  const char *s;
  gint64 v;
  int k;
  if (!check_keys (o, keys, ctx, error))
    return FALSE;
  if (!get_string (o, "source", ctx, &s, error))
    return FALSE;
  e->source = g_strdup (s);
  if (!get_string (o, "columns", ctx, &s, error))
    return FALSE;
  e->columns = g_strdup (s);
  k = e->kind;
  if (!get_choice (o, "type", ctx, kind_names, 4, &k, error))
    return FALSE;
  e->kind = k;
  v = e->text_length;
  if (!get_int (o, "length", ctx, 1, WEFT_CSV_MAX_TEXT_LENGTH, &v, error))
    return FALSE;
  e->text_length = (int) v;
  v = e->text_vocabulary_size;
  if (!get_int (o, "vocabulary_size", ctx, 3, 1 << 24, &v, error))
    return FALSE;
  e->text_vocabulary_size = (int) v;
  k = e->norm;
  if (!get_choice (o, "normalise", ctx, norm_names, NORM_COUNT, &k, error))
    return FALSE;
  e->norm = k;
  k = e->pair;
  if (!get_choice (o, "pair", ctx, pair_names, PAIR_COUNT, &k, error))
    return FALSE;
  e->pair = k;
  if (label_only && e->pair != PAIR_NONE)
    return FAIL ("data binding: %s: the pair label takes no 'pair'", ctx);

  JsonNode *voc = json_object_get_member (o, "vocabulary");
  JsonNode *cls = json_object_get_member (o, "classes");
  if (voc != NULL && cls != NULL)
    return FAIL ("data binding: %s: give 'vocabulary' or 'classes', not both", ctx);
  if (voc != NULL)
    {
      if (!JSON_NODE_HOLDS_ARRAY (voc))
        return FAIL ("data binding: %s: 'vocabulary' must be an array of strings", ctx);
      JsonArray *a = json_node_get_array (voc);
      guint n = json_array_get_length (a);
      e->vocabulary = g_new0 (char *, n + 1);
      for (guint i = 0; i < n; i++)
        {
          JsonNode *x = json_array_get_element (a, i);
          if (!JSON_NODE_HOLDS_VALUE (x) || json_node_get_value_type (x) != G_TYPE_STRING)
            return FAIL ("data binding: %s: 'vocabulary'[%u] is not a string", ctx, i);
          e->vocabulary[i] = g_strdup (json_node_get_string (x));
        }
    }
  if (cls != NULL)
    {
      if (!JSON_NODE_HOLDS_OBJECT (cls))
        return FAIL ("data binding: %s: 'classes' must map values to class indices", ctx);
      JsonObject *co = json_node_get_object (cls);
      g_autoptr (GList) members = json_object_get_members (co);
      guint n = g_list_length (members), i = 0;
      e->vocabulary = g_new0 (char *, n + 1);
      e->vocabulary_index = g_new0 (int, MAX (n, 1));
      for (GList *l = members; l; l = l->next, i++)
        {
          gint64 idx = -1;
          if (!get_int (co, l->data, ctx, 0, WEFT_CSV_MAX_CATEGORIES - 1, &idx, error))
            return FALSE;
          e->vocabulary[i] = g_strdup (l->data);
          e->vocabulary_index[i] = (int) idx;
        }
      if (e->kind == WEFT_CSV_NUMERIC)
        e->kind = WEFT_CSV_CATEGORY_INDEX;
    }
  JsonNode *st = json_object_get_member (o, "statistics");
  if (st != NULL && !JSON_NODE_HOLDS_NULL (st))
    {
      if (!JSON_NODE_HOLDS_OBJECT (st) || e->norm == NORM_NONE)
        return FAIL ("data binding: %s: 'statistics' must be an object and needs "
                     "'normalise'", ctx);
      JsonObject *so = json_node_get_object (st);
      const char *a = e->norm == NORM_STANDARDISE ? "mean" : "min";
      const char *b = e->norm == NORM_STANDARDISE ? "std" : "max";
      const char *const skeys[] = { a, b, NULL };
      g_autofree char *sctx = g_strdup_printf ("%s: statistics", ctx);
      e->n_stat = -1;
      if (!check_keys (so, skeys, sctx, error)
          || !get_floats (so, a, sctx, &e->stat_a, &e->n_stat, error)
          || !get_floats (so, b, sctx, &e->stat_b, &e->n_stat, error))
        return FALSE;
    }
  if (e->pair == PAIR_SAME)
    {
      if (e->source != NULL)
        return FAIL ("data binding: %s: a 'same' pair target takes no source", ctx);
    }
  else if (e->source == NULL)
    return FAIL ("data binding: %s: 'source' is missing", ctx);
  return TRUE;
}

static gboolean
source_from_json (Source *s, JsonObject *o, const char *base_dir, const char *ctx,
                  GError **error)
{
  static const char *const keys[] = { "path", "format", "header", "skip_lines", "separator",
                                      "fill_value", "validation_path", NULL };
  const char *str;
  if (!check_keys (o, keys, ctx, error) || !get_string (o, "path", ctx, &str, error))
    return FALSE;
  if (str == NULL || str[0] == '\0')
    return FAIL ("data binding: %s: 'path' is missing", ctx);
  s->path = g_strdup (str);
  s->resolved = resolve_path (base_dir, str);
  int fmt = -1;
  if (!get_choice (o, "format", ctx, format_names, FMT_COUNT, &fmt, error))
    return FALSE;
  if (fmt < 0)
    return FAIL ("data binding: %s: 'format' is missing (csv, npy, npz or image-folder)", ctx);
  s->format = fmt;
  gint64 v = 0;
  if (!get_bool (o, "header", ctx, &s->header, error)
      || !get_int (o, "skip_lines", ctx, 0, G_MAXINT, &v, error))
    return FALSE;
  s->skip_lines = (int) v;
  if (!get_string (o, "separator", ctx, &str, error))
    return FALSE;
  if (str != NULL)
    {
      if (strcmp (str, ",") == 0 || strcmp (str, ";") == 0 || strcmp (str, "\t") == 0
          || strcmp (str, " ") == 0)
        s->separator = str[0];
      else if (strcmp (str, "auto") != 0)
        return FAIL ("data binding: %s: 'separator' must be \",\", \";\", \"\\t\", \" \" "
                     "(blanks) or \"auto\"", ctx);
    }
  if (json_object_has_member (o, "fill_value"))
    {
      double f = 0;
      if (!get_number (o, "fill_value", ctx, &f, error))
        return FALSE;
      s->fill = TRUE;
      s->fill_value = (float) f;
    }
  if (!get_string (o, "validation_path", ctx, &str, error))
    return FALSE;
  if (str != NULL)
    {
      s->val_path = g_strdup (str);
      s->val_resolved = resolve_path (base_dir, str);
    }
  return TRUE;
}

WeftDataBinding *
weft_data_binding_from_json (JsonNode *node, const char *base_dir, GError **error)
{
  static const char *const keys[] = { "sources", "feeds", "pairs", "shuffle", "seed",
                                      "validation_split", NULL };
  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    {
      FAIL ("data binding: must be a JSON object");
      return NULL;
    }
  JsonObject *o = json_node_get_object (node);
  g_autoptr (WeftDataBinding) b = weft_data_binding_new ();
  if (!check_keys (o, keys, "data", error))
    return NULL;
  JsonNode *src = json_object_get_member (o, "sources");
  JsonNode *feeds = json_object_get_member (o, "feeds");
  if (src == NULL || !JSON_NODE_HOLDS_OBJECT (src) || feeds == NULL
      || !JSON_NODE_HOLDS_OBJECT (feeds))
    {
      FAIL ("data binding: 'sources' and 'feeds' must be objects");
      return NULL;
    }
  JsonObject *so = json_node_get_object (src);
  g_autoptr (GList) snames = json_object_get_members (so);
  for (GList *l = snames; l; l = l->next)
    {
      g_autofree char *ctx = g_strdup_printf ("source '%s'", (const char *) l->data);
      JsonNode *n = json_object_get_member (so, l->data);
      if (!JSON_NODE_HOLDS_OBJECT (n))
        {
          FAIL ("data binding: %s must be an object", ctx);
          return NULL;
        }
      Source *s = g_new0 (Source, 1);
      s->name = g_strdup (l->data);
      g_ptr_array_add (b->sources, s);
      if (!source_from_json (s, json_node_get_object (n), base_dir, ctx, error))
        return NULL;
    }
  JsonObject *fo = json_node_get_object (feeds);
  g_autoptr (GList) fnames = json_object_get_members (fo);
  for (GList *l = fnames; l; l = l->next)
    {
      g_autofree char *ctx = g_strdup_printf ("feed '%s'", (const char *) l->data);
      JsonNode *n = json_object_get_member (fo, l->data);
      if (!JSON_NODE_HOLDS_OBJECT (n))
        {
          FAIL ("data binding: %s must be an object", ctx);
          return NULL;
        }
      Entry *e = entry_new (l->data);
      g_ptr_array_add (b->entries, e);
      if (!entry_from_json (e, json_node_get_object (n), ctx, FALSE, error))
        return NULL;
      if (e->source != NULL && find_source (b, e->source) == NULL)
        {
          FAIL ("data binding: %s: no source named '%s'", ctx, e->source);
          return NULL;
        }
    }
  JsonNode *pairs = json_object_get_member (o, "pairs");
  if (pairs != NULL)
    {
      static const char *const pkeys[] = { "label", "count", NULL };
      if (!JSON_NODE_HOLDS_OBJECT (pairs))
        {
          FAIL ("data binding: 'pairs' must be an object");
          return NULL;
        }
      JsonObject *po = json_node_get_object (pairs);
      JsonNode *label = json_object_get_member (po, "label");
      gint64 count = 0;
      if (!check_keys (po, pkeys, "pairs", error)
          || !get_int (po, "count", "pairs", 2, G_MAXINT32, &count, error))
        return NULL;
      if (label == NULL || !JSON_NODE_HOLDS_OBJECT (label) || count == 0)
        {
          FAIL ("data binding: 'pairs' needs a 'label' object and a 'count'");
          return NULL;
        }
      b->pair_label = entry_new ("pair label");
      b->pair_count = count;
      if (!entry_from_json (b->pair_label, json_node_get_object (label), "pairs: label", TRUE,
                            error))
        return NULL;
      if (find_source (b, b->pair_label->source) == NULL)
        {
          FAIL ("data binding: pairs: label: no source named '%s'", b->pair_label->source);
          return NULL;
        }
    }
  gint64 seed = 0;
  double split = -1;
  if (!get_bool (o, "shuffle", "data", &b->shuffle, error)
      || !get_int (o, "seed", "data", 0, G_MAXINT64, &seed, error)
      || !get_number (o, "validation_split", "data", &split, error))
    return NULL;
  if (json_object_has_member (o, "validation_split") && !(split >= 0 && split < 1))
    {
      FAIL ("data binding: 'validation_split' must be in [0, 1), not %g", split);
      return NULL;
    }
  b->seed = (guint64) seed;
  b->validation_split = split;
  for (guint i = 0; i < b->entries->len; i++)
    {
      Entry *e = b->entries->pdata[i];
      if ((e->pair != PAIR_NONE) != (b->pair_label != NULL))
        {
          FAIL ("data binding: feed '%s': %s", e->name,
                b->pair_label ? "with 'pairs' every feed needs 'pair' (first, second or same)"
                              : "'pair' needs a 'pairs' object (label and count)");
          return NULL;
        }
    }
  return g_steal_pointer (&b);
}

static void
add_floats (JsonBuilder *jb, const char *key, const float *v, int n)
{
  json_builder_set_member_name (jb, key);
  json_builder_begin_array (jb);
  for (int i = 0; i < n; i++)
    json_builder_add_double_value (jb, (double) v[i]);
  json_builder_end_array (jb);
}

static void
entry_to_json (JsonBuilder *jb, const Entry *e)
{
  json_builder_begin_object (jb);
  if (e->source)
    {
      json_builder_set_member_name (jb, "source");
      json_builder_add_string_value (jb, e->source);
    }
  if (e->columns)
    {
      json_builder_set_member_name (jb, "columns");
      json_builder_add_string_value (jb, e->columns);
    }
  if (e->kind != WEFT_CSV_NUMERIC)
    {
      json_builder_set_member_name (jb, "type");
      json_builder_add_string_value (jb, kind_names[e->kind]);
    }
  if (e->kind == WEFT_CSV_TEXT)
    {
      json_builder_set_member_name (jb, "length");
      json_builder_add_int_value (jb, e->text_length);
      json_builder_set_member_name (jb, "vocabulary_size");
      json_builder_add_int_value (jb, e->text_vocabulary_size);
    }
  if (e->vocabulary != NULL && e->vocabulary_index != NULL)
    {
      json_builder_set_member_name (jb, "classes");
      json_builder_begin_object (jb);
      for (int i = 0; e->vocabulary[i]; i++)
        {
          json_builder_set_member_name (jb, e->vocabulary[i]);
          json_builder_add_int_value (jb, e->vocabulary_index[i]);
        }
      json_builder_end_object (jb);
    }
  else if (e->vocabulary != NULL)
    {
      json_builder_set_member_name (jb, "vocabulary");
      json_builder_begin_array (jb);
      for (int i = 0; e->vocabulary[i]; i++)
        json_builder_add_string_value (jb, e->vocabulary[i]);
      json_builder_end_array (jb);
    }
  if (e->norm != NORM_NONE)
    {
      json_builder_set_member_name (jb, "normalise");
      json_builder_add_string_value (jb, norm_names[e->norm]);
      if (e->stat_a != NULL)
        {
          json_builder_set_member_name (jb, "statistics");
          json_builder_begin_object (jb);
          add_floats (jb, e->norm == NORM_STANDARDISE ? "mean" : "min", e->stat_a, e->n_stat);
          add_floats (jb, e->norm == NORM_STANDARDISE ? "std" : "max", e->stat_b, e->n_stat);
          json_builder_end_object (jb);
        }
    }
  if (e->pair != PAIR_NONE)
    {
      json_builder_set_member_name (jb, "pair");
      json_builder_add_string_value (jb, pair_names[e->pair]);
    }
  json_builder_end_object (jb);
}

JsonNode *
weft_data_binding_to_json (const WeftDataBinding *binding, const char *base_dir)
{
  g_return_val_if_fail (binding != NULL, NULL);
  g_autoptr (JsonBuilder) jb = json_builder_new ();
  json_builder_begin_object (jb);
  json_builder_set_member_name (jb, "sources");
  json_builder_begin_object (jb);
  for (guint i = 0; i < binding->sources->len; i++)
    {
      const Source *s = binding->sources->pdata[i];
      json_builder_set_member_name (jb, s->name);
      json_builder_begin_object (jb);
      g_autofree char *p = base_dir ? relative_path (base_dir, s->resolved) : g_strdup (s->path);
      json_builder_set_member_name (jb, "path");
      json_builder_add_string_value (jb, p);
      json_builder_set_member_name (jb, "format");
      json_builder_add_string_value (jb, format_names[s->format]);
      if (s->format == FMT_CSV)
        {
          char sep[2] = { s->separator, 0 };
          json_builder_set_member_name (jb, "header");
          json_builder_add_boolean_value (jb, s->header);
          json_builder_set_member_name (jb, "skip_lines");
          json_builder_add_int_value (jb, s->skip_lines);
          json_builder_set_member_name (jb, "separator");
          json_builder_add_string_value (jb, s->separator ? sep : "auto");
          if (s->fill)
            {
              json_builder_set_member_name (jb, "fill_value");
              json_builder_add_double_value (jb, s->fill_value);
            }
        }
      if (s->val_path != NULL)
        {
          g_autofree char *vp = base_dir ? relative_path (base_dir, s->val_resolved)
                                         : g_strdup (s->val_path);
          json_builder_set_member_name (jb, "validation_path");
          json_builder_add_string_value (jb, vp);
        }
      json_builder_end_object (jb);
    }
  json_builder_end_object (jb);
  json_builder_set_member_name (jb, "feeds");
  json_builder_begin_object (jb);
  for (guint i = 0; i < binding->entries->len; i++)
    {
      const Entry *e = binding->entries->pdata[i];
      json_builder_set_member_name (jb, e->name);
      entry_to_json (jb, e);
    }
  json_builder_end_object (jb);
  if (binding->pair_label != NULL)
    {
      json_builder_set_member_name (jb, "pairs");
      json_builder_begin_object (jb);
      json_builder_set_member_name (jb, "label");
      entry_to_json (jb, binding->pair_label);
      json_builder_set_member_name (jb, "count");
      json_builder_add_int_value (jb, binding->pair_count);
      json_builder_end_object (jb);
    }
  json_builder_set_member_name (jb, "shuffle");
  json_builder_add_boolean_value (jb, binding->shuffle);
  json_builder_set_member_name (jb, "seed");
  json_builder_add_int_value (jb, (gint64) binding->seed);
  if (binding->validation_split >= 0)
    {
      json_builder_set_member_name (jb, "validation_split");
      json_builder_add_double_value (jb, binding->validation_split);
    }
  json_builder_end_object (jb);
  return json_builder_get_root (jb);
}

static char *
dir_of (const char *path)
{
  if (is_uri (path))
    {
      g_autoptr (GFile) f = g_file_new_for_uri (path);
      g_autoptr (GFile) parent = g_file_get_parent (f);
      return parent ? g_file_get_uri (parent) : g_strdup (path);
    }
  g_autofree char *abs = g_canonicalize_filename (path, NULL);
  return g_path_get_dirname (abs);
}

static JsonParser *
parse_file (const char *path, GError **error)
{
  g_autoptr (GFile) f = is_uri (path) ? g_file_new_for_uri (path) : g_file_new_for_path (path);
  g_autofree char *text = NULL;
  gsize len = 0;
  g_autoptr (GError) local = NULL;
  if (!g_file_load_contents (f, NULL, &text, &len, NULL, &local))
    {
      g_set_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_IO, "%s: %s", path, local->message);
      return NULL;
    }
  JsonParser *p = json_parser_new ();
  if (!json_parser_load_from_data (p, text, (gssize) len, &local))
    {
      g_set_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_FORMAT, "%s: %s", path, local->message);
      g_object_unref (p);
      return NULL;
    }
  return p;
}

WeftDataBinding *
weft_data_binding_read_file (const char *path, GError **error)
{
  g_autoptr (JsonParser) p = parse_file (path, error);
  if (p == NULL)
    return NULL;
  g_autofree char *dir = dir_of (path);
  g_autoptr (GError) local = NULL;
  WeftDataBinding *b = weft_data_binding_from_json (json_parser_get_root (p), dir, &local);
  if (b == NULL)
    g_set_error (error, WEFT_IO_ERROR, local->code, "%s: %s", path, local->message);
  return b;
}

WeftDataBinding *
weft_data_binding_from_weft_file (const char *path, GError **error)
{
  g_autoptr (JsonParser) p = parse_file (path, error);
  if (p == NULL)
    return NULL;
  JsonNode *root = json_parser_get_root (p);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    return NULL;
  JsonObject *o = json_node_get_object (root);
  g_autofree char *dir = dir_of (path);
  g_autoptr (GError) local = NULL;
  WeftDataBinding *b = NULL;
  if (json_object_has_member (o, "data"))
    b = weft_data_binding_from_json (json_object_get_member (o, "data"), dir, &local);
  else if (json_object_has_member (o, "training"))
    {
      /* training.data may name a binding file beside the .weft */
      JsonNode *t = json_object_get_member (o, "training");
      JsonNode *d = JSON_NODE_HOLDS_OBJECT (t)
                      ? json_object_get_member (json_node_get_object (t), "data") : NULL;
      if (d != NULL && JSON_NODE_HOLDS_VALUE (d)
          && json_node_get_value_type (d) == G_TYPE_STRING
          && g_str_has_suffix (json_node_get_string (d), ".json"))
        {
          g_autofree char *bp = resolve_path (dir, json_node_get_string (d));
          return weft_data_binding_read_file (bp, error);
        }
      return NULL;
    }
  else
    return NULL;
  if (b == NULL)
    g_set_error (error, WEFT_IO_ERROR, local->code, "%s: %s", path, local->message);
  return b;
}

/* ---- command-line entries ---- */

static gboolean
parse_sep (const char *v, char *out)
{
  static const char *const names[] = { "comma", "semicolon", "tab", "space", "auto", ",", ";" };
  static const char seps[] = { ',', ';', '\t', ' ', 0, ',', ';' };
  int k = lookup (names, G_N_ELEMENTS (names), v);
  if (k < 0)
    return FALSE;
  *out = seps[k];
  return TRUE;
}

gboolean
weft_data_binding_add_spec (WeftDataBinding *b, const char *spec, GError **error)
{
  g_return_val_if_fail (b != NULL && spec != NULL, FALSE);
  const char *eq = strchr (spec, '=');
  if (eq == NULL || eq == spec || eq[1] == '\0')
    {
      g_set_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_FORMAT,
                   "--data %s: expected NAME=FILE[:COLUMNS][:KEY=VALUE]...", spec);
      return FALSE;
    }
  g_autofree char *name = g_strndup (spec, (gsize) (eq - spec));
  const char *rest = eq + 1;
  if (strcmp (name, "seed") == 0 || strcmp (name, "shuffle") == 0)
    {
      if (strcmp (name, "shuffle") == 0)
        {
          if (strcmp (rest, "yes") != 0 && strcmp (rest, "no") != 0)
            return FAIL ("--data %s: shuffle takes yes or no", spec);
          b->shuffle = strcmp (rest, "yes") == 0;
          return TRUE;
        }
      char *end;
      guint64 v = g_ascii_strtoull (rest, &end, 10);
      if (*end != '\0')
        return FAIL ("--data %s: the seed must be a non-negative integer", spec);
      b->seed = v;
      return TRUE;
    }
  if (strcmp (name, "validation") == 0)
    {
      char *end;
      double v = g_ascii_strtod (rest, &end);
      if (*end == '\0')
        {
          if (!(v >= 0 && v < 1))
            return FAIL ("--data %s: the validation fraction must be in [0, 1)", spec);
          b->validation_split = v;
          return TRUE;
        }
      if (b->sources->len != 1)
        return FAIL ("--data %s: give the validation file after the one training file it "
                     "replaces (the binding has %u sources)", spec, b->sources->len);
      Source *s = b->sources->pdata[0];
      g_free (s->val_path);
      g_free (s->val_resolved);
      s->val_path = g_strdup (rest);
      s->val_resolved = g_canonicalize_filename (rest, NULL);
      return TRUE;
    }
  if (find_entry (b, name) != NULL)
    return FAIL ("--data %s: '%s' is fed twice", spec, name);

  /* FILE runs to the first ':' (a URI's "scheme://" is part of it) */
  const char *scan = rest;
  if (is_uri (rest))
    scan = strstr (rest, "://") + 3;
  g_auto (GStrv) parts = NULL;
  g_autofree char *file = NULL;
  const char *colon = strchr (scan, ':');
  file = colon ? g_strndup (rest, (gsize) (colon - rest)) : g_strdup (rest);
  parts = colon ? g_strsplit (colon + 1, ":", -1) : g_new0 (char *, 1);
  if (file[0] == '\0')
    return FAIL ("--data %s: the file name is empty", spec);

  Format fmt;
  g_autofree char *lower = g_ascii_strdown (file, -1);
  if (g_str_has_suffix (lower, ".npy"))
    fmt = FMT_NPY;
  else if (g_str_has_suffix (lower, ".npz"))
    fmt = FMT_NPZ;
  else if (g_file_test (file, G_FILE_TEST_IS_DIR))
    fmt = FMT_IMAGES;
  else
    fmt = FMT_CSV;

  Entry *e = entry_new (name);
  g_autoptr (GPtrArray) hold = g_ptr_array_new_with_free_func (entry_free);
  g_ptr_array_add (hold, e);
  gboolean header = FALSE, header_set = FALSE, fill = FALSE;
  int skip = -1;
  char sep = 0;
  gboolean sep_set = FALSE;
  float fill_value = 0;
  for (int i = 0; parts[i] != NULL; i++)
    {
      const char *p = parts[i];
      const char *peq = strchr (p, '=');
      if (peq == NULL)
        {
          if (i != 0)
            return FAIL ("--data %s: '%s' is not KEY=VALUE (columns come right after the "
                         "file)", spec, p);
          e->columns = g_strdup (p);
          continue;
        }
      g_autofree char *key = g_strndup (p, (gsize) (peq - p));
      const char *val = peq + 1;
      char *end = NULL;
      if (strcmp (key, "type") == 0)
        {
          int k = lookup (kind_names, 4, val);
          if (k < 0)
            return FAIL ("--data %s: type must be numeric, categorical, one-hot or text",
                         spec);
          e->kind = k;
        }
      else if (strcmp (key, "normalise") == 0 || strcmp (key, "normalize") == 0)
        {
          int k = lookup (norm_names, NORM_COUNT, val);
          if (k < 0)
            return FAIL ("--data %s: normalise must be none, standardise or min-max", spec);
          e->norm = k;
        }
      else if (strcmp (key, "length") == 0 || strcmp (key, "vocabulary") == 0
               || strcmp (key, "skip") == 0)
        {
          gint64 v = g_ascii_strtoll (val, &end, 10);
          if (*val == '\0' || *end != '\0' || v < 0 || v > (1 << 24))
            return FAIL ("--data %s: %s must be a non-negative integer", spec, key);
          if (strcmp (key, "length") == 0)
            e->text_length = (int) v;
          else if (strcmp (key, "vocabulary") == 0)
            e->text_vocabulary_size = (int) v;
          else
            skip = (int) v;
          if ((strcmp (key, "length") == 0 && (v < 1 || v > WEFT_CSV_MAX_TEXT_LENGTH))
              || (strcmp (key, "vocabulary") == 0 && v < 3))
            return FAIL ("--data %s: length must be 1..%d and vocabulary at least 3", spec,
                         WEFT_CSV_MAX_TEXT_LENGTH);
        }
      else if (strcmp (key, "header") == 0)
        {
          if (strcmp (val, "yes") != 0 && strcmp (val, "no") != 0)
            return FAIL ("--data %s: header takes yes or no", spec);
          header = strcmp (val, "yes") == 0;
          header_set = TRUE;
        }
      else if (strcmp (key, "sep") == 0)
        {
          if (!parse_sep (val, &sep))
            return FAIL ("--data %s: sep must be comma, semicolon, tab, space or auto", spec);
          sep_set = TRUE;
        }
      else if (strcmp (key, "fill") == 0)
        {
          double v = g_ascii_strtod (val, &end);
          if (*val == '\0' || *end != '\0' || !isfinite (v))
            return FAIL ("--data %s: fill must be a number", spec);
          fill = TRUE;
          fill_value = (float) v;
        }
      else
        return FAIL ("--data %s: unknown key '%s' (type, normalise, length, vocabulary, "
                     "header, skip, sep, fill)", spec, key);
    }

  g_autofree char *resolved = g_canonicalize_filename (file, NULL);
  Source *s = NULL;
  for (guint i = 0; i < b->sources->len && s == NULL; i++)
    if (strcmp (((Source *) b->sources->pdata[i])->resolved, resolved) == 0)
      s = b->sources->pdata[i];
  if (s == NULL)
    {
      s = g_new0 (Source, 1);
      g_autofree char *base = g_path_get_basename (file);
      char *dot = strchr (base, '.');
      if (dot != NULL && dot != base)
        *dot = '\0';
      s->name = g_strdup (base);
      for (int k = 2; find_source (b, s->name) != NULL; k++)
        {
          g_free (s->name);
          s->name = g_strdup_printf ("%s_%d", base, k);
        }
      s->path = g_strdup (file);
      s->resolved = g_steal_pointer (&resolved);
      s->format = fmt;
      s->skip_lines = MAX (skip, 0);
      s->header = header;
      s->separator = sep;
      s->fill = fill;
      s->fill_value = fill_value;
      g_ptr_array_add (b->sources, s);
    }
  else
    {
      if (skip >= 0)
        s->skip_lines = skip;
      if (header_set)
        s->header = header;
      if (sep_set)
        s->separator = sep;
      if (fill)
        {
          s->fill = TRUE;
          s->fill_value = fill_value;
        }
    }
  e->source = g_strdup (s->name);
  g_ptr_array_steal_index (hold, 0);
  g_ptr_array_add (b->entries, e);
  return TRUE;
}

/* ---- loading ---- */

/* One feed's values as loaded: rows x width floats (per-sample shape when known). */
typedef struct
{
  float    *data;
  int64_t   rows;
  int       width;
  WeftShape shape;          /* rank 0 = just width */
  char     *what;           /* "digits.csv.gz columns 0-63" for messages */
} Loaded;

typedef struct
{
  WeftId     model;
  int        n_in, n_out;
  char     **in_names, **out_names;
  WeftShape *in_shapes, *out_shapes;
  int       *target_width;
  WeftLoss  *losses;
} Model;

static void
model_clear (Model *m)
{
  g_free (m->in_names);
  g_free (m->out_names);
  g_free (m->in_shapes);
  g_free (m->out_shapes);
  g_free (m->target_width);
  g_free (m->losses);
}

static gboolean
model_read (WeftGraph *g, Model *m, GError **error)
{
  memset (m, 0, sizeof *m);
  weft_graph_analyse (g);
  m->model = weft_graph_get_main_model (g);
  if (m->model == WEFT_ID_NONE)
    return FAIL ("the graph has no main model");
  m->n_in = weft_graph_model_n_inputs (g, m->model);
  m->n_out = weft_graph_model_n_outputs (g, m->model);
  m->in_names = g_new0 (char *, m->n_in + 1);
  m->out_names = g_new0 (char *, m->n_out + 1);
  m->in_shapes = g_new0 (WeftShape, MAX (m->n_in, 1));
  m->out_shapes = g_new0 (WeftShape, MAX (m->n_out, 1));
  m->target_width = g_new0 (int, MAX (m->n_out, 1));
  m->losses = g_new0 (WeftLoss, MAX (m->n_out, 1));
  for (int i = 0; i < m->n_in; i++)
    {
      m->in_names[i] = (char *) weft_graph_model_input_name (g, m->model, i);
      if (!weft_graph_node_shape (g, weft_graph_model_input (g, m->model, i), 0,
                                  &m->in_shapes[i]))
        return FAIL ("the shape of input '%s' is unknown (is the graph valid?)",
                     m->in_names[i]);
    }
  for (int j = 0; j < m->n_out; j++)
    {
      const WeftHead *h = weft_graph_model_output (g, m->model, j);
      m->out_names[j] = (char *) weft_graph_model_output_name (g, m->model, j);
      if (!weft_graph_node_shape (g, h->node, h->port, &m->out_shapes[j]))
        return FAIL ("the shape of head '%s' is unknown (is the graph valid?)",
                     m->out_names[j]);
      int width = (int) weft_shape_size (&m->out_shapes[j]);
      int classes = m->out_shapes[j].rank > 0
                      ? m->out_shapes[j].dims[m->out_shapes[j].rank - 1] : 1;
      m->losses[j] = h->loss;
      m->target_width[j] = weft_loss_target_width (h->loss, width, classes);
    }
  return TRUE;
}

static void
loaded_clear (Loaded *l)
{
  g_free (l->data);
  g_free (l->what);
  memset (l, 0, sizeof *l);
}

static const char *
display_name (const char *path)
{
  const char *slash = strrchr (path, '/');
  return slash && slash[1] ? slash + 1 : path;
}

/* Loads what every entry of one source needs. out[i] for entries[i] (NULL = not of this
 * source); label: the pairs label when it reads this source. */
static gboolean
load_source (WeftDataBinding *b, const Source *s, gboolean validation, const Model *m,
             Entry **entries, int n, Loaded *out, gboolean fit, WeftCsvProgressFunc progress,
             gpointer progress_data, GError **error)
{
  const char *path = validation ? s->val_resolved : s->resolved;
  const char *shown = display_name (path);
  switch (s->format)
    {
    case FMT_CSV:
      {
        g_autoptr (WeftCsvOptions) o = weft_csv_options_new ();
        o->header = s->header;
        o->skip_lines = s->skip_lines;
        o->separator = s->separator;
        o->missing = s->fill ? WEFT_CSV_MISSING_FILL : WEFT_CSV_MISSING_ERROR;
        o->fill_value = s->fill_value;
        o->progress = progress;
        o->progress_data = progress_data;
        for (int i = 0; i < n; i++)
          {
            Entry *e = entries[i];
            if (e == NULL)
              continue;
            if (e->columns == NULL)
              return FAIL ("%s: feed '%s' names no columns", shown, e->name);
            WeftCsvArraySpec *a = weft_csv_options_add_array (o, e->name);
            WeftCsvField *f = weft_csv_array_add_field (a, e->columns, e->kind);
            f->text_length = e->text_length;
            f->text_vocabulary_size = e->text_vocabulary_size;
            /* learned vocabularies are kept; validation data always uses them */
            gboolean keep = e->vocabulary != NULL
                            && (validation || e->vocabulary_index != NULL || !fit);
            if (keep)
              {
                f->vocabulary = g_strdupv (e->vocabulary);
                if (e->vocabulary_index)
                  f->vocabulary_index = g_memdup2 (e->vocabulary_index,
                                                   sizeof (int) * g_strv_length (e->vocabulary));
              }
          }
        g_autoptr (WeftCsvTable) t = weft_csv_read (path, o, error);
        if (t == NULL)
          return FALSE;
        for (int i = 0, a = 0; i < n; i++)
          {
            Entry *e = entries[i];
            if (e == NULL)
              continue;
            WeftCsvArray *ca = t->arrays->pdata[a++];
            out[i].data = g_steal_pointer (&ca->data);
            out[i].rows = t->n_rows;
            out[i].width = ca->dims[0];
            out[i].what = g_strdup_printf ("%s columns %s", shown, e->columns);
            char **voc = ca->vocabularies->pdata[0];
            if (voc != NULL && e->vocabulary_index == NULL && !validation)
              {
                g_strfreev (e->vocabulary);
                e->vocabulary = g_strdupv (voc);
              }
          }
        return TRUE;
      }
    case FMT_NPY:
    case FMT_NPZ:
      {
        g_autoptr (GPtrArray) arrays = NULL;
        WeftNpyArray single = { 0 };
        if (s->format == FMT_NPY)
          {
            if (!weft_npy_read (path, &single, error))
              return FALSE;
          }
        else if ((arrays = weft_npz_read (path, error)) == NULL)
          return FALSE;
        gboolean ok = TRUE;
        for (int i = 0; i < n && ok; i++)
          {
            Entry *e = entries[i];
            if (e == NULL)
              continue;
            WeftNpyArray *a = &single;
            if (s->format == FMT_NPZ)
              {
                const char *want = e->columns ? e->columns : e->name;
                a = weft_npz_find (arrays, want);
                if (a == NULL)
                  {
                    ok = FAIL ("%s: feed '%s': the archive has no array '%s'", shown,
                               e->name, want);
                    break;
                  }
              }
            if (a->rank < 1 || a->rank - 1 > WEFT_MAX_RANK)
              {
                ok = FAIL ("%s: feed '%s': an array of rank %d cannot hold samples (the "
                           "first axis counts them; at most %d more axes)", shown, e->name,
                           a->rank, WEFT_MAX_RANK);
                break;
              }
            int64_t width = 1;
            WeftShape sh = { 0 };
            sh.rank = a->rank == 1 ? 1 : a->rank - 1;
            sh.dims[0] = 1;
            for (int d = 1; d < a->rank; d++)
              {
                width *= a->dims[d];
                sh.dims[d - 1] = (int) a->dims[d];
              }
            if (width < 1 || width > G_MAXINT32)
              {
                ok = FAIL ("%s: feed '%s': %" G_GINT64_FORMAT " values per sample", shown,
                           e->name, width);
                break;
              }
            out[i].rows = a->dims[0];
            out[i].width = (int) width;
            out[i].shape = sh;
            out[i].what = s->format == FMT_NPZ
                            ? g_strdup_printf ("%s array '%s'", shown, a->name)
                            : g_strdup (shown);
            size_t bytes = sizeof (float) * (size_t) (out[i].rows * width);
            out[i].data = a->data && bytes ? g_memdup2 (a->data, bytes) : g_malloc0 (1);
          }
        weft_npy_array_clear (&single);
        return ok;
      }
    case FMT_IMAGES:
      {
        int h = 0, w = 0, c = 0;
        for (int i = 0; i < n; i++)
          {
            Entry *e = entries[i];
            if (e == NULL || (e->columns && strcmp (e->columns, "images") != 0)
                || (e->columns == NULL && lookup ((const char *const *) m->in_names, m->n_in,
                                                  e->name) < 0))
              continue;
            int k = lookup ((const char *const *) m->in_names, m->n_in, e->name);
            if (k < 0)
              return FAIL ("%s: images feed the head '%s'; they can feed model inputs only",
                           shown, e->name);
            const WeftShape *sh = &m->in_shapes[k];
            char buf[64];
            if (sh->rank != 3 || (sh->dims[2] != 1 && sh->dims[2] != 3 && sh->dims[2] != 4))
              return FAIL ("input '%s' expects samples of shape %s; images need (height, "
                           "width, channels) with 1, 3 or 4 channels", e->name,
                           weft_shape_format (sh, buf, sizeof buf));
            if (h != 0 && (h != sh->dims[0] || w != sh->dims[1] || c != sh->dims[2]))
              return FAIL ("%s feeds two inputs of different shapes", shown);
            h = sh->dims[0];
            w = sh->dims[1];
            c = sh->dims[2];
          }
        if (h == 0)
          h = w = c = 1;   /* labels only */
        char **classes = NULL;
        for (int i = 0; i < n; i++)
          if (entries[i] != NULL && entries[i]->vocabulary != NULL
              && (validation || !fit))
            classes = entries[i]->vocabulary;
        g_autoptr (WeftImageFolder) f = weft_image_folder_read (path, h, w, c, classes, NULL,
                                                               NULL, error);
        if (f == NULL)
          return FALSE;
        for (int i = 0; i < n; i++)
          {
            Entry *e = entries[i];
            if (e == NULL)
              continue;
            gboolean images = e->columns ? strcmp (e->columns, "images") == 0
                                         : lookup ((const char *const *) m->in_names, m->n_in,
                                                   e->name) >= 0;
            if (!images && e->columns && strcmp (e->columns, "labels") != 0)
              return FAIL ("%s: feed '%s': an image folder gives \"images\" or \"labels\", "
                           "not '%s'", shown, e->name, e->columns);
            out[i].rows = f->n_images;
            out[i].what = g_strdup_printf ("%s %s", shown, images ? "images" : "labels");
            if (images)
              {
                out[i].width = h * w * c;
                out[i].shape = weft_shape_make (3, h, w, c);
                out[i].data = g_memdup2 (f->pixels, sizeof (float) * (size_t) f->n_images
                                                      * (size_t) out[i].width);
              }
            else
              {
                gboolean hot = e->kind == WEFT_CSV_CATEGORY_ONE_HOT;
                out[i].width = hot ? f->n_classes : 1;
                out[i].data = g_new0 (float, (size_t) f->n_images * (size_t) out[i].width);
                for (int64_t r = 0; r < f->n_images; r++)
                  {
                    if (hot)
                      out[i].data[r * f->n_classes + (int64_t) f->labels[r]] = 1.0f;
                    else
                      out[i].data[r] = f->labels[r];
                  }
                if (!validation)
                  {
                    g_strfreev (e->vocabulary);
                    e->vocabulary = g_strdupv (f->classes);
                  }
              }
          }
        return TRUE;
      }
    default:
      return FAIL ("unknown source format");
    }
}

/* Loads every entry (and the pair label, last) from the main or the validation files. */
static gboolean
load_all (WeftDataBinding *b, gboolean validation, const Model *m, Entry **all, int n_all,
          Loaded *out, gboolean fit, WeftCsvProgressFunc progress, gpointer pd,
          GError **error)
{
  Entry **sel = g_new0 (Entry *, n_all);
  gboolean ok = TRUE;
  for (guint s = 0; s < b->sources->len && ok; s++)
    {
      const Source *src = b->sources->pdata[s];
      int count = 0;
      for (int i = 0; i < n_all; i++)
        {
          sel[i] = all[i] && all[i]->source && strcmp (all[i]->source, src->name) == 0
                     ? all[i] : NULL;
          count += sel[i] != NULL;
        }
      if (count == 0)
        continue;
      if (validation && src->val_resolved == NULL)
        {
          ok = FAIL ("source '%s' has no validation file while another source has one",
                     src->name);
          break;
        }
      ok = load_source (b, src, validation, m, sel, n_all, out, fit, progress, pd, error);
    }
  g_free (sel);
  return ok;
}

/* In-place row permutation: row i becomes old row perm[i]. */
static void
permute_rows (float *data, int width, const int32_t *perm, int64_t n)
{
  guint8 *done = g_new0 (guint8, (gsize) n);
  float *tmp = g_new (float, (gsize) width);
  size_t w = (size_t) width;
  for (int64_t i = 0; i < n; i++)
    {
      if (done[i] || perm[i] == i)
        continue;
      memcpy (tmp, data + (size_t) i * w, w * sizeof (float));
      int64_t j = i;
      for (;;)
        {
          int64_t k = perm[j];
          done[j] = 1;
          if (k == i)
            {
              memcpy (data + (size_t) j * w, tmp, w * sizeof (float));
              break;
            }
          memcpy (data + (size_t) j * w, data + (size_t) k * w, w * sizeof (float));
          j = k;
        }
    }
  g_free (tmp);
  g_free (done);
}

float
weft_data_split_fraction (int64_t n_train, int64_t n)
{
  if (n <= 0 || n_train >= n)
    return 0.0f;
  float f = (float) ((double) (n - n_train) / (double) n);
  /* the trainer computes (int64)(n * (1 - split)); nudge until that gives n_train */
  for (int k = 0; k < 64; k++)
    {
      int64_t got = (int64_t) ((double) n * (1.0 - (double) f));
      if (got == n_train)
        break;
      f = got > n_train ? nextafterf (f, 1.0f) : nextafterf (f, 0.0f);
    }
  return f;
}

/* Pairs (a, b) of rows in [lo, hi): half of them of the same label, half of different. */
static gboolean
make_pairs (const float *labels, int64_t lo, int64_t hi, int64_t count, WeftRng *rng,
            int32_t *first, int32_t *second, GError **error)
{
  int64_t n = hi - lo;
  g_autoptr (GHashTable) by = g_hash_table_new_full (g_int_hash, g_int_equal, g_free,
                                                     (GDestroyNotify) g_array_unref);
  for (int64_t r = lo; r < hi; r++)
    {
      int key = (int) labels[r];
      GArray *rows = g_hash_table_lookup (by, &key);
      if (rows == NULL)
        {
          rows = g_array_new (FALSE, FALSE, sizeof (int32_t));
          g_hash_table_insert (by, g_memdup2 (&key, sizeof key), rows);
        }
      int32_t v = (int32_t) r;
      g_array_append_val (rows, v);
    }
  if (g_hash_table_size (by) < 2 || n < 2)
    return FAIL ("pairs need rows of at least two labels in each part (training and "
                 "validation); this part has %" G_GINT64_FORMAT " rows", n);
  for (int64_t p = 0; p < count; p++)
    {
      int32_t a = (int32_t) (lo + weft_rng_below (rng, (uint32_t) n));
      int key = (int) labels[a];
      GArray *same = g_hash_table_lookup (by, &key);
      int32_t bb = a;
      if (p % 2 == 0 && same->len > 1)
        while (bb == a)
          bb = g_array_index (same, int32_t, weft_rng_below (rng, same->len));
      else
        while ((int) labels[bb] == key)
          bb = (int32_t) (lo + weft_rng_below (rng, (uint32_t) n));
      first[p] = a;
      second[p] = bb;
    }
  return TRUE;
}

static float *
gather_rows (const Loaded *l, const int32_t *rows, int64_t n)
{
  size_t w = (size_t) l->width;
  float *d = g_try_malloc (MAX ((size_t) n * w, 1) * sizeof (float));
  if (d == NULL)
    return NULL;
  for (int64_t r = 0; r < n; r++)
    memcpy (d + (size_t) r * w, l->data + (size_t) rows[r] * w, w * sizeof (float));
  return d;
}

static gboolean
binding_load (WeftDataBinding *b, WeftGraph *graph, double validation_split, gboolean fit,
              gboolean inputs_only, WeftCsvProgressFunc progress, gpointer progress_data,
              WeftDataLoad *out, GError **error)
{
  g_return_val_if_fail (b != NULL && graph != NULL && out != NULL, FALSE);
  memset (out, 0, sizeof *out);
  Model m;
  gboolean ok = FALSE;
  int n_all = (int) b->entries->len + 1;
  Entry **all = g_new0 (Entry *, n_all);
  Loaded *main_l = g_new0 (Loaded, n_all), *val_l = g_new0 (Loaded, n_all);
  float **final = g_new0 (float *, n_all);
  int32_t *perm = NULL, *pa = NULL, *pb = NULL;
  WeftDataset *data = NULL;
  gboolean has_val = FALSE, pairs = b->pair_label != NULL;

  if (!model_read (graph, &m, error))
    goto out;
  for (guint i = 0; i < b->entries->len; i++)
    all[i] = b->entries->pdata[i];
  all[n_all - 1] = b->pair_label;

  /* every feed names an input or head, every input and head has a feed */
  for (guint i = 0; i < b->entries->len; i++)
    {
      const Entry *e = all[i];
      if (lookup ((const char *const *) m.in_names, m.n_in, e->name) < 0
          && lookup ((const char *const *) m.out_names, m.n_out, e->name) < 0)
        {
          g_autofree char *ins = g_strjoinv (", ", m.in_names);
          g_autofree char *outs = g_strjoinv (", ", m.out_names);
          FAIL ("the data binding feeds '%s', which is neither an input nor a head of the "
                "model (inputs: %s; heads: %s)", e->name, ins, outs);
          goto out;
        }
      if (e->norm != NORM_NONE && lookup ((const char *const *) m.in_names, m.n_in,
                                          e->name) < 0)
        {
          FAIL ("feed '%s': normalisation applies to model inputs, not to heads", e->name);
          goto out;
        }
      if (e->norm != NORM_NONE && e->kind != WEFT_CSV_NUMERIC)
        {
          FAIL ("feed '%s': only numeric data can be normalised", e->name);
          goto out;
        }
    }
  if (inputs_only)
    for (guint i = 0; i < b->entries->len; i++)
      if (lookup ((const char *const *) m.in_names, m.n_in, all[i]->name) < 0)
        all[i] = NULL;   /* prediction needs no targets */
  for (int i = 0; i < m.n_in + (inputs_only ? 0 : m.n_out); i++)
    {
      const char *name = i < m.n_in ? m.in_names[i] : m.out_names[i - m.n_in];
      if (find_entry (b, name) == NULL)
        {
          FAIL ("the data binding has no data for %s '%s'", i < m.n_in ? "input" : "head",
                name);
          goto out;
        }
    }
  if (!load_all (b, FALSE, &m, all, n_all, main_l, fit, progress, progress_data, error))
    goto out;
  for (guint s = 0; s < b->sources->len && !inputs_only; s++)
    has_val |= ((Source *) b->sources->pdata[s])->val_resolved != NULL;
  if (has_val && !load_all (b, TRUE, &m, all, n_all, val_l, fit, NULL, NULL, error))
    goto out;

  /* the same number of rows everywhere */
  int first = -1;
  for (int i = 0; i < n_all; i++)
    {
      if (all[i] == NULL || all[i]->pair == PAIR_SAME)
        continue;
      if (first < 0)
        first = i;
      else if (main_l[i].rows != main_l[first].rows || val_l[i].rows != val_l[first].rows)
        {
          gboolean v = main_l[i].rows == main_l[first].rows;
          FAIL ("%s (feed '%s') has %" G_GINT64_FORMAT " rows but %s (feed '%s') has %"
                G_GINT64_FORMAT, (v ? val_l : main_l)[i].what, all[i]->name,
                (v ? val_l : main_l)[i].rows, (v ? val_l : main_l)[first].what,
                all[first]->name, (v ? val_l : main_l)[first].rows);
          goto out;
        }
    }
  if (first < 0)
    {
      FAIL ("the data binding reads no file");
      goto out;
    }
  int64_t n = main_l[first].rows, nv = val_l[first].rows;
  if (n < 1 || (has_val && nv < 1))
    {
      FAIL ("%s holds no rows", (n < 1 ? main_l : val_l)[first].what);
      goto out;
    }
  if (n > G_MAXINT32 - 1 || nv > G_MAXINT32 - 1)
    {
      FAIL ("%s: more than %d rows", main_l[first].what, G_MAXINT32 - 1);
      goto out;
    }

  /* shuffle before splitting, so a file sorted by class still validates on every class */
  if (b->shuffle && !inputs_only)
    {
      WeftRng rng;
      weft_rng_seed (&rng, b->seed);
      perm = g_new (int32_t, n);
      for (int64_t r = 0; r < n; r++)
        perm[r] = (int32_t) r;
      weft_rng_shuffle (&rng, perm, (int32_t) n);
      for (int i = 0; i < n_all; i++)
        if (main_l[i].data != NULL)
          permute_rows (main_l[i].data, main_l[i].width, perm, n);
    }
  double split = inputs_only ? 0 : b->validation_split >= 0 ? b->validation_split
                                                            : validation_split;
  if (!(split >= 0 && split < 1))
    split = 0;
  int64_t n_train = has_val ? n : (int64_t) ((double) n * (1.0 - split));
  int64_t n_val = has_val ? nv : n - n_train;
  if (n_train < 1)
    {
      FAIL ("no training rows: %" G_GINT64_FORMAT " rows with validation split %g", n, split);
      goto out;
    }

  /* rows of the result: plain rows, or pairs drawn within each part */
  int64_t rows_train = n_train, rows_val = n_val;
  if (pairs)
    {
      const Loaded *lab = &main_l[n_all - 1];
      if (lab->width != 1)
        {
          FAIL ("pairs: the label (%s) must be one value per row, not %d", lab->what,
                lab->width);
          goto out;
        }
      rows_train = n_val > 0 ? (int64_t) ((double) b->pair_count * (double) n_train / (n_train + n_val))
                             : b->pair_count;
      rows_val = n_val > 0 ? b->pair_count - rows_train : 0;
      pa = g_new (int32_t, b->pair_count);
      pb = g_new (int32_t, b->pair_count);
      WeftRng rng;
      weft_rng_seed (&rng, b->seed ^ UINT64_C (0x9e3779b97f4a7c15));
      if (!make_pairs (lab->data, 0, n_train, rows_train, &rng, pa, pb, error))
        goto out;
      if (rows_val > 0)
        {
          /* validation pairs come from validation rows only; with a validation file those
           * rows are appended after the training rows below */
          const float *vlab = has_val ? val_l[n_all - 1].data - n : lab->data;
          float *joined = NULL;
          if (has_val)
            {
              joined = g_new (float, n + nv);
              memcpy (joined, lab->data, sizeof (float) * (size_t) n);
              if (nv > 0)
                memcpy (joined + n, val_l[n_all - 1].data, sizeof (float) * (size_t) nv);
              vlab = joined;
            }
          gboolean pok = make_pairs (vlab, n_train, n_train + n_val, rows_val, &rng,
                                     pa + rows_train, pb + rows_train, error);
          g_free (joined);
          if (!pok)
            goto out;
        }
    }
  int64_t total = rows_train + rows_val;

  for (int i = 0; i < n_all - 1; i++)
    {
      Entry *e = all[i];
      Loaded *l = &main_l[i];
      if (e == NULL)
        continue;
      if (has_val && e->pair != PAIR_SAME)
        {
          /* training rows then the validation file's rows */
          float *d = g_try_realloc (l->data, sizeof (float) * (size_t) (n + nv)
                                               * (size_t) l->width);
          if (d == NULL)
            {
              FAIL ("out of memory joining %s and its validation file", l->what);
              goto out;
            }
          if (nv > 0)
            memcpy (d + (size_t) n * (size_t) l->width, val_l[i].data,
                    sizeof (float) * (size_t) nv * (size_t) l->width);
          l->data = d;
          g_clear_pointer (&val_l[i].data, g_free);
        }
      if (pairs)
        {
          if (e->pair == PAIR_SAME)
            {
              const float *lab = main_l[n_all - 1].data;
              const float *vl = val_l[n_all - 1].data;
              final[i] = g_new (float, MAX (total, 1));
              for (int64_t r = 0; r < total; r++)
                {
                  float la = pa[r] < n ? lab[pa[r]] : vl[pa[r] - n];
                  float lb = pb[r] < n ? lab[pb[r]] : vl[pb[r] - n];
                  final[i][r] = la == lb ? 1.0f : 0.0f;
                }
              l->width = 1;
              l->what = g_strdup ("pairs (same label)");
            }
          else
            {
              final[i] = gather_rows (l, e->pair == PAIR_FIRST ? pa : pb, total);
              if (final[i] == NULL)
                {
                  FAIL ("out of memory for %" G_GINT64_FORMAT " pairs", total);
                  goto out;
                }
            }
        }
      else
        final[i] = g_steal_pointer (&l->data);
    }

  /* normalisation: statistics from the training rows only */
  for (int i = 0; i < n_all - 1; i++)
    {
      Entry *e = all[i];
      if (e == NULL || e->norm == NORM_NONE)
        continue;
      int w = main_l[i].width;
      if (fit || e->stat_a == NULL)
        {
          if (!fit && e->stat_a == NULL)
            {
              FAIL ("feed '%s': no normalisation statistics stored (train first)", e->name);
              goto out;
            }
          g_free (e->stat_a);
          g_free (e->stat_b);
          e->n_stat = w;
          e->stat_a = g_new (float, w);
          e->stat_b = g_new (float, w);
          for (int k = 0; k < w; k++)
            {
              double s1 = 0, s2 = 0, lo = INFINITY, hi = -INFINITY;
              for (int64_t r = 0; r < rows_train; r++)
                {
                  double v = final[i][(size_t) r * (size_t) w + (size_t) k];
                  s1 += v;
                  s2 += v * v;
                  lo = MIN (lo, v);
                  hi = MAX (hi, v);
                }
              double mean = s1 / (double) rows_train;
              double var = MAX (s2 / (double) rows_train - mean * mean, 0.0);
              e->stat_a[k] = (float) (e->norm == NORM_STANDARDISE ? mean : lo);
              e->stat_b[k] = (float) (e->norm == NORM_STANDARDISE ? sqrt (var) : hi);
            }
        }
      if (e->n_stat != w)
        {
          FAIL ("feed '%s': the stored statistics have %d values but the data has %d per "
                "row", e->name, e->n_stat, w);
          goto out;
        }
      for (int k = 0; k < w; k++)
        {
          /* a constant feature maps to 0 instead of dividing by zero */
          float shift = e->stat_a[k];
          float scale = e->norm == NORM_STANDARDISE ? e->stat_b[k]
                                                    : e->stat_b[k] - e->stat_a[k];
          if (!(scale > 1e-12f))
            scale = 1.0f;
          for (int64_t r = 0; r < total; r++)
            {
              float *v = &final[i][(size_t) r * (size_t) w + (size_t) k];
              *v = (*v - shift) / scale;
            }
        }
    }

  /* shapes: inputs take the input's shape, heads the shape their loss wants */
  data = weft_dataset_new (total);
  for (int i = 0; i < n_all - 1; i++)
    {
      Entry *e = all[i];
      const Loaded *l = &main_l[i];
      char want[96], have[96];
      if (e == NULL)
        continue;
      WeftShape sh = { 0 };
      int k = lookup ((const char *const *) m.in_names, m.n_in, e->name);
      if (k >= 0)
        {
          const WeftShape *ws = &m.in_shapes[k];
          if (weft_shape_size (ws) != l->width
              || (l->shape.rank > 1 && ws->rank != l->shape.rank
                  && !(l->shape.rank == 1 && ws->rank == 1)))
            {
              weft_shape_format (ws, want, sizeof want);
              if (l->shape.rank > 0)
                weft_shape_format (&l->shape, have, sizeof have);
              else
                g_snprintf (have, sizeof have, "(None, %d)", l->width);
              FAIL ("input '%s' expects samples of shape %s (%" G_GINT64_FORMAT " values) but "
                    "its data (%s) has shape %s", e->name, want, weft_shape_size (ws), l->what,
                    have);
              goto out;
            }
          sh = *ws;
        }
      else
        {
          k = lookup ((const char *const *) m.out_names, m.n_out, e->name);
          const WeftShape *os = &m.out_shapes[k];
          if (m.target_width[k] != l->width)
            {
              weft_shape_format (os, want, sizeof want);
              g_snprintf (have, sizeof have, "(None, %d)", l->width);
              gboolean sparse = m.losses[k] == WEFT_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY;
              gboolean idx = e->kind == WEFT_CSV_CATEGORY_INDEX || (l->width == 1 && !sparse);
              FAIL ("head '%s' predicts %s and needs %d target value%s per sample%s, but its "
                    "data (%s) has shape %s%s", e->name, want, m.target_width[k],
                    m.target_width[k] == 1 ? "" : "s",
                    sparse ? " (one class index per position)" : "", l->what, have,
                    idx && m.losses[k] == WEFT_LOSS_CATEGORICAL_CROSSENTROPY
                      ? " (class indices: use type one-hot, or sparse_categorical_crossentropy)"
                      : "");
              goto out;
            }
          if (m.target_width[k] == weft_shape_size (os))
            sh = *os;
          else
            sh = weft_shape_make (1, l->width);
        }
      WeftError we = { 0 };
      if (!weft_dataset_take (data, e->name, &sh, final[i], &we))
        {
          final[i] = NULL;
          FAIL ("feed '%s': %s", e->name, we.message);
          goto out;
        }
      final[i] = NULL;
    }
  out->data = g_steal_pointer (&data);
  out->n_train = rows_train;
  out->validation_split = weft_data_split_fraction (rows_train, total);
  ok = TRUE;
out:
  weft_dataset_free (data);
  for (int i = 0; i < n_all; i++)
    {
      loaded_clear (&main_l[i]);
      loaded_clear (&val_l[i]);
      g_free (final[i]);
    }
  g_free (main_l);
  g_free (val_l);
  g_free (final);
  g_free (all);
  g_free (perm);
  g_free (pa);
  g_free (pb);
  model_clear (&m);
  return ok;
}

gboolean
weft_data_binding_load (WeftDataBinding *b, WeftGraph *graph, double validation_split,
                        gboolean fit, WeftCsvProgressFunc progress, gpointer progress_data,
                        WeftDataLoad *out, GError **error)
{
  return binding_load (b, graph, validation_split, fit, FALSE, progress, progress_data, out,
                       error);
}

WeftDataset *
weft_data_binding_load_inputs (WeftDataBinding *binding, WeftGraph *graph,
                               WeftCsvProgressFunc progress, gpointer progress_data,
                               GError **error)
{
  g_return_val_if_fail (binding != NULL && graph != NULL, NULL);
  WeftDataLoad load;
  if (!binding_load (binding, graph, 0, FALSE, TRUE, progress, progress_data, &load, error))
    return NULL;
  return load.data;
}

void
weft_data_load_clear (WeftDataLoad *load)
{
  if (load == NULL)
    return;
  weft_dataset_free (load->data);
  memset (load, 0, sizeof *load);
}

/* ---- inspection ---- */

static void
append_npy (GString *s, const WeftNpyArray *a, int n_rows)
{
  g_string_append (s, "(");
  for (int d = 0; d < a->rank; d++)
    g_string_append_printf (s, "%s%" G_GINT64_FORMAT, d ? ", " : "", a->dims[d]);
  g_string_append_printf (s, "%s) float32 (converted)\n", a->rank == 1 ? "," : "");
  if (a->rank < 1 || a->data == NULL)
    return;
  int64_t per = 1;
  for (int d = 1; d < a->rank; d++)
    per *= a->dims[d];
  for (int64_t r = 0; r < MIN (a->dims[0], n_rows); r++)
    {
      g_string_append_printf (s, "    [%" G_GINT64_FORMAT "]", r);
      for (int64_t k = 0; k < MIN (per, 12); k++)
        g_string_append_printf (s, " %g", (double) a->data[r * per + k]);
      if (per > 12)
        g_string_append_printf (s, " ... (%" G_GINT64_FORMAT " values)", per);
      g_string_append_c (s, '\n');
    }
}

char *
weft_data_inspect (const char *path, const WeftCsvOptions *options, int n_rows,
                   GError **error)
{
  g_return_val_if_fail (path != NULL, NULL);
  GString *s = g_string_new (NULL);
  g_autofree char *lower = g_ascii_strdown (path, -1);
  if (!is_uri (path) && g_file_test (path, G_FILE_TEST_IS_DIR))
    {
      char **classes = NULL;
      int64_t n = 0;
      if (!weft_image_folder_scan (path, &classes, &n, error))
        return (g_string_free (s, TRUE), NULL);
      g_string_append_printf (s, "%s: image folder, %" G_GINT64_FORMAT " images in %u "
                              "classes\n", path, n, g_strv_length (classes));
      for (int c = 0; classes[c]; c++)
        {
          g_autofree char *sub = g_build_filename (path, classes[c], NULL);
          g_auto (GStrv) none = NULL;
          int64_t k = 0;
          weft_image_folder_scan (sub, &none, &k, NULL);
          g_autoptr (GDir) d = g_dir_open (sub, 0, NULL);
          int count = 0;
          const char *nm;
          while (d && (nm = g_dir_read_name (d)))
            {
              g_autofree char *low = g_ascii_strdown (nm, -1);
              count += g_str_has_suffix (low, ".png") || g_str_has_suffix (low, ".jpg")
                       || g_str_has_suffix (low, ".jpeg") || g_str_has_suffix (low, ".bmp")
                       || g_str_has_suffix (low, ".gif") || g_str_has_suffix (low, ".tif")
                       || g_str_has_suffix (low, ".tiff") || g_str_has_suffix (low, ".webp");
            }
          g_string_append_printf (s, "  class %d '%s': %d images\n", c, classes[c], count);
        }
      g_string_append (s, "  arrays: images (n, height, width, channels) resized to the input, "
                          "values 0..1; labels (class index or one-hot)\n");
      g_strfreev (classes);
      return g_string_free (s, FALSE);
    }
  if (g_str_has_suffix (lower, ".npy"))
    {
      WeftNpyArray a = { 0 };
      if (!weft_npy_read (path, &a, error))
        return (g_string_free (s, TRUE), NULL);
      g_string_append_printf (s, "%s: NumPy array ", path);
      append_npy (s, &a, n_rows);
      weft_npy_array_clear (&a);
      return g_string_free (s, FALSE);
    }
  if (g_str_has_suffix (lower, ".npz"))
    {
      g_autoptr (GPtrArray) arrays = weft_npz_read (path, error);
      if (arrays == NULL)
        return (g_string_free (s, TRUE), NULL);
      g_string_append_printf (s, "%s: NumPy archive, %u arrays\n", path, arrays->len);
      for (guint i = 0; i < arrays->len; i++)
        {
          const WeftNpyArray *a = arrays->pdata[i];
          g_string_append_printf (s, "  %s ", a->name);
          append_npy (s, a, n_rows);
        }
      return g_string_free (s, FALSE);
    }
  g_autoptr (WeftCsvOptions) own = NULL;
  if (options == NULL)
    options = own = weft_csv_options_new ();
  g_autoptr (WeftCsvPreview) p = weft_csv_preview (path, options, n_rows, 1000, error);
  if (p == NULL)
    return (g_string_free (s, TRUE), NULL);
  const char *sep = p->separator == ',' ? "comma" : p->separator == ';' ? "semicolon"
                    : p->separator == '\t' ? "tab" : "blanks";
  g_string_append_printf (s, "%s: CSV, %d columns separated by %s, %s; %" G_GINT64_FORMAT
                          " rows scanned%s\n", path, p->n_columns, sep,
                          options->header ? "header line" : "no header",
                          p->rows_scanned, p->rows_scanned >= 1000 ? " (the first 1000)" : "");
  g_string_append (s, "  column  name                 type         distinct  missing\n");
  for (int c = 0; c < p->n_columns; c++)
    g_string_append_printf (s, "  %6d  %-20.20s %-12s %8d%s %7d\n", c, p->column_names[c],
                            p->kinds[c] == WEFT_CSV_CATEGORY_INDEX ? "categorical"
                                                                   : weft_csv_kind_name (p->kinds[c]),
                            p->n_distinct[c], p->n_distinct[c] >= 1000 ? "+" : " ",
                            p->n_missing[c]);
  g_string_append_printf (s, "  first %u rows:\n", p->rows->len);
  for (guint r = 0; r < p->rows->len; r++)
    {
      char **cells = p->rows->pdata[r];
      g_string_append (s, "   ");
      for (int c = 0; cells[c]; c++)
        {
          if (c >= 16)
            {
              g_string_append_printf (s, " ... (%d columns)", p->n_columns);
              break;
            }
          g_string_append_printf (s, " %.16s", cells[c][0] ? cells[c] : "(missing)");
        }
      g_string_append_c (s, '\n');
    }
  return g_string_free (s, FALSE);
}

/* ---- listing a data file for a binding editor ------------------------------------------ */

static void
data_column_free (gpointer p)
{
  WeftDataColumn *c = p;
  g_free (c->name);
  g_free (c->path);
  g_free (c);
}

void
weft_data_listing_free (WeftDataListing *listing)
{
  if (listing == NULL)
    return;
  g_free (listing->path);
  g_clear_pointer (&listing->columns, g_ptr_array_unref);
  g_free (listing);
}

int64_t
weft_data_column_row_size (const WeftDataColumn *column)
{
  g_return_val_if_fail (column != NULL, 0);
  if (column->rank <= 1)
    return 1;
  int64_t n = 1;
  for (int i = 1; i < column->rank; i++)
    {
      if (column->dims[i] < 0)
        return -1;
      n *= column->dims[i];
    }
  return n;
}

static WeftDataColumn *
listing_add (WeftDataListing *l, const char *name, const WeftNpyArray *a)
{
  WeftDataColumn *c = g_new0 (WeftDataColumn, 1);
  c->name = g_strdup (name);
  c->kind = WEFT_CSV_NUMERIC;
  if (a != NULL)
    {
      c->rank = a->rank;
      memcpy (c->dims, a->dims, sizeof c->dims);
    }
  g_ptr_array_add (l->columns, c);
  return c;
}

static gboolean
is_number_text (const char *s)
{
  char *end = NULL;
  while (g_ascii_isspace (*s))
    s++;
  if (*s == '\0')
    return FALSE;
  g_ascii_strtod (s, &end);
  while (end != NULL && g_ascii_isspace (*end))
    end++;
  return end != NULL && *end == '\0' && end != s;
}

/* A header is likely when some column holds numbers in every scanned row but the first. */
static gboolean
guess_csv_header (const WeftCsvPreview *p)
{
  if (p->rows->len < 2)
    return FALSE;
  const char *const *first = p->rows->pdata[0];
  guint first_len = g_strv_length ((char **) first);
  for (int c = 0; c < p->n_columns && (guint) c < first_len; c++)
    {
      if (is_number_text (first[c]))
        continue;
      gboolean numeric_below = TRUE;
      for (guint r = 1; r < p->rows->len && numeric_below; r++)
        {
          char **row = p->rows->pdata[r];
          numeric_below = (guint) c < g_strv_length (row) && is_number_text (row[c]);
        }
      if (numeric_below)
        return TRUE;
    }
  return FALSE;
}

static gboolean
list_csv (WeftDataListing *l, int csv_header, GError **error)
{
  g_autoptr (WeftCsvOptions) o = weft_csv_options_new ();
  o->header = csv_header == 1;
  g_autoptr (WeftCsvPreview) p = weft_csv_preview (l->path, o, 1000, 1000, error);
  if (p == NULL)
    return FALSE;
  if (csv_header < 0 && guess_csv_header (p))
    {
      o->header = TRUE;
      weft_csv_preview_free (p);
      p = weft_csv_preview (l->path, o, 1000, 1000, error);
      if (p == NULL)
        return FALSE;
    }
  l->kind = WEFT_DATA_FILE_CSV;
  l->header = o->header;
  l->n_rows = p->rows_scanned;
  l->n_rows_exact = p->rows_scanned < 1000;
  for (int c = 0; c < p->n_columns; c++)
    {
      WeftDataColumn *col = listing_add (l, p->column_names[c], NULL);
      col->rank = 1;
      col->dims[0] = p->rows_scanned;
      col->kind = p->kinds[c];
      col->n_distinct = p->n_distinct[c];
    }
  return TRUE;
}

static gboolean
list_npy_folder (WeftDataListing *l, GError **error)
{
  g_autoptr (GDir) dir = g_dir_open (l->path, 0, error);
  if (dir == NULL)
    return FALSE;
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  const char *name;
  while ((name = g_dir_read_name (dir)) != NULL)
    if (g_str_has_suffix (name, ".npy"))
      g_ptr_array_add (names, g_strdup (name));
  /* sorted by name (a few files: a plain exchange sort) */
  for (guint i = 0; i + 1 < names->len; i++)
    for (guint j = i + 1; j < names->len; j++)
      if (strcmp (names->pdata[i], names->pdata[j]) > 0)
        {
          gpointer t = names->pdata[i];
          names->pdata[i] = names->pdata[j];
          names->pdata[j] = t;
        }
  l->kind = WEFT_DATA_FILE_NPY_FOLDER;
  l->n_rows = -1;
  for (guint i = 0; i < names->len; i++)
    {
      g_autofree char *file = g_build_filename (l->path, names->pdata[i], NULL);
      WeftNpyArray a = { 0 };
      if (!weft_npy_read (file, &a, error))
        return FALSE;
      g_autofree char *stem = g_strndup (names->pdata[i], strlen (names->pdata[i]) - 4);
      WeftDataColumn *c = listing_add (l, stem, &a);
      c->path = g_steal_pointer (&file);
      if (l->n_rows < 0 && a.rank > 0)
        l->n_rows = a.dims[0];
      weft_npy_array_clear (&a);
    }
  l->n_rows_exact = TRUE;
  return TRUE;
}

WeftDataListing *
weft_data_list (const char *path, int csv_header, GError **error)
{
  g_return_val_if_fail (path != NULL, NULL);
  g_autoptr (WeftDataListing) l = g_new0 (WeftDataListing, 1);
  l->path = g_strdup (path);
  l->columns = g_ptr_array_new_with_free_func (data_column_free);
  g_autofree char *lower = g_ascii_strdown (path, -1);

  if (!is_uri (path) && g_file_test (path, G_FILE_TEST_IS_DIR))
    {
      g_autoptr (GDir) dir = g_dir_open (path, 0, error);
      if (dir == NULL)
        return NULL;
      const char *name;
      gboolean npy = FALSE;
      while (!npy && (name = g_dir_read_name (dir)) != NULL)
        npy = g_str_has_suffix (name, ".npy");
      if (npy)
        return list_npy_folder (l, error) ? g_steal_pointer (&l) : NULL;
      char **classes = NULL;
      int64_t n = 0;
      if (!weft_image_folder_scan (path, &classes, &n, error))
        return NULL;
      int n_classes = (int) g_strv_length (classes);
      g_strfreev (classes);
      if (n_classes == 0 || n == 0)
        {
          g_set_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_FORMAT,
                       "%s: the folder holds neither .npy files nor sub-folders of images "
                       "(one per class)", path);
          return NULL;
        }
      l->kind = WEFT_DATA_FILE_IMAGE_FOLDER;
      l->n_rows = n;
      l->n_rows_exact = TRUE;
      WeftDataColumn *img = listing_add (l, "images", NULL);
      img->rank = 4;
      img->dims[0] = n;
      img->dims[1] = img->dims[2] = img->dims[3] = -1;
      WeftDataColumn *lab = listing_add (l, "labels", NULL);
      lab->rank = 1;
      lab->dims[0] = n;
      lab->kind = WEFT_CSV_CATEGORY_INDEX;
      lab->n_distinct = n_classes;
      return g_steal_pointer (&l);
    }
  if (g_str_has_suffix (lower, ".npz"))
    {
      g_autoptr (GPtrArray) arrays = weft_npz_read (path, error);
      if (arrays == NULL)
        return NULL;
      l->kind = WEFT_DATA_FILE_NPZ;
      l->n_rows = -1;
      for (guint i = 0; i < arrays->len; i++)
        {
          const WeftNpyArray *a = arrays->pdata[i];
          listing_add (l, a->name, a);
          if (l->n_rows < 0 && a->rank > 0)
            l->n_rows = a->dims[0];
        }
      l->n_rows_exact = TRUE;
      return g_steal_pointer (&l);
    }
  if (g_str_has_suffix (lower, ".npy"))
    {
      WeftNpyArray a = { 0 };
      if (!weft_npy_read (path, &a, error))
        return NULL;
      l->kind = WEFT_DATA_FILE_NPY;
      g_autofree char *base = g_path_get_basename (path);
      g_autofree char *stem = g_strndup (base, strlen (base) - 4);
      WeftDataColumn *c = listing_add (l, stem, &a);
      c->path = g_strdup (path);
      l->n_rows = a.rank > 0 ? a.dims[0] : 1;
      l->n_rows_exact = TRUE;
      weft_npy_array_clear (&a);
      return g_steal_pointer (&l);
    }
  return list_csv (l, csv_header, error) ? g_steal_pointer (&l) : NULL;
}
