/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "weft-io"

#include "config.h"

#include "weft-npy.h"

#include <string.h>
#include <zlib.h>

/* ---- arrays ---- */

int64_t
weft_npy_array_size (const WeftNpyArray *a)
{
  int64_t n = 1;

  g_return_val_if_fail (a != NULL, 0);
  for (int d = 0; d < a->rank; d++)
    n *= a->dims[d];
  return n;
}

void
weft_npy_array_clear (WeftNpyArray *a)
{
  if (a == NULL)
    return;
  g_free (a->data);
  memset (a, 0, sizeof *a);
}

void
weft_npy_array_free (WeftNpyArray *a)
{
  if (a == NULL)
    return;
  weft_npy_array_clear (a);
  g_free (a);
}

WeftNpyArray *
weft_npz_find (GPtrArray *arrays, const char *name)
{
  g_return_val_if_fail (arrays != NULL, NULL);
  g_return_val_if_fail (name != NULL, NULL);
  for (guint i = 0; i < arrays->len; i++)
    {
      WeftNpyArray *a = g_ptr_array_index (arrays, i);
      if (strcmp (a->name, name) == 0)
        return a;
    }
  return NULL;
}

/* ---- the header: a Python dict literal ---- */

typedef enum { KIND_FLOAT, KIND_INT, KIND_UINT, KIND_BOOL } Kind;

typedef struct
{
  Kind     kind;
  int      size;
  gboolean big_endian;
  gboolean fortran;
  int      rank;
  int64_t  dims[WEFT_NPY_MAX_RANK];
} Header;

typedef struct
{
  const char *p, *end;
} Cursor;

static void
skip_space (Cursor *c)
{
  while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
    c->p++;
}

static gboolean
eat (Cursor *c, char ch)
{
  skip_space (c);
  if (c->p < c->end && *c->p == ch)
    {
      c->p++;
      return TRUE;
    }
  return FALSE;
}

/* A quoted string without escapes (numpy never writes any in these headers). */
static gboolean
parse_string (Cursor *c, char *out, gsize out_len)
{
  char q;
  gsize n = 0;

  skip_space (c);
  if (c->p >= c->end || (*c->p != '\'' && *c->p != '"'))
    return FALSE;
  q = *c->p++;
  while (c->p < c->end && *c->p != q)
    {
      if (*c->p == '\\' || n + 1 >= out_len)
        return FALSE;
      out[n++] = *c->p++;
    }
  if (c->p >= c->end)
    return FALSE;
  c->p++;
  out[n] = '\0';
  return TRUE;
}

static gboolean
parse_word (Cursor *c, const char *word)
{
  gsize n = strlen (word);

  skip_space (c);
  if ((gsize) (c->end - c->p) >= n && memcmp (c->p, word, n) == 0)
    {
      c->p += n;
      return TRUE;
    }
  return FALSE;
}

static gboolean
parse_dim (Cursor *c, int64_t *out)
{
  guint64 v = 0;
  gboolean any = FALSE;

  skip_space (c);
  while (c->p < c->end && g_ascii_isdigit (*c->p))
    {
      guint64 digit = (guint64) (*c->p - '0');

      if (v > ((guint64) G_MAXINT64 - digit) / 10)
        return FALSE;
      v = v * 10 + digit;
      c->p++;
      any = TRUE;
    }
  if (!any)
    return FALSE;
  if (c->p < c->end && (*c->p == 'L' || *c->p == 'l'))   /* Python 2 longs */
    c->p++;
  *out = (int64_t) v;
  return TRUE;
}

static gboolean
header_error (GError **error, int code, const char *format, ...) G_GNUC_PRINTF (3, 4);

static gboolean
header_error (GError **error, int code, const char *format, ...)
{
  va_list args;
  g_autofree char *msg = NULL;

  va_start (args, format);
  msg = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (error, WEFT_IO_ERROR, code, "NPY header: %s", msg);
  return FALSE;
}

