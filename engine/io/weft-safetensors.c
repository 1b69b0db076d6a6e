/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "weft-io"

#include "config.h"

#include "weft-safetensors.h"

#include <errno.h>
#include <json-glib/json-glib.h>
#include <stdio.h>
#include <string.h>

G_DEFINE_QUARK (weft-io-error-quark, weft_io_error)

/* JSON nesting deeper than this is refused before json-glib sees it: its parser recurses
 * per level, so a header of a million '[' would otherwise exhaust the stack. */
#define MAX_JSON_DEPTH 64

typedef struct
{
  char    *name;
  int      rank;
  int64_t  dims[WEFT_TENSOR_MAX_RANK];
  gsize    n;        /* elements */
  float   *data;     /* n floats (at least one allocated) */
} Tensor;

struct _WeftTensorFile
{
  GPtrArray  *tensors;   /* Tensor*, in header order */
  GHashTable *by_name;   /* name -> Tensor* (borrowed) */
  GHashTable *metadata;  /* key -> value, owned strings */
};

static void
tensor_free (gpointer p)
{
  Tensor *t = p;

  g_free (t->name);
  g_free (t->data);
  g_free (t);
}

WeftTensorFile *
weft_tensor_file_new (void)
{
  WeftTensorFile *f = g_new0 (WeftTensorFile, 1);

  f->tensors = g_ptr_array_new_with_free_func (tensor_free);
  f->by_name = g_hash_table_new (g_str_hash, g_str_equal);
  f->metadata = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  return f;
}

void
weft_tensor_file_free (WeftTensorFile *f)
{
  if (f == NULL)
    return;
  g_hash_table_unref (f->by_name);
  g_ptr_array_unref (f->tensors);
  g_hash_table_unref (f->metadata);
  g_free (f);
}

int
weft_tensor_file_n (const WeftTensorFile *f)
{
  g_return_val_if_fail (f != NULL, 0);
  return (int) f->tensors->len;
}

const char *
weft_tensor_file_name (const WeftTensorFile *f, int i)
{
  g_return_val_if_fail (f != NULL, NULL);
  g_return_val_if_fail (i >= 0 && (guint) i < f->tensors->len, NULL);
  return ((Tensor *) g_ptr_array_index (f->tensors, i))->name;
}

const float *
weft_tensor_file_get (const WeftTensorFile *f, const char *name, int *rank, int64_t *dims)
{
  Tensor *t;

  g_return_val_if_fail (f != NULL, NULL);
  g_return_val_if_fail (name != NULL, NULL);
  t = g_hash_table_lookup (f->by_name, name);
  if (t == NULL)
    return NULL;
  if (rank != NULL)
    *rank = t->rank;
  if (dims != NULL)
    for (int d = 0; d < t->rank; d++)
      dims[d] = t->dims[d];
  return t->data;
}

const char *
weft_tensor_file_get_metadata (const WeftTensorFile *f, const char *key)
{
  g_return_val_if_fail (f != NULL, NULL);
  g_return_val_if_fail (key != NULL, NULL);
  return g_hash_table_lookup (f->metadata, key);
}

void
weft_tensor_file_set_metadata (WeftTensorFile *f, const char *key, const char *value)
{
  g_return_if_fail (f != NULL);
  g_return_if_fail (key != NULL);
  if (value == NULL)
    g_hash_table_remove (f->metadata, key);
  else
    g_hash_table_replace (f->metadata, g_strdup (key), g_strdup (value));
}

/* Element count of a shape with overflow checks; false when it does not fit in gsize
 * or exceeds `limit`. */
static gboolean
shape_elements (int rank, const int64_t *dims, guint64 limit, guint64 *n)
{
  guint64 total = 1;

  for (int d = 0; d < rank; d++)
    {
      if (dims[d] < 0)
        return FALSE;
      if (!g_uint64_checked_mul (&total, total, (guint64) dims[d]))
        return FALSE;
    }
  /* A zero dim makes a product of 0 even after huge factors; that is a valid empty tensor. */
  if (total > limit)
    return FALSE;
  *n = total;
  return TRUE;
}

static char *
format_dims (int rank, const int64_t *dims)
{
  GString *s = g_string_new ("[");

  for (int d = 0; d < rank; d++)
    g_string_append_printf (s, "%s%" G_GINT64_FORMAT, d ? ", " : "", dims[d]);
  g_string_append_c (s, ']');
  return g_string_free (s, FALSE);
}