static gboolean
parse_descr (const char *descr, Header *h, GError **error)
{
  const char *p = descr;
  char order = '=';
  char *end;
  guint64 size;

  if (*p == '<' || *p == '>' || *p == '|' || *p == '=')
    order = *p++;
  switch (*p)
    {
    case 'f': h->kind = KIND_FLOAT; break;
    case 'i': h->kind = KIND_INT; break;
    case 'u': h->kind = KIND_UINT; break;
    case 'b': h->kind = KIND_BOOL; break;
    default:
      return header_error (error, WEFT_IO_ERROR_FORMAT, "unsupported dtype “%s” (only bool, "
                           "integer and float arrays can be read)", descr);
    }
  p++;
  if (!g_ascii_isdigit (*p))
    return header_error (error, WEFT_IO_ERROR_FORMAT, "bad dtype “%s”", descr);
  size = g_ascii_strtoull (p, &end, 10);
  if (*end != '\0')
    return header_error (error, WEFT_IO_ERROR_FORMAT, "bad dtype “%s”", descr);
  h->size = (int) MIN (size, 64);
  if (!((h->kind == KIND_FLOAT && (size == 2 || size == 4 || size == 8)) ||
        ((h->kind == KIND_INT || h->kind == KIND_UINT) &&
         (size == 1 || size == 2 || size == 4 || size == 8)) ||
        (h->kind == KIND_BOOL && size == 1)))
    return header_error (error, WEFT_IO_ERROR_FORMAT, "unsupported dtype “%s”", descr);
  if (order == '|' && size != 1)
    return header_error (error, WEFT_IO_ERROR_FORMAT,
                         "dtype “%s” needs a byte order", descr);
  h->big_endian = order == '>' || (order == '=' && G_BYTE_ORDER == G_BIG_ENDIAN);
  return TRUE;
}

static gboolean
parse_header (const char *text, gsize len, Header *h, GError **error)
{
  Cursor c = { text, text + len };
  gboolean have_descr = FALSE, have_order = FALSE, have_shape = FALSE;

  memset (h, 0, sizeof *h);
  if (!eat (&c, '{'))
    return header_error (error, WEFT_IO_ERROR_FORMAT, "not a dictionary");
  for (;;)
    {
      char key[32];

      if (eat (&c, '}'))
        break;
      if (!parse_string (&c, key, sizeof key) || !eat (&c, ':'))
        return header_error (error, WEFT_IO_ERROR_FORMAT, "expected a 'key': value pair");
      if (strcmp (key, "descr") == 0)
        {
          char descr[32];

          if (have_descr)
            return header_error (error, WEFT_IO_ERROR_FORMAT, "duplicate key 'descr'");
          if (!parse_string (&c, descr, sizeof descr))
            return header_error (error, WEFT_IO_ERROR_FORMAT, "'descr' is not a simple "
                                 "dtype string (structured arrays are not supported)");
          if (!parse_descr (descr, h, error))
            return FALSE;
          have_descr = TRUE;
        }
      else if (strcmp (key, "fortran_order") == 0)
        {
          if (have_order)
            return header_error (error, WEFT_IO_ERROR_FORMAT, "duplicate key 'fortran_order'");
          if (parse_word (&c, "True"))
            h->fortran = TRUE;
          else if (parse_word (&c, "False"))
            h->fortran = FALSE;
          else
            return header_error (error, WEFT_IO_ERROR_FORMAT,
                                 "'fortran_order' is neither True nor False");
          have_order = TRUE;
        }
      else if (strcmp (key, "shape") == 0)
        {
          if (have_shape)
            return header_error (error, WEFT_IO_ERROR_FORMAT, "duplicate key 'shape'");
          if (!eat (&c, '('))
            return header_error (error, WEFT_IO_ERROR_FORMAT, "'shape' is not a tuple");
          while (!eat (&c, ')'))
            {
              int64_t v;

              if (h->rank >= WEFT_NPY_MAX_RANK)
                return header_error (error, WEFT_IO_ERROR_FORMAT,
                                     "more than %d dimensions", WEFT_NPY_MAX_RANK);
              if (!parse_dim (&c, &v))
                return header_error (error, WEFT_IO_ERROR_FORMAT,
                                     "'shape' holds something other than non-negative "
                                     "integers");
              h->dims[h->rank++] = v;
              if (!eat (&c, ',') )
                {
                  if (!eat (&c, ')'))
                    return header_error (error, WEFT_IO_ERROR_FORMAT, "bad 'shape' tuple");
                  break;
                }
            }
          have_shape = TRUE;
        }
      else
        return header_error (error, WEFT_IO_ERROR_FORMAT, "unexpected key '%s'", key);
      if (!eat (&c, ','))
        {
          if (!eat (&c, '}'))
            return header_error (error, WEFT_IO_ERROR_FORMAT, "expected ',' or '}'");
          break;
        }
    }
  skip_space (&c);
  if (c.p != c.end)
    return header_error (error, WEFT_IO_ERROR_FORMAT, "trailing text after the dictionary");
  if (!have_descr || !have_order || !have_shape)
    return header_error (error, WEFT_IO_ERROR_FORMAT,
                         "'descr', 'fortran_order' and 'shape' are all required");
  return TRUE;
}

/* ---- data ---- */

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
      out = (float) mant * (1.0f / 16777216.0f);
      return sign ? -out : out;
    }
  memcpy (&out, &bits, sizeof out);
  return out;
}

static float
load_value (const Header *h, const guint8 *p)
{
  guint64 v = 0;

  if (h->big_endian)
    for (int i = 0; i < h->size; i++)
      v = (v << 8) | p[i];
  else
    for (int i = h->size - 1; i >= 0; i--)
      v = (v << 8) | p[i];

  switch (h->kind)
    {
    case KIND_FLOAT:
      if (h->size == 2)
        return half_to_float ((guint16) v);
      if (h->size == 4)
        {
          guint32 b = (guint32) v;
          float f;
          memcpy (&f, &b, 4);
          return f;
        }
      else
        {
          double d;
          memcpy (&d, &v, 8);
          return (float) d;
        }
    case KIND_INT:
      switch (h->size)
        {
        case 1: return (float) (gint8) v;
        case 2: return (float) (gint16) v;
        case 4: return (float) (gint32) v;
        default: return (float) (gint64) v;
        }
    case KIND_UINT:
      return (float) v;
    case KIND_BOOL:
      return v != 0 ? 1.0f : 0.0f;
    default:
      g_assert_not_reached ();
    }
}