static Tensor *
file_append (WeftTensorFile *f, const char *name, int rank, const int64_t *dims, gsize n)
{
  Tensor *t = g_new0 (Tensor, 1);

  t->name = g_strdup (name);
  t->rank = rank;
  for (int d = 0; d < rank; d++)
    t->dims[d] = dims[d];
  t->n = n;
  t->data = g_new0 (float, MAX (n, 1));
  g_ptr_array_add (f->tensors, t);
  g_hash_table_insert (f->by_name, t->name, t);
  return t;
}

gboolean
weft_tensor_file_add (WeftTensorFile *f, const char *name, int rank, const int64_t *dims,
                      const float *data, GError **error)
{
  guint64 n;
  Tensor *t;

  g_return_val_if_fail (f != NULL, FALSE);
  g_return_val_if_fail (name != NULL, FALSE);
  g_return_val_if_fail (rank == 0 || dims != NULL, FALSE);

  if (name[0] == '\0' || strcmp (name, "__metadata__") == 0)
    {
      g_set_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_FORMAT,
                   "“%s” cannot be a tensor name", name);
      return FALSE;
    }
  if (g_hash_table_contains (f->by_name, name))
    {
      g_set_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_FORMAT,
                   "Duplicate tensor name “%s”", name);
      return FALSE;
    }
  if (rank < 0 || rank > WEFT_TENSOR_MAX_RANK)
    {
      g_set_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_FORMAT,
                   "Tensor “%s” has rank %d (at most %d)", name, rank, WEFT_TENSOR_MAX_RANK);
      return FALSE;
    }
  if (!shape_elements (rank, dims, G_MAXSIZE / 8, &n))
    {
      g_autofree char *s = format_dims (rank, dims);
      g_set_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_TOO_LARGE,
                   "Tensor “%s” has an invalid shape %s", name, s);
      return FALSE;
    }
  g_return_val_if_fail (n == 0 || data != NULL, FALSE);

  t = file_append (f, name, rank, dims, (gsize) n);
  if (n > 0)
    memcpy (t->data, data, (gsize) n * sizeof (float));
  return TRUE;
}

/* ---- reading ---- */

typedef enum
{
  DT_F32, DT_F16, DT_BF16, DT_F64, DT_I8, DT_I16, DT_I32, DT_I64,
  DT_U8, DT_U16, DT_U32, DT_U64, DT_BOOL,
} Dtype;

static const struct { const char *name; Dtype dt; int size; } dtypes[] = {
  { "F32", DT_F32, 4 }, { "F16", DT_F16, 2 }, { "BF16", DT_BF16, 2 }, { "F64", DT_F64, 8 },
  { "I8", DT_I8, 1 }, { "I16", DT_I16, 2 }, { "I32", DT_I32, 4 }, { "I64", DT_I64, 8 },
  { "U8", DT_U8, 1 }, { "U16", DT_U16, 2 }, { "U32", DT_U32, 4 }, { "U64", DT_U64, 8 },
  { "BOOL", DT_BOOL, 1 },
};

static float
half_to_float (guint16 h)
{
  guint32 sign = (guint32) (h & 0x8000) << 16;
  guint32 exp = (h >> 10) & 0x1f;
  guint32 mant = h & 0x3ff;
  guint32 bits;
  float out;

  if (exp == 0x1f)
    bits = sign | 0x7f800000u | (mant << 13);
  else if (exp != 0)
    bits = sign | ((exp + 112) << 23) | (mant << 13);
  else if (mant == 0)
    bits = sign;
  else
    {
      /* Subnormal half: value = mant * 2^-24, exact in float. */
      out = (float) mant * (1.0f / 16777216.0f);
      return sign ? -out : out;
    }
  memcpy (&out, &bits, sizeof out);
  return out;
}

static guint64
load_le (const guint8 *p, int size)
{
  guint64 v = 0;

  for (int i = size - 1; i >= 0; i--)
    v = (v << 8) | p[i];
  return v;
}

static void
convert (Dtype dt, int size, const guint8 *src, gsize n, float *dst)
{
#if G_BYTE_ORDER == G_LITTLE_ENDIAN
  if (dt == DT_F32)
    {
      memcpy (dst, src, n * sizeof (float));
      return;
    }
#endif
  for (gsize i = 0; i < n; i++, src += size)
    {
      guint64 v = load_le (src, size);

      switch (dt)
        {
        case DT_F32:
          {
            guint32 b = (guint32) v;
            memcpy (&dst[i], &b, 4);
          }
          break;
        case DT_F16:
          dst[i] = half_to_float ((guint16) v);
          break;
        case DT_BF16:
          {
            guint32 b = (guint32) v << 16;
            memcpy (&dst[i], &b, 4);
          }
          break;
        case DT_F64:
          {
            double d;
            memcpy (&d, &v, 8);
            dst[i] = (float) d;
          }
          break;
        case DT_I8: dst[i] = (float) (gint8) v; break;
        case DT_I16: dst[i] = (float) (gint16) v; break;
        case DT_I32: dst[i] = (float) (gint32) v; break;
        case DT_I64: dst[i] = (float) (gint64) v; break;
        case DT_U8: case DT_U16: case DT_U32: case DT_U64:
          dst[i] = (float) v;
          break;
        case DT_BOOL:
          dst[i] = v != 0 ? 1.0f : 0.0f;
          break;
        default:
          g_assert_not_reached ();
        }
    }
}