gboolean
weft_npy_read_data (const guint8 *data, gsize len, WeftNpyArray *out, GError **error)
{
  static const guint8 magic[6] = { 0x93, 'N', 'U', 'M', 'P', 'Y' };
  Header h;
  guint64 header_len, start, n = 1, bytes;
  int major;
  float *values;

  g_return_val_if_fail (data != NULL || len == 0, FALSE);
  g_return_val_if_fail (out != NULL, FALSE);
  memset (out, 0, sizeof *out);

  if (len < 10 || memcmp (data, magic, 6) != 0)
    {
      g_set_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_FORMAT,
                   "Not an NPY file (no \\x93NUMPY magic)");
      return FALSE;
    }
  major = data[6];
  if (major == 1)
    {
      header_len = data[8] | ((guint64) data[9] << 8);
      start = 10;
    }
  else if (major == 2 || major == 3)
    {
      if (len < 12)
        {
          g_set_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_FORMAT, "Truncated NPY file");
          return FALSE;
        }
      header_len = data[8] | ((guint64) data[9] << 8) | ((guint64) data[10] << 16) |
                   ((guint64) data[11] << 24);
      start = 12;
    }
  else
    {
      g_set_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_VERSION,
                   "NPY format version %d.%d is not supported (1.0 to 3.0 are)", major,
                   data[7]);
      return FALSE;
    }
  if (header_len > len - start)
    {
      g_set_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_FORMAT,
                   "NPY header length %" G_GUINT64_FORMAT " runs past the end of the data "
                   "(%" G_GSIZE_FORMAT " bytes): truncated file", header_len, len);
      return FALSE;
    }
  if (header_len > WEFT_NPY_MAX_HEADER)
    {
      g_set_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_TOO_LARGE,
                   "NPY header length %" G_GUINT64_FORMAT " is above the limit of %d bytes",
                   header_len, WEFT_NPY_MAX_HEADER);
      return FALSE;
    }
  if (!parse_header ((const char *) data + start, (gsize) header_len, &h, error))
    return FALSE;
  start += header_len;

  for (int d = 0; d < h.rank; d++)
    if (!g_uint64_checked_mul (&n, n, (guint64) h.dims[d]))
      {
        g_set_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_TOO_LARGE,
                     "NPY shape overflows the element count");
        return FALSE;
      }
  if (n > (len - start) || !g_uint64_checked_mul (&bytes, n, (guint64) h.size) ||
      bytes != len - start)
    {
      g_set_error (error, WEFT_IO_ERROR, n > (len - start) ? WEFT_IO_ERROR_TOO_LARGE
                                                          : WEFT_IO_ERROR_FORMAT,
                   "NPY data is %" G_GUINT64_FORMAT " bytes but the shape and dtype need %"
                   G_GUINT64_FORMAT " elements of %d bytes%s", len - start, n, h.size,
                   n * (guint64) h.size > len - start ? " (truncated file?)" : "");
      return FALSE;
    }

  values = g_try_malloc (MAX ((gsize) n, 1) * sizeof (float));
  if (values == NULL)
    {
      g_set_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_TOO_LARGE,
                   "Not enough memory for %" G_GUINT64_FORMAT " elements", n);
      return FALSE;
    }
  if ((!h.fortran || h.rank < 2) && h.kind == KIND_FLOAT && h.size == 4 &&
      h.big_endian == (G_BYTE_ORDER == G_BIG_ENDIAN))
    {
      if (n > 0)
        memcpy (values, data + start, (gsize) n * sizeof (float));
    }
  else if (!h.fortran || h.rank < 2)
    {
      for (guint64 i = 0; i < n; i++)
        values[i] = load_value (&h, data + start + i * (guint64) h.size);
    }
  else if (n > 0)
    {
      /* Walk the file in Fortran order (first index fastest) and place each value at its
       * C-order position, keeping the C offset up to date incrementally. */
      int64_t idx[WEFT_NPY_MAX_RANK] = { 0 };
      int64_t cstride[WEFT_NPY_MAX_RANK];
      guint64 off = 0;

      cstride[h.rank - 1] = 1;
      for (int d = h.rank - 2; d >= 0; d--)
        cstride[d] = cstride[d + 1] * h.dims[d + 1];
      for (guint64 i = 0; i < n; i++)
        {
          values[off] = load_value (&h, data + start + i * (guint64) h.size);
          for (int d = 0; d < h.rank; d++)
            {
              idx[d]++;
              off += cstride[d];
              if (idx[d] < h.dims[d])
                break;
              off -= cstride[d] * h.dims[d];
              idx[d] = 0;
            }
        }
    }

  out->rank = h.rank;
  memcpy (out->dims, h.dims, sizeof h.dims);
  out->data = values;
  return TRUE;
}

gboolean
weft_npy_read (const char *path, WeftNpyArray *out, GError **error)
{
  g_autoptr (GMappedFile) map = NULL;
  g_autoptr (GError) local = NULL;
  const guint8 *p;
  static const guint8 empty[1];

  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (out != NULL, FALSE);
  memset (out, 0, sizeof *out);

  map = g_mapped_file_new (path, FALSE, &local);
  if (map == NULL)
    {
      g_set_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_IO, "Cannot read “%s”: %s", path,
                   local->message);
      return FALSE;
    }
  p = (const guint8 *) g_mapped_file_get_contents (map);
  if (!weft_npy_read_data (p ? p : empty, g_mapped_file_get_length (map), out, error))
    {
      g_prefix_error (error, "%s: ", path);
      return FALSE;
    }
  return TRUE;
}

gboolean
weft_npy_write (const char *path, const float *data, int rank, const int64_t *dims,
                GError **error)
{
  g_autoptr (GString) header = g_string_new ("{'descr': '<f4', 'fortran_order': False, "
                                             "'shape': (");
  g_autoptr (GByteArray) out = NULL;
  g_autoptr (GError) local = NULL;
  guint64 n = 1, bytes;
  guint8 prefix[10] = { 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, 0, 0 };

  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (rank == 0 || dims != NULL, FALSE);

  if (rank < 0 || rank > WEFT_NPY_MAX_RANK)
    {
      g_set_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_FORMAT,
                   "Cannot write an NPY array of rank %d (at most %d)", rank,
                   WEFT_NPY_MAX_RANK);
      return FALSE;
    }
  for (int d = 0; d < rank; d++)
    if (dims[d] < 0 || !g_uint64_checked_mul (&n, n, (guint64) dims[d]))
      {
        g_set_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_TOO_LARGE,
                     "Cannot write an NPY array with dimension %" G_GINT64_FORMAT, dims[d]);
        return FALSE;
      }
  if (!g_uint64_checked_mul (&bytes, n, 4) || bytes > G_MAXUINT - 4096)
    {
      g_set_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_TOO_LARGE,
                   "NPY array of %" G_GUINT64_FORMAT " elements is too large to write", n);
      return FALSE;
    }
  g_return_val_if_fail (n == 0 || data != NULL, FALSE);

  for (int d = 0; d < rank; d++)
    g_string_append_printf (header, "%s%" G_GINT64_FORMAT, d ? ", " : "", dims[d]);
  if (rank == 1)
    g_string_append_c (header, ',');
  g_string_append (header, "), }");
  /* numpy pads so the data starts 64-aligned and ends the header with a newline. */
  while ((10 + header->len + 1) % 64 != 0)
    g_string_append_c (header, ' ');
  g_string_append_c (header, '\n');
  prefix[8] = (guint8) (header->len & 0xff);
  prefix[9] = (guint8) (header->len >> 8);

  out = g_byte_array_sized_new ((guint) (10 + header->len + bytes));
  g_byte_array_append (out, prefix, 10);
  g_byte_array_append (out, (const guint8 *) header->str, header->len);
#if G_BYTE_ORDER == G_LITTLE_ENDIAN
  if (n > 0)
    g_byte_array_append (out, (const guint8 *) data, (guint) bytes);
#else
  for (guint64 i = 0; i < n; i++)
    {
      guint32 b;
      memcpy (&b, &data[i], 4);
      b = GUINT32_TO_LE (b);
      g_byte_array_append (out, (const guint8 *) &b, 4);
    }
#endif
  if (!g_file_set_contents_full (path, (const char *) out->data, out->len,
                                 G_FILE_SET_CONTENTS_CONSISTENT | G_FILE_SET_CONTENTS_DURABLE,
                                 0666, &local))
    {
      g_set_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_IO, "Cannot write “%s”: %s", path,
                   local->message);
      return FALSE;
    }
  return TRUE;
}

/* ---- NPZ: a zip archive of .npy entries ---- */

#define ZIP_LOCAL_SIG    0x04034b50u
#define ZIP_CENTRAL_SIG  0x02014b50u
#define ZIP_EOCD_SIG     0x06054b50u
#define ZIP64_EOCD_SIG   0x06064b50u
#define ZIP64_LOC_SIG    0x07064b50u
/* Deflate cannot expand data by more than about 1032:1; a bigger claimed size is a lie. */
#define DEFLATE_MAX_RATIO 1040

static guint64
rd (const guint8 *p, int size)
{
  guint64 v = 0;

  for (int i = size - 1; i >= 0; i--)
    v = (v << 8) | p[i];
  return v;
}

static gboolean
zip_error (GError **error, int code, const char *format, ...) G_GNUC_PRINTF (3, 4);