/* Scans JSON text: nesting depth must stay within MAX_JSON_DEPTH, and counts the members
 * of the top-level object (json-glib silently keeps the last of duplicate keys, so a
 * count that differs from the parsed object's size reveals a duplicate). */
static gboolean
scan_json (const char *s, gsize len, guint *top_members, GError **error)
{
  int depth = 0;
  gboolean in_string = FALSE;

  *top_members = 0;
  for (gsize i = 0; i < len; i++)
    {
      char c = s[i];

      if (in_string)
        {
          if (c == '\\')
            i++;
          else if (c == '"')
            in_string = FALSE;
          continue;
        }
      switch (c)
        {
        case '"':
          in_string = TRUE;
          break;
        case '{': case '[':
          if (++depth > MAX_JSON_DEPTH)
            {
              g_set_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_FORMAT,
                           "The safetensors header nests deeper than %d levels",
                           MAX_JSON_DEPTH);
              return FALSE;
            }
          break;
        case '}': case ']':
          depth--;
          break;
        case ':':
          if (depth == 1)
            (*top_members)++;
          break;
        default:
          break;
        }
    }
  return TRUE;
}

static gboolean
node_get_uint (JsonNode *node, guint64 *out)
{
  gint64 v;

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) ||
      json_node_get_value_type (node) != G_TYPE_INT64)
    return FALSE;
  v = json_node_get_int (node);
  if (v < 0)
    return FALSE;
  *out = (guint64) v;
  return TRUE;
}

typedef struct
{
  const char *name;
  int         dtype;     /* index into dtypes[] */
  int         rank;
  int64_t     dims[WEFT_TENSOR_MAX_RANK];
  guint64     n;
  guint64     begin, end;
} Entry;

static int
entry_cmp_begin (gconstpointer a, gconstpointer b)
{
  const Entry *x = a, *y = b;

  if (x->begin != y->begin)
    return x->begin < y->begin ? -1 : 1;
  return x->end < y->end ? -1 : x->end > y->end ? 1 : 0;
}

static gboolean
parse_entry (const char *name, JsonNode *node, guint64 data_len, Entry *e, GError **error)
{
  JsonObject *obj;
  JsonNode *dn, *sn, *on;
  const char *dtype;
  JsonArray *shape, *offsets;
  guint rank;
  int size;

  memset (e, 0, sizeof *e);
  e->name = name;
  e->dtype = -1;

  if (!JSON_NODE_HOLDS_OBJECT (node))
    {
      g_set_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_FORMAT,
                   "Tensor “%s”: header entry is not an object", name);
      return FALSE;
    }
  obj = json_node_get_object (node);
  dn = json_object_get_member (obj, "dtype");
  sn = json_object_get_member (obj, "shape");
  on = json_object_get_member (obj, "data_offsets");
  if (dn == NULL || !JSON_NODE_HOLDS_VALUE (dn) ||
      json_node_get_value_type (dn) != G_TYPE_STRING)
    {
      g_set_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_FORMAT,
                   "Tensor “%s”: missing or non-string “dtype”", name);
      return FALSE;
    }
  dtype = json_node_get_string (dn);
  for (guint i = 0; i < G_N_ELEMENTS (dtypes); i++)
    if (strcmp (dtypes[i].name, dtype) == 0)
      e->dtype = (int) i;
  if (e->dtype < 0)
    {
      g_set_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_FORMAT,
                   "Tensor “%s”: unsupported dtype “%s”", name, dtype);
      return FALSE;
    }
  size = dtypes[e->dtype].size;

  if (sn == NULL || !JSON_NODE_HOLDS_ARRAY (sn))
    {
      g_set_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_FORMAT,
                   "Tensor “%s”: missing or non-array “shape”", name);
      return FALSE;
    }
  shape = json_node_get_array (sn);
  rank = json_array_get_length (shape);
  if (rank > WEFT_TENSOR_MAX_RANK)
    {
      g_set_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_FORMAT,
                   "Tensor “%s”: rank %u is above the maximum %d", name, rank,
                   WEFT_TENSOR_MAX_RANK);
      return FALSE;
    }
  e->rank = (int) rank;
  for (guint d = 0; d < rank; d++)
    {
      guint64 v;

      if (!node_get_uint (json_array_get_element (shape, d), &v) || v > G_MAXINT64)
        {
          g_set_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_FORMAT,
                       "Tensor “%s”: dimension %u of the shape is not a non-negative integer",
                       name, d);
          return FALSE;
        }
      e->dims[d] = (int64_t) v;
    }
  /* The data section bounds the element count, so later allocations stay bounded too. */
  if (!shape_elements (e->rank, e->dims, data_len, &e->n))
    {
      g_autofree char *s = format_dims (e->rank, e->dims);
      g_set_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_TOO_LARGE,
                   "Tensor “%s”: shape %s has more elements than the file has bytes",
                   name, s);
      return FALSE;
    }

  if (on == NULL || !JSON_NODE_HOLDS_ARRAY (on) ||
      json_array_get_length (json_node_get_array (on)) != 2)
    {
      g_set_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_FORMAT,
                   "Tensor “%s”: “data_offsets” must be an array [begin, end]", name);
      return FALSE;
    }
  offsets = json_node_get_array (on);
  if (!node_get_uint (json_array_get_element (offsets, 0), &e->begin) ||
      !node_get_uint (json_array_get_element (offsets, 1), &e->end))
    {
      g_set_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_FORMAT,
                   "Tensor “%s”: data offsets are not non-negative integers", name);
      return FALSE;
    }
  if (e->begin > e->end || e->end > data_len)
    {
      g_set_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_FORMAT,
                   "Tensor “%s”: data offsets [%" G_GUINT64_FORMAT ", %" G_GUINT64_FORMAT
                   "] lie outside the data section of %" G_GUINT64_FORMAT " bytes",
                   name, e->begin, e->end, data_len);
      return FALSE;
    }
  if (e->end - e->begin != e->n * (guint64) size)
    {
      g_autofree char *s = format_dims (e->rank, e->dims);
      g_set_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_FORMAT,
                   "Tensor “%s”: %" G_GUINT64_FORMAT " data bytes do not match shape %s of "
                   "%s (%" G_GUINT64_FORMAT " bytes)", name, e->end - e->begin, s, dtype,
                   e->n * (guint64) size);
      return FALSE;
    }
  return TRUE;
}

static gboolean
parse_metadata (WeftTensorFile *f, JsonNode *node, GError **error)
{
  JsonObjectIter iter;
  const char *key;
  JsonNode *value;

  if (!JSON_NODE_HOLDS_OBJECT (node))
    {
      g_set_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_FORMAT,
                   "“__metadata__” is not an object");
      return FALSE;
    }
  json_object_iter_init (&iter, json_node_get_object (node));
  while (json_object_iter_next (&iter, &key, &value))
    {
      if (!JSON_NODE_HOLDS_VALUE (value) || json_node_get_value_type (value) != G_TYPE_STRING)
        {
          g_set_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_FORMAT,
                       "“__metadata__” value of “%s” is not a string", key);
          return FALSE;
        }
      weft_tensor_file_set_metadata (f, key, json_node_get_string (value));
    }
  return TRUE;
}