static gboolean
zip_error (GError **error, int code, const char *format, ...)
{
  va_list args;
  g_autofree char *msg = NULL;

  va_start (args, format);
  msg = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (error, WEFT_IO_ERROR, code, "NPZ archive: %s", msg);
  return FALSE;
}

static gboolean
find_directory (const guint8 *data, gsize len, guint64 *cd_off, guint64 *cd_size,
                guint64 *n_entries, GError **error)
{
  gsize eocd = G_MAXSIZE;

  if (len < 22)
    return zip_error (error, WEFT_IO_ERROR_FORMAT, "too short to be a zip archive");
  for (gsize i = len - 22 + 1; i-- > 0 && len - 22 - i <= 65535;)
    if (rd (data + i, 4) == ZIP_EOCD_SIG && i + 22 + rd (data + i + 20, 2) <= len)
      {
        eocd = i;
        break;
      }
  if (eocd == G_MAXSIZE)
    return zip_error (error, WEFT_IO_ERROR_FORMAT,
                      "no end-of-central-directory record (not a zip archive, or truncated)");

  *n_entries = rd (data + eocd + 10, 2);
  *cd_size = rd (data + eocd + 12, 4);
  *cd_off = rd (data + eocd + 16, 4);
  if (*n_entries == 0xffff || *cd_size == 0xffffffffu || *cd_off == 0xffffffffu)
    {
      guint64 rec;

      if (eocd < 20 || rd (data + eocd - 20, 4) != ZIP64_LOC_SIG)
        return zip_error (error, WEFT_IO_ERROR_FORMAT, "zip64 locator missing");
      rec = rd (data + eocd - 20 + 8, 8);
      if (rec > len || len - rec < 56 || rd (data + rec, 4) != ZIP64_EOCD_SIG)
        return zip_error (error, WEFT_IO_ERROR_FORMAT, "bad zip64 end-of-directory record");
      *n_entries = rd (data + rec + 32, 8);
      *cd_size = rd (data + rec + 40, 8);
      *cd_off = rd (data + rec + 48, 8);
    }
  if (*cd_off > len || *cd_size > len - *cd_off)
    return zip_error (error, WEFT_IO_ERROR_FORMAT, "central directory lies outside the file");
  if (*n_entries > *cd_size / 46)
    return zip_error (error, WEFT_IO_ERROR_FORMAT,
                      "%" G_GUINT64_FORMAT " entries cannot fit in a central directory of %"
                      G_GUINT64_FORMAT " bytes", *n_entries, *cd_size);
  return TRUE;
}

/* Replaces 0xffffffff sizes/offset with the zip64 extra field's values. */
static gboolean
apply_zip64_extra (const guint8 *extra, gsize extra_len, guint64 *usize, guint64 *csize,
                   guint64 *offset)
{
  gsize i = 0;

  while (i + 4 <= extra_len)
    {
      guint64 id = rd (extra + i, 2), sz = rd (extra + i + 2, 2);
      const guint8 *p = extra + i + 4;
      gsize used = 0;

      if (sz > extra_len - i - 4)
        return FALSE;
      if (id == 0x0001)
        {
          guint64 *fields[3] = { usize, csize, offset };

          for (int k = 0; k < 3; k++)
            if (*fields[k] == 0xffffffffu)
              {
                if (used + 8 > sz)
                  return FALSE;
                *fields[k] = rd (p + used, 8);
                used += 8;
              }
          return TRUE;
        }
      i += 4 + (gsize) sz;
    }
  return *usize != 0xffffffffu && *csize != 0xffffffffu && *offset != 0xffffffffu;
}