WeftTensorFile *
weft_tensor_file_read_data (const guint8 *data, gsize len, GError **error)
{
  g_autoptr (WeftTensorFile) f = NULL;
  g_autoptr (JsonParser) parser = NULL;
  g_autoptr (GError) json_error = NULL;
  g_autofree Entry *entries = NULL;
  guint64 header_len, data_len;
  const char *header;
  const guint8 *body;
  JsonNode *root;
  JsonObject *obj;
  g_autoptr (GList) members = NULL;
  guint top_members, n_entries = 0, n_members;

  g_return_val_if_fail (data != NULL || len == 0, NULL);

  if (len < 8)
    {
      g_set_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_FORMAT,
                   "Not a safetensors file: %" G_GSIZE_FORMAT " bytes is too short for the "
                   "header length", len);
      return NULL;
    }
  header_len = load_le (data, 8);
  /* Past the end first: a text file read as safetensors has an absurd "length" too, and is
   * better described as not a safetensors file than as too large. */
  if (header_len > len - 8)
    {
      g_set_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_FORMAT,
                   "Not a safetensors file, or a truncated one: the header length %"
                   G_GUINT64_FORMAT " runs past the end of the file (%" G_GSIZE_FORMAT
                   " bytes)",
                   header_len, len);
      return NULL;
    }
  if (header_len > WEFT_SAFETENSORS_MAX_HEADER)
    {
      g_set_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_TOO_LARGE,
                   "Safetensors header length %" G_GUINT64_FORMAT " is above the limit of %d "
                   "bytes", header_len, WEFT_SAFETENSORS_MAX_HEADER);
      return NULL;
    }
  if (header_len < 2)
    {
      g_set_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_FORMAT,
                   "Safetensors header of %" G_GUINT64_FORMAT " bytes is too short",
                   header_len);
      return NULL;
    }
  header = (const char *) data + 8;
  body = data + 8 + header_len;
  data_len = len - 8 - header_len;

  if (header[0] != '{')
    {
      g_set_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_FORMAT,
                   "Safetensors header is not a JSON object");
      return NULL;
    }
  if (!g_utf8_validate_len (header, (gsize) header_len, NULL))
    {
      g_set_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_FORMAT,
                   "Safetensors header is not valid UTF-8");
      return NULL;
    }
  if (!scan_json (header, (gsize) header_len, &top_members, error))
    return NULL;

  parser = json_parser_new_immutable ();
  if (!json_parser_load_from_data (parser, header, (gssize) header_len, &json_error))
    {
      g_set_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_FORMAT,
                   "Safetensors header is not valid JSON: %s", json_error->message);
      return NULL;
    }
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      g_set_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_FORMAT,
                   "Safetensors header is not a JSON object");
      return NULL;
    }
  obj = json_node_get_object (root);
  n_members = json_object_get_size (obj);
  if (n_members != top_members)
    {
      g_set_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_FORMAT,
                   "Safetensors header names a tensor more than once");
      return NULL;
    }

  f = weft_tensor_file_new ();
  entries = g_new0 (Entry, MAX (n_members, 1));
  /* json_object_get_members keeps the header's order; the iterator does not. */
  members = json_object_get_members (obj);
  for (GList *l = members; l != NULL; l = l->next)
    {
      const char *key = l->data;
      JsonNode *value = json_object_get_member (obj, key);

      if (strcmp (key, "__metadata__") == 0)
        {
          if (!parse_metadata (f, value, error))
            return NULL;
          continue;
        }
      if (!parse_entry (key, value, data_len, &entries[n_entries], error))
        return NULL;
      n_entries++;
    }

  /* Overlap check on a copy sorted by offset; empty tensors overlap nothing. */
  {
    g_autofree Entry *sorted = g_memdup2 (entries, sizeof (Entry) * MAX (n_entries, 1));
    guint64 prev_end = 0;
    const char *prev = NULL;

    qsort (sorted, n_entries, sizeof (Entry), entry_cmp_begin);
    for (guint i = 0; i < n_entries; i++)
      {
        if (sorted[i].begin == sorted[i].end)
          continue;
        if (prev != NULL && sorted[i].begin < prev_end)
          {
            g_set_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_FORMAT,
                         "Tensors “%s” and “%s” overlap in the data section", prev,
                         sorted[i].name);
            return NULL;
          }
        prev_end = sorted[i].end;
        prev = sorted[i].name;
      }
  }

  for (guint i = 0; i < n_entries; i++)
    {
      Entry *e = &entries[i];
      Tensor *t = file_append (f, e->name, e->rank, e->dims, (gsize) e->n);

      convert (dtypes[e->dtype].dt, dtypes[e->dtype].size, body + e->begin, t->n, t->data);
    }
  return g_steal_pointer (&f);
}

static GMappedFile *
map_file (const char *path, GError **error)
{
  g_autoptr (GError) local = NULL;
  GMappedFile *map = g_mapped_file_new (path, FALSE, &local);

  if (map == NULL)
    g_set_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_IO, "Cannot read “%s”: %s", path,
                 local->message);
  return map;
}

static const guint8 *
mapped_bytes (GMappedFile *map, gsize *len)
{
  static const guint8 empty[1];
  const guint8 *p = (const guint8 *) g_mapped_file_get_contents (map);

  *len = g_mapped_file_get_length (map);
  return p != NULL ? p : empty;   /* empty files map to NULL */
}

static void
prefix_error (GError **error, const char *path)
{
  if (error != NULL && *error != NULL)
    g_prefix_error (error, "%s: ", path);
}