static guint8 *
inflate_entry (const char *name, const guint8 *src, guint64 csize, guint64 usize,
               GError **error)
{
  z_stream zs = { 0 };
  guint8 *out;
  int rc;

  if (csize > G_MAXUINT || usize > G_MAXUINT)
    {
      zip_error (error, WEFT_IO_ERROR_TOO_LARGE, "entry “%s” of %" G_GUINT64_FORMAT " bytes is "
                 "too large", name, usize);
      return NULL;
    }
  out = g_try_malloc (MAX ((gsize) usize, 1));
  if (out == NULL)
    {
      zip_error (error, WEFT_IO_ERROR_TOO_LARGE, "entry “%s”: not enough memory to inflate %"
                 G_GUINT64_FORMAT " bytes", name, usize);
      return NULL;
    }
  if (inflateInit2 (&zs, -MAX_WBITS) != Z_OK)
    {
      g_free (out);
      zip_error (error, WEFT_IO_ERROR_IO, "cannot initialise zlib");
      return NULL;
    }
  zs.next_in = (Bytef *) src;
  zs.avail_in = (uInt) csize;
  zs.next_out = out;
  zs.avail_out = (uInt) usize;
  rc = inflate (&zs, Z_FINISH);
  if (rc != Z_STREAM_END || zs.total_out != usize)
    {
      inflateEnd (&zs);
      g_free (out);
      zip_error (error, WEFT_IO_ERROR_FORMAT, "entry “%s”: corrupt deflate data (%s)", name,
                 rc == Z_STREAM_END ? "size differs from the directory"
                 : rc == Z_BUF_ERROR ? "truncated or larger than declared"
                 : zs.msg ? zs.msg : "error");
      return NULL;
    }
  inflateEnd (&zs);
  return out;
}