WeftTensorFile *
weft_tensor_file_read (const char *path, GError **error)
{
  g_autoptr (GMappedFile) map = NULL;
  WeftTensorFile *f;
  const guint8 *p;
  gsize len;

  g_return_val_if_fail (path != NULL, NULL);
  map = map_file (path, error);
  if (map == NULL)
    return NULL;
  p = mapped_bytes (map, &len);
  f = weft_tensor_file_read_data (p, len, error);
  if (f == NULL)
    prefix_error (error, path);
  return f;
}

/* ---- writing ---- */

static void
append_json_string (GString *s, const char *str)
{
  g_string_append_c (s, '"');
  for (const unsigned char *p = (const unsigned char *) str; *p; p++)
    {
      if (*p == '"' || *p == '\\')
        {
          g_string_append_c (s, '\\');
          g_string_append_c (s, (char) *p);
        }
      else if (*p < 0x20)
        g_string_append_printf (s, "\\u%04x", *p);
      else
        g_string_append_c (s, (char) *p);
    }
  g_string_append_c (s, '"');
}

static int
cmp_tensor_name (gconstpointer a, gconstpointer b)
{
  const Tensor *x = *(Tensor * const *) a, *y = *(Tensor * const *) b;

  return strcmp (x->name, y->name);
}

static int
cmp_str (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char * const *) a, *(const char * const *) b);
}

static void
sha256_hex_of (const guint8 *data, gsize len, char out[65])
{
  g_autoptr (GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);

  g_checksum_update (sum, data, len);
  g_strlcpy (out, g_checksum_get_string (sum), 65);
}

gboolean
weft_tensor_file_write (const WeftTensorFile *f, const char *path, char sha256_hex[65],
                        GError **error)
{
  g_autoptr (GPtrArray) order = NULL;
  g_autoptr (GString) header = g_string_new ("{");
  g_autoptr (GByteArray) out = NULL;
  g_autoptr (GError) local = NULL;
  g_autofree const char **keys = NULL;
  guint n_keys;
  guint64 offset = 0, header_len;
  guint8 len_bytes[8];

  g_return_val_if_fail (f != NULL, FALSE);
  g_return_val_if_fail (path != NULL, FALSE);

  keys = (const char **) g_hash_table_get_keys_as_array (f->metadata, &n_keys);
  if (n_keys > 0)
    {
      qsort (keys, n_keys, sizeof (char *), cmp_str);
      g_string_append (header, "\"__metadata__\":{");
      for (guint i = 0; i < n_keys; i++)
        {
          if (i > 0)
            g_string_append_c (header, ',');
          append_json_string (header, keys[i]);
          g_string_append_c (header, ':');
          append_json_string (header, g_hash_table_lookup (f->metadata, keys[i]));
        }
      g_string_append_c (header, '}');
    }

  order = g_ptr_array_copy (f->tensors, NULL, NULL);
  g_ptr_array_set_free_func (order, NULL);   /* the copy inherits it; the tensors stay f's */
  g_ptr_array_sort (order, cmp_tensor_name);
  for (guint i = 0; i < order->len; i++)
    {
      const Tensor *t = g_ptr_array_index (order, i);
      guint64 bytes = (guint64) t->n * 4;

      if (n_keys > 0 || i > 0)
        g_string_append_c (header, ',');
      append_json_string (header, t->name);
      g_string_append (header, ":{\"dtype\":\"F32\",\"shape\":[");
      for (int d = 0; d < t->rank; d++)
        g_string_append_printf (header, "%s%" G_GINT64_FORMAT, d ? "," : "", t->dims[d]);
      g_string_append_printf (header, "],\"data_offsets\":[%" G_GUINT64_FORMAT ",%"
                              G_GUINT64_FORMAT "]}", offset, offset + bytes);
      offset += bytes;
    }
  g_string_append_c (header, '}');
  /* Pad with spaces so the data starts 8-aligned, as the reference implementation does. */
  while ((header->len + 8) % 8 != 0)
    g_string_append_c (header, ' ');
  header_len = header->len;

  out = g_byte_array_sized_new ((guint) MIN (8 + header_len + offset, G_MAXUINT));
  for (int i = 0; i < 8; i++)
    len_bytes[i] = (guint8) (header_len >> (8 * i));
  g_byte_array_append (out, len_bytes, 8);
  g_byte_array_append (out, (const guint8 *) header->str, header->len);
  for (guint i = 0; i < order->len; i++)
    {
      const Tensor *t = g_ptr_array_index (order, i);

#if G_BYTE_ORDER == G_LITTLE_ENDIAN
      g_byte_array_append (out, (const guint8 *) t->data, (guint) (t->n * 4));
#else
      for (gsize j = 0; j < t->n; j++)
        {
          guint32 b;
          memcpy (&b, &t->data[j], 4);
          b = GUINT32_TO_LE (b);
          g_byte_array_append (out, (const guint8 *) &b, 4);
        }
#endif
    }

  if (!g_file_set_contents_full (path, (const char *) out->data, out->len,
                                 G_FILE_SET_CONTENTS_CONSISTENT | G_FILE_SET_CONTENTS_DURABLE,
                                 0666, &local))
    {
      g_set_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_IO, "Cannot write “%s”: %s", path,
                   local->message);
      return FALSE;
    }
  if (sha256_hex != NULL)
    sha256_hex_of (out->data, out->len, sha256_hex);
  return TRUE;
}