GPtrArray *
weft_npz_read_data (const guint8 *data, gsize len, GError **error)
{
  g_autoptr (GPtrArray) arrays = NULL;
  guint64 cd_off = 0, cd_size = 0, n_entries = 0, pos;

  g_return_val_if_fail (data != NULL || len == 0, NULL);

  if (!find_directory (data, len, &cd_off, &cd_size, &n_entries, error))
    return NULL;

  arrays = g_ptr_array_new_with_free_func ((GDestroyNotify) weft_npy_array_free);
  pos = cd_off;
  for (guint64 e = 0; e < n_entries; e++)
    {
      const guint8 *c = data + pos;
      guint64 flags, method, crc, csize, usize, name_len, extra_len, comment_len, local;
      guint64 lname_len, lextra_len, data_off;
      g_autofree char *name = NULL;
      g_autofree guint8 *inflated = NULL;
      const guint8 *payload;
      WeftNpyArray *a;
      gsize base_len;

      if (cd_off + cd_size - pos < 46 || rd (c, 4) != ZIP_CENTRAL_SIG)
        {
          zip_error (error, WEFT_IO_ERROR_FORMAT, "bad central directory entry %"
                     G_GUINT64_FORMAT, e);
          return NULL;
        }
      flags = rd (c + 8, 2);
      method = rd (c + 10, 2);
      crc = rd (c + 16, 4);
      csize = rd (c + 20, 4);
      usize = rd (c + 24, 4);
      name_len = rd (c + 28, 2);
      extra_len = rd (c + 30, 2);
      comment_len = rd (c + 32, 2);
      local = rd (c + 42, 4);
      if (46 + name_len + extra_len + comment_len > cd_off + cd_size - pos)
        {
          zip_error (error, WEFT_IO_ERROR_FORMAT, "central directory entry %" G_GUINT64_FORMAT
                     " runs past the directory", e);
          return NULL;
        }
      name = g_strndup ((const char *) c + 46, (gsize) name_len);
      if (!apply_zip64_extra (c + 46 + name_len, (gsize) extra_len, &usize, &csize, &local))
        {
          zip_error (error, WEFT_IO_ERROR_FORMAT, "entry “%s”: bad zip64 extra field", name);
          return NULL;
        }
      pos += 46 + name_len + extra_len + comment_len;

      base_len = strlen (name);
      if (base_len != name_len)
        {
          zip_error (error, WEFT_IO_ERROR_FORMAT, "entry name contains a NUL byte");
          return NULL;
        }
      if (!g_str_has_suffix (name, ".npy"))
        continue;   /* directories and other files, as numpy.load lists them apart */
      base_len -= 4;
      if (base_len >= sizeof a->name)
        {
          zip_error (error, WEFT_IO_ERROR_FORMAT, "entry name “%s” is longer than %d bytes",
                     name, (int) sizeof a->name - 1);
          return NULL;
        }
      if (flags & 1)
        {
          zip_error (error, WEFT_IO_ERROR_FORMAT, "entry “%s” is encrypted", name);
          return NULL;
        }
      if (method != 0 && method != 8)
        {
          zip_error (error, WEFT_IO_ERROR_FORMAT, "entry “%s” uses compression method %"
                     G_GUINT64_FORMAT " (only stored and deflated are supported)", name,
                     method);
          return NULL;
        }
      if (local > len || len - local < 30 || rd (data + local, 4) != ZIP_LOCAL_SIG)
        {
          zip_error (error, WEFT_IO_ERROR_FORMAT, "entry “%s”: bad local header offset", name);
          return NULL;
        }
      lname_len = rd (data + local + 26, 2);
      lextra_len = rd (data + local + 28, 2);
      data_off = local + 30 + lname_len + lextra_len;
      if (data_off > len || csize > len - data_off)
        {
          zip_error (error, WEFT_IO_ERROR_FORMAT, "entry “%s”: data runs past the end of the "
                     "file (truncated archive)", name);
          return NULL;
        }
      if (method == 0)
        {
          if (csize != usize)
            {
              zip_error (error, WEFT_IO_ERROR_FORMAT, "stored entry “%s” has different "
                         "compressed and plain sizes", name);
              return NULL;
            }
          payload = data + data_off;
        }
      else
        {
          if (usize / DEFLATE_MAX_RATIO > csize + 1)
            {
              zip_error (error, WEFT_IO_ERROR_TOO_LARGE, "entry “%s” claims to inflate %"
                         G_GUINT64_FORMAT " bytes to %" G_GUINT64_FORMAT ", more than "
                         "deflate can", name, csize, usize);
              return NULL;
            }
          inflated = inflate_entry (name, data + data_off, csize, usize, error);
          if (inflated == NULL)
            return NULL;
          payload = inflated;
        }
      if (usize > G_MAXUINT ||
          crc32 (crc32 (0, Z_NULL, 0), payload, (uInt) usize) != (uLong) crc)
        {
          zip_error (error, WEFT_IO_ERROR_FORMAT, "entry “%s”: CRC-32 mismatch (corrupt "
                     "archive)", name);
          return NULL;
        }

      a = g_new0 (WeftNpyArray, 1);
      if (!weft_npy_read_data (payload, (gsize) usize, a, error))
        {
          g_free (a);
          g_prefix_error (error, "NPZ entry “%s”: ", name);
          return NULL;
        }
      memcpy (a->name, name, base_len);
      a->name[base_len] = '\0';
      if (weft_npz_find (arrays, a->name) != NULL)
        {
          weft_npy_array_free (a);
          zip_error (error, WEFT_IO_ERROR_FORMAT, "entry “%s” appears twice", name);
          return NULL;
        }
      g_ptr_array_add (arrays, a);
    }
  return g_steal_pointer (&arrays);
}

GPtrArray *
weft_npz_read (const char *path, GError **error)
{
  g_autoptr (GMappedFile) map = NULL;
  g_autoptr (GError) local = NULL;
  static const guint8 empty[1];
  const guint8 *p;
  GPtrArray *arrays;

  g_return_val_if_fail (path != NULL, NULL);
  map = g_mapped_file_new (path, FALSE, &local);
  if (map == NULL)
    {
      g_set_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_IO, "Cannot read “%s”: %s", path,
                   local->message);
      return NULL;
    }
  p = (const guint8 *) g_mapped_file_get_contents (map);
  arrays = weft_npz_read_data (p ? p : empty, g_mapped_file_get_length (map), error);
  if (arrays == NULL)
    g_prefix_error (error, "%s: ", path);
  return arrays;
}