gboolean
weft_file_sha256 (const char *path, char sha256_hex[65], GError **error)
{
  g_autoptr (GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
  guint8 buf[65536];
  FILE *fp;
  size_t got;

  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (sha256_hex != NULL, FALSE);

  fp = fopen (path, "rb");
  if (fp == NULL)
    {
      int saved = errno;
      g_set_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_IO, "Cannot read “%s”: %s", path,
                   g_strerror (saved));
      return FALSE;
    }
  while ((got = fread (buf, 1, sizeof buf, fp)) > 0)
    g_checksum_update (sum, buf, got);
  if (ferror (fp))
    {
      int saved = errno;
      fclose (fp);
      g_set_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_IO, "Cannot read “%s”: %s", path,
                   g_strerror (saved));
      return FALSE;
    }
  fclose (fp);
  g_strlcpy (sha256_hex, g_checksum_get_string (sum), 65);
  return TRUE;
}

/* ---- graph level ---- */

static gboolean shape_known (const WeftShape *s);

gboolean
weft_safetensors_save_graph (const WeftGraph *graph, const char *path, char sha256_hex[65],
                             GError **error)
{
  g_autoptr (WeftTensorFile) f = weft_tensor_file_new ();
  int n_layers;

  g_return_val_if_fail (graph != NULL, FALSE);
  g_return_val_if_fail (path != NULL, FALSE);

  g_autoptr (GString) absent = g_string_new (NULL);

  weft_tensor_file_set_metadata (f, "format", "weft");
  n_layers = weft_graph_n_layers (graph);
  for (int i = 0; i < n_layers; i++)
    {
      WeftId layer = weft_graph_layer_at (graph, i);
      const char *lname = weft_graph_get_name (graph, layer);
      int n_w = 0;
      const WeftWeight *w = weft_graph_layer_weights (graph, layer, &n_w);

      for (int j = 0; j < n_w; j++)
        {
          g_autofree char *tname = NULL;
          int64_t dims[WEFT_TENSOR_MAX_RANK];

          if (w[j].data == NULL)
            {
              /* Recorded so that loading knows the gap is intended (a layer added after
               * training) rather than a damaged or foreign file. */
              if (shape_known (&w[j].spec.shape))
                g_string_append_printf (absent, "%s%s/%s", absent->len ? "\n" : "", lname,
                                        w[j].spec.name);
              continue;
            }
          for (int d = 0; d < w[j].spec.shape.rank; d++)
            dims[d] = w[j].spec.shape.dims[d];
          tname = g_strdup_printf ("%s/%s", lname, w[j].spec.name);
          if (!weft_tensor_file_add (f, tname, w[j].spec.shape.rank, dims, w[j].data, error))
            return FALSE;
        }
    }
  if (absent->len > 0)
    weft_tensor_file_set_metadata (f, WEFT_SAFETENSORS_UNINITIALISED_KEY, absent->str);
  return weft_tensor_file_write (f, path, sha256_hex, error);
}

typedef struct
{
  WeftId     layer;
  char       weight[WEFT_NAME_MAX];
  WeftShape  shape;
  const float *data;  /* borrowed from the tensor file */
} Pending;

static char *
format_shape (const WeftShape *s)
{
  int64_t dims[WEFT_MAX_RANK];

  for (int d = 0; d < s->rank; d++)
    dims[d] = s->dims[d];
  return format_dims (s->rank, dims);
}

static gboolean
shape_known (const WeftShape *s)
{
  if (s->rank <= 0)
    return FALSE;
  for (int d = 0; d < s->rank; d++)
    if (s->dims[d] <= 0)
      return FALSE;
  return TRUE;
}

gboolean
weft_safetensors_load_graph (WeftGraph *graph, const char *path, const char *expect_sha256,
                             GError **error)
{
  g_autoptr (GMappedFile) map = NULL;
  g_autoptr (WeftTensorFile) f = NULL;
  g_autoptr (GArray) pending = g_array_new (FALSE, TRUE, sizeof (Pending));
  g_autoptr (GHashTable) used = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_auto (GStrv) absent = NULL;
  const char *meta_absent;
  const guint8 *bytes;
  gsize len;
  int n_layers;

  g_return_val_if_fail (graph != NULL, FALSE);
  g_return_val_if_fail (path != NULL, FALSE);

  map = map_file (path, error);
  if (map == NULL)
    return FALSE;
  bytes = mapped_bytes (map, &len);

  /* Hash the very bytes that are parsed, so a file replaced in between cannot slip past. */
  if (expect_sha256 != NULL)
    {
      char got[65];

      sha256_hex_of (bytes, len, got);
      if (g_ascii_strcasecmp (got, expect_sha256) != 0)
        {
          g_set_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_MISMATCH,
                       "%s: checksum mismatch: expected SHA-256 %s, the file has %s "
                       "(the weights do not belong to this graph file)",
                       path, expect_sha256, got);
          return FALSE;
        }
    }

  f = weft_tensor_file_read_data (bytes, len, error);
  if (f == NULL)
    {
      prefix_error (error, path);
      return FALSE;
    }

  meta_absent = weft_tensor_file_get_metadata (f, WEFT_SAFETENSORS_UNINITIALISED_KEY);
  absent = g_strsplit (meta_absent != NULL ? meta_absent : "", "\n", -1);

  weft_graph_analyse (graph);
  n_layers = weft_graph_n_layers (graph);
  for (int i = 0; i < n_layers; i++)
    {
      WeftId layer = weft_graph_layer_at (graph, i);
      const char *lname = weft_graph_get_name (graph, layer);
      int n_w = 0;
      const WeftWeight *w = weft_graph_layer_weights (graph, layer, &n_w);

      for (int j = 0; j < n_w; j++)
        {
          g_autofree char *tname = g_strdup_printf ("%s/%s", lname, w[j].spec.name);
          g_autofree char *want = NULL;
          const float *data;
          int rank = 0;
          int64_t dims[WEFT_TENSOR_MAX_RANK];
          gboolean same;
          Pending p = { 0 };

          if (!shape_known (&w[j].spec.shape))
            continue;
          want = format_shape (&w[j].spec.shape);
          data = weft_tensor_file_get (f, tname, &rank, dims);
          if (data == NULL && g_strv_contains ((const char * const *) absent, tname))
            continue;
          if (data == NULL)
            {
              g_set_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_MISMATCH,
                           "%s: weight “%s” %s of the graph is missing from the file",
                           path, tname, want);
              return FALSE;
            }
          same = rank == w[j].spec.shape.rank;
          for (int d = 0; same && d < rank; d++)
            same = dims[d] == w[j].spec.shape.dims[d];
          if (!same)
            {
              g_autofree char *have = format_dims (rank, dims);
              g_set_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_MISMATCH,
                           "%s: tensor “%s” has shape %s in the file but the graph expects %s",
                           path, tname, have, want);
              return FALSE;
            }
          p.layer = layer;
          g_strlcpy (p.weight, w[j].spec.name, sizeof p.weight);
          p.shape = w[j].spec.shape;
          p.data = data;
          g_array_append_val (pending, p);
          g_hash_table_add (used, g_strdup (tname));
        }
    }

  for (int i = 0; i < weft_tensor_file_n (f); i++)
    {
      const char *tname = weft_tensor_file_name (f, i);

      if (!g_hash_table_contains (used, tname))
        {
          const char *slash = strrchr (tname, '/');
          g_autofree char *lname = slash ? g_strndup (tname, slash - tname) : NULL;
          WeftId layer = lname ? weft_graph_find (graph, lname) : WEFT_ID_NONE;
          const char *why;

          if (layer == WEFT_ID_NONE || weft_graph_kind (graph, layer) != WEFT_KIND_LAYER)
            why = "no layer of that name in the graph";
          else
            why = "the layer has no such weight, or its shape is unknown";
          g_set_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_MISMATCH,
                       "%s: tensor “%s” in the file matches no weight of the graph (%s)",
                       path, tname, why);
          return FALSE;
        }
    }

  for (guint i = 0; i < pending->len; i++)
    {
      Pending *p = &g_array_index (pending, Pending, i);
      WeftError werr = { 0 };

      if (!weft_graph_set_weight (graph, p->layer, p->weight, &p->shape, p->data, &werr))
        {
          g_set_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_MISMATCH,
                       "%s: cannot set weight “%s/%s”: %s", path,
                       weft_graph_get_name (graph, p->layer), p->weight, werr.message);
          return FALSE;
        }
    }
  return TRUE;
}
