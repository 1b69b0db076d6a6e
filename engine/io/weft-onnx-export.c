/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "weft-onnx-export.h"

#include <math.h>
#include <string.h>

#include "onnx.pb-c.h"
#include "weft-activation.h"

typedef struct
{
  WeftGraph  *graph;
  GPtrArray  *nodes;     /* Onnx__NodeProto * */
  GPtrArray  *inits;     /* Onnx__TensorProto * */
  GPtrArray  *allocs;    /* everything to g_free at the end */
  GHashTable *cache;     /* "layer-id/tag" -> initializer name (weights stored once) */
  int         counter;
  GError    **error;
} Onnx;

static gpointer
track (Onnx *o, gpointer p)
{
  g_ptr_array_add (o->allocs, p);
  return p;
}

static char *
tstr (Onnx *o, const char *s)
{
  return track (o, g_strdup (s));
}

/* A fresh tensor name. */
static char *
fresh (Onnx *o, const char *base)
{
  return track (o, g_strdup_printf ("%s:%d", base, o->counter++));
}

static gboolean
unsupported (Onnx *o, const char *layer, const char *format, ...) G_GNUC_PRINTF (3, 4);

static gboolean
unsupported (Onnx *o, const char *layer, const char *format, ...)
{
  if (o->error && *o->error)
    return FALSE;
  va_list ap;
  va_start (ap, format);
  g_autofree char *msg = g_strdup_vprintf (format, ap);
  va_end (ap);
  g_set_error (o->error, WEFT_INTEROP_ERROR, WEFT_INTEROP_ERROR_UNSUPPORTED,
               "layer '%s': ONNX export: %s", layer, msg);
  return FALSE;
}

/* ---- nodes and attributes ---- */

static Onnx__NodeProto *
node (Onnx *o, const char *op, int n_in, const char *const *in, int n_out,
      const char *const *out)
{
  Onnx__NodeProto *n = track (o, g_new0 (Onnx__NodeProto, 1));
  onnx__node_proto__init (n);
  n->op_type = tstr (o, op);
  n->name = fresh (o, op);
  n->n_input = n_in;
  n->input = track (o, g_new0 (char *, MAX (n_in, 1)));
  for (int i = 0; i < n_in; i++)
    n->input[i] = tstr (o, in[i]);
  n->n_output = n_out;
  n->output = track (o, g_new0 (char *, MAX (n_out, 1)));
  for (int i = 0; i < n_out; i++)
    n->output[i] = tstr (o, out[i]);
  n->attribute = track (o, g_new0 (Onnx__AttributeProto *, 8));
  g_ptr_array_add (o->nodes, n);
  return n;
}

static Onnx__AttributeProto *
attr (Onnx *o, Onnx__NodeProto *n, const char *name, Onnx__AttributeProto__AttributeType type)
{
  g_assert (n->n_attribute < 8);
  Onnx__AttributeProto *a = track (o, g_new0 (Onnx__AttributeProto, 1));
  onnx__attribute_proto__init (a);
  a->name = tstr (o, name);
  a->has_type = TRUE;
  a->type = type;
  n->attribute[n->n_attribute++] = a;
  return a;
}

static void
attr_int (Onnx *o, Onnx__NodeProto *n, const char *name, int64_t v)
{
  Onnx__AttributeProto *a = attr (o, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT);
  a->has_i = TRUE;
  a->i = v;
}

static void
attr_float (Onnx *o, Onnx__NodeProto *n, const char *name, float v)
{
  Onnx__AttributeProto *a = attr (o, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT);
  a->has_f = TRUE;
  a->f = v;
}

static void
attr_ints (Onnx *o, Onnx__NodeProto *n, const char *name, int count, const int64_t *v)
{
  Onnx__AttributeProto *a = attr (o, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS);
  a->n_ints = count;
  a->ints = track (o, g_memdup2 (v, sizeof (int64_t) * MAX (count, 1)));
}

static void
attr_floats (Onnx *o, Onnx__NodeProto *n, const char *name, int count, const float *v)
{
  Onnx__AttributeProto *a = attr (o, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS);
  a->n_floats = count;
  a->floats = track (o, g_memdup2 (v, sizeof (float) * MAX (count, 1)));
}

static void
attr_strings (Onnx *o, Onnx__NodeProto *n, const char *name, int count, const char *const *v)
{
  Onnx__AttributeProto *a = attr (o, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRINGS);
  a->n_strings = count;
  a->strings = track (o, g_new0 (ProtobufCBinaryData, MAX (count, 1)));
  for (int i = 0; i < count; i++)
    {
      a->strings[i].data = (uint8_t *) tstr (o, v[i]);
      a->strings[i].len = strlen (v[i]);
    }
}

/* ---- initializers ---- */

static const char *
init_tensor (Onnx *o, const char *name, int32_t type, int rank, const int64_t *dims,
             const void *data, size_t bytes)
{
  Onnx__TensorProto *t = track (o, g_new0 (Onnx__TensorProto, 1));
  onnx__tensor_proto__init (t);
  t->name = tstr (o, name);
  t->n_dims = rank;
  t->dims = track (o, g_memdup2 (dims, sizeof (int64_t) * MAX (rank, 1)));
  t->has_data_type = TRUE;
  t->data_type = type;
  t->has_raw_data = TRUE;
  /* raw_data is little-endian */
  guint8 *raw = track (o, g_malloc (MAX (bytes, 1)));
  memcpy (raw, data, bytes);
  if (G_BYTE_ORDER != G_LITTLE_ENDIAN)
    {
      size_t w = type == ONNX__TENSOR_PROTO__DATA_TYPE__INT64 ? 8 : 4;
      for (size_t i = 0; i + w <= bytes; i += w)
        for (size_t k = 0; k < w / 2; k++)
          {
            guint8 c = raw[i + k];
            raw[i + k] = raw[i + w - 1 - k];
            raw[i + w - 1 - k] = c;
          }
    }
  t->raw_data.data = raw;
  t->raw_data.len = bytes;
  g_ptr_array_add (o->inits, t);
  return t->name;
}

static const char *
init_floats (Onnx *o, const char *name, int rank, const int64_t *dims, const float *data)
{
  size_t n = 1;
  for (int i = 0; i < rank; i++)
    n *= (size_t) dims[i];
  return init_tensor (o, name, ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, rank, dims, data,
                      n * sizeof (float));
}

/* A 1-D int64 constant (shapes, axes, pads). */
static const char *
const_i64 (Onnx *o, int n, const int64_t *v)
{
  int64_t dims[1] = { n };
  return init_tensor (o, fresh (o, "const"), ONNX__TENSOR_PROTO__DATA_TYPE__INT64, 1, dims, v,
                      (size_t) n * sizeof (int64_t));
}

static const char *
const_f32 (Onnx *o, float v)
{
  return init_tensor (o, fresh (o, "const"), ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 0, NULL, &v,
                      sizeof v);
}

/* ---- small op helpers returning the output name ---- */

static const char *
op1 (Onnx *o, const char *op, const char *x)
{
  const char *out = fresh (o, op);
  node (o, op, 1, &x, 1, &out);
  return out;
}

static const char *
op2 (Onnx *o, const char *op, const char *a, const char *b)
{
  const char *in[2] = { a, b };
  const char *out = fresh (o, op);
  node (o, op, 2, in, 1, &out);
  return out;
}

static const char *
transpose (Onnx *o, const char *x, int rank, const int64_t *perm)
{
  const char *out = fresh (o, "Transpose");
  Onnx__NodeProto *n = node (o, "Transpose", 1, &x, 1, &out);
  attr_ints (o, n, "perm", rank, perm);
  return out;
}

static const char *
reshape (Onnx *o, const char *x, int n, const int64_t *shape)
{
  return op2 (o, "Reshape", x, const_i64 (o, n, shape));
}

/* Full-rank (batch included) NHWC <-> NCHW for a per-sample shape of rank r. */
static const char *
to_channels_first (Onnx *o, const char *x, int r)
{
  int64_t perm[WEFT_MAX_RANK + 1];
  perm[0] = 0;
  perm[1] = r;
  for (int i = 1; i < r; i++)
    perm[i + 1] = i;
  return transpose (o, x, r + 1, perm);
}

static const char *
to_channels_last (Onnx *o, const char *x, int r)
{
  int64_t perm[WEFT_MAX_RANK + 1];
  perm[0] = 0;
  for (int i = 1; i < r; i++)
    perm[i] = i + 1;
  perm[r] = 1;
  return transpose (o, x, r + 1, perm);
}

static const char *
activation (Onnx *o, const char *x, int act, const char *layer)
{
  switch (act)
    {
    case WEFT_ACT_LINEAR:
      return x;
    case WEFT_ACT_RELU:
      return op1 (o, "Relu", x);
    case WEFT_ACT_LEAKY_RELU:
      {
        const char *out = fresh (o, "LeakyRelu");
        attr_float (o, node (o, "LeakyRelu", 1, &x, 1, &out), "alpha", 0.3f);
        return out;
      }
    case WEFT_ACT_ELU:
      {
        const char *out = fresh (o, "Elu");
        attr_float (o, node (o, "Elu", 1, &x, 1, &out), "alpha", 1.0f);
        return out;
      }
    case WEFT_ACT_SELU:
      {
        const char *out = fresh (o, "Selu");
        Onnx__NodeProto *n = node (o, "Selu", 1, &x, 1, &out);
        attr_float (o, n, "alpha", 1.6732632423543772f);
        attr_float (o, n, "gamma", 1.0507009873554805f);
        return out;
      }
    case WEFT_ACT_GELU:
      {
        const char *e = op1 (o, "Erf", op2 (o, "Mul", x, const_f32 (o, (float) M_SQRT1_2)));
        const char *h = op2 (o, "Add", e, const_f32 (o, 1.0f));
        return op2 (o, "Mul", op2 (o, "Mul", x, h), const_f32 (o, 0.5f));
      }
    case WEFT_ACT_SIGMOID:
      return op1 (o, "Sigmoid", x);
    case WEFT_ACT_HARD_SIGMOID:
      {
        const char *out = fresh (o, "HardSigmoid");
        Onnx__NodeProto *n = node (o, "HardSigmoid", 1, &x, 1, &out);
        attr_float (o, n, "alpha", 0.2f);
        attr_float (o, n, "beta", 0.5f);
        return out;
      }
    case WEFT_ACT_TANH:
      return op1 (o, "Tanh", x);
    case WEFT_ACT_SOFTMAX:
      {
        const char *out = fresh (o, "Softmax");
        attr_int (o, node (o, "Softmax", 1, &x, 1, &out), "axis", -1);
        return out;
      }
    case WEFT_ACT_SOFTPLUS:
      return op1 (o, "Softplus", x);
    case WEFT_ACT_SOFTSIGN:
      return op1 (o, "Softsign", x);
    case WEFT_ACT_SWISH:
      return op2 (o, "Mul", x, op1 (o, "Sigmoid", x));
    default:
      unsupported (o, layer, "activation %d", act);
      return NULL;
    }
}

/* ---- weights ---- */

static const WeftWeight *
weight (Onnx *o, WeftId layer, const char *name)
{
  int n;
  const WeftWeight *w = weft_graph_layer_weights (o->graph, layer, &n);
  for (int i = 0; i < n; i++)
    if (strcmp (w[i].spec.name, name) == 0)
      return w[i].data != NULL ? &w[i] : NULL;
  return NULL;
}

/* The cached initializer for (layer, tag), or NULL. */
static const char *
cached (Onnx *o, WeftId layer, const char *tag)
{
  g_autofree char *key = g_strdup_printf ("%d/%s", layer, tag);
  return g_hash_table_lookup (o->cache, key);
}

static const char *
remember (Onnx *o, WeftId layer, const char *tag, const char *name)
{
  g_hash_table_insert (o->cache, g_strdup_printf ("%d/%s", layer, tag), (gpointer) name);
  return name;
}

/* A weight unchanged (Keras layout), named "<layer>/<weight>". */
static const char *
plain_weight (Onnx *o, WeftId layer, const char *wname)
{
  const char *c = cached (o, layer, wname);
  if (c)
    return c;
  const WeftWeight *w = weight (o, layer, wname);
  if (w == NULL)
    return NULL;
  int64_t dims[WEFT_MAX_RANK];
  for (int i = 0; i < w->spec.shape.rank; i++)
    dims[i] = w->spec.shape.dims[i];
  g_autofree char *name = g_strdup_printf ("%s/%s", weft_graph_get_name (o->graph, layer), wname);
  return remember (o, layer, wname, init_floats (o, name, w->spec.shape.rank, dims, w->data));
}

/* Conv kernels [k..., cin, cout] -> ONNX [cout, cin, k...]; depthwise [k..., cin, mult] ->
 * [cin*mult, 1, k...]; transposed [k..., cout, cin] -> [cin, cout, k...]. */
typedef enum { KERNEL_CONV, KERNEL_DEPTHWISE, KERNEL_TRANSPOSE } KernelKind;

static const char *
conv_kernel (Onnx *o, WeftId layer, const char *wname, KernelKind kind)
{
  g_autofree char *tag = g_strdup_printf ("%s#oihw", wname);
  const char *c = cached (o, layer, tag);
  if (c)
    return c;
  const WeftWeight *w = weight (o, layer, wname);
  if (w == NULL)
    return NULL;
  int r = w->spec.shape.rank, sp = r - 2;
  int a = w->spec.shape.dims[r - 2], b = w->spec.shape.dims[r - 1];
  size_t ks = 1;
  for (int i = 0; i < sp; i++)
    ks *= (size_t) w->spec.shape.dims[i];
  size_t total = ks * (size_t) a * (size_t) b;
  float *out = g_new (float, MAX (total, 1));
  int64_t dims[WEFT_MAX_RANK];
  for (size_t k = 0; k < ks; k++)
    for (int i = 0; i < a; i++)
      for (int j = 0; j < b; j++)
        {
          float v = w->data[(k * a + i) * b + j];
          switch (kind)
            {
            case KERNEL_CONV:      /* a = cin, b = cout */
              out[((size_t) j * a + i) * ks + k] = v;
              break;
            case KERNEL_DEPTHWISE: /* a = cin, b = mult: channel i*b + j */
              out[((size_t) i * b + j) * ks + k] = v;
              break;
            case KERNEL_TRANSPOSE: /* a = cout, b = cin */
              out[((size_t) j * a + i) * ks + k] = v;
              break;
            }
        }
  switch (kind)
    {
    case KERNEL_CONV:
      dims[0] = b, dims[1] = a;
      break;
    case KERNEL_DEPTHWISE:
      dims[0] = (int64_t) a * b, dims[1] = 1;
      break;
    case KERNEL_TRANSPOSE:
      dims[0] = b, dims[1] = a;
      break;
    }
  for (int i = 0; i < sp; i++)
    dims[2 + i] = w->spec.shape.dims[i];
  g_autofree char *name = g_strdup_printf ("%s/%s_onnx", weft_graph_get_name (o->graph, layer),
                                           wname);
  const char *res = init_floats (o, name, r, dims, out);
  g_free (out);
  return remember (o, layer, tag, res);
}

/* ---- layers ---- */

typedef struct
{
  WeftId           layer;
  const char      *name;
  const WeftOpDesc *op;
  const WeftValue *cfg;
  int              n_in;
  const char      *in[WEFT_MAX_INPUTS];
  WeftShape        in_shape[WEFT_MAX_INPUTS];
  WeftShape        out_shape;
} Call;

static int
cfg_i (const Call *c, const char *p)
{
  int i = weft_op_param_index (c->op, p);
  g_assert (i >= 0);
  return (int) c->cfg[i].num;
}

static const WeftValue *
cfg_v (const Call *c, const char *p)
{
  int i = weft_op_param_index (c->op, p);
  g_assert (i >= 0);
  return &c->cfg[i];
}

/* Keras 'same' padding: the odd cell goes after. */
static void
same_pads (int in, int k, int s, int d, int64_t *before, int64_t *after)
{
  int out = (in + s - 1) / s;
  int total = (out - 1) * s + (k - 1) * d + 1 - in;
  if (total < 0)
    total = 0;
  *before = total / 2;
  *after = total - total / 2;
}

static const char *
emit_conv (Onnx *o, const Call *c)
{
  const char *type = c->op->name;
  gboolean depthwise = strcmp (type, "DepthwiseConv2D") == 0;
  gboolean separable = strcmp (type, "SeparableConv2D") == 0;
  gboolean transposed = strcmp (type, "Conv2DTranspose") == 0;
  int r = c->in_shape[0].rank, sp = r - 1;
  const WeftValue *ks = cfg_v (c, "kernel_size"), *st = cfg_v (c, "strides"),
                  *dl = cfg_v (c, "dilation_rate");
  int64_t k[2], s[2], d[2], pads[4] = { 0 }, outpad[2] = { 0 };
  const char *padding = c->op->params[weft_op_param_index (c->op, "padding")]
                          .choices[cfg_i (c, "padding")];
  for (int i = 0; i < sp; i++)
    {
      k[i] = ks->ints[ks->n > i ? i : 0];
      s[i] = st->ints[st->n > i ? i : 0];
      d[i] = dl->ints[dl->n > i ? i : 0];
      int in = c->in_shape[0].dims[i];
      if (transposed)
        {
          int keff = (int) ((k[i] - 1) * d[i] + 1);
          if (strcmp (padding, "same") == 0)
            {
              if (keff >= s[i])
                {
                  int total = keff - (int) s[i];
                  pads[i] = total / 2;
                  pads[sp + i] = total - total / 2;
                }
              else
                outpad[i] = s[i] - keff;
            }
          (void) in;
        }
      else if (strcmp (padding, "same") == 0)
        same_pads (in, (int) k[i], (int) s[i], (int) d[i], &pads[i], &pads[sp + i]);
      else if (strcmp (padding, "causal") == 0)
        pads[i] = (k[i] - 1) * d[i];
    }
  const char *x = to_channels_first (o, c->in[0], r);
  const char *bias = cfg_i (c, "use_bias") ? plain_weight (o, c->layer, "bias") : NULL;
  const char *kernel;
  int group = 1;
  if (depthwise || separable)
    {
      kernel = conv_kernel (o, c->layer, "depthwise_kernel", KERNEL_DEPTHWISE);
      group = c->in_shape[0].dims[r - 1];
    }
  else
    kernel = conv_kernel (o, c->layer, "kernel", transposed ? KERNEL_TRANSPOSE : KERNEL_CONV);
  if (kernel == NULL)
    {
      unsupported (o, c->name, "weights without data");
      return NULL;
    }
  const char *in[3] = { x, kernel, bias };
  const char *y = fresh (o, type);
  Onnx__NodeProto *n = node (o, transposed ? "ConvTranspose" : "Conv",
                             (bias && !separable) ? 3 : 2, in, 1, &y);
  attr_ints (o, n, "kernel_shape", sp, k);
  attr_ints (o, n, "strides", sp, s);
  attr_ints (o, n, "dilations", sp, d);
  attr_ints (o, n, "pads", 2 * sp, pads);
  if (group > 1)
    attr_int (o, n, "group", group);
  if (transposed && (outpad[0] || outpad[1]))
    attr_ints (o, n, "output_padding", sp, outpad);
  if (separable)
    {
      const char *pk = conv_kernel (o, c->layer, "pointwise_kernel", KERNEL_CONV);
      const char *in2[3] = { y, pk, bias };
      const char *y2 = fresh (o, "Conv");
      int64_t one[2] = { 1, 1 };
      Onnx__NodeProto *n2 = node (o, "Conv", bias ? 3 : 2, in2, 1, &y2);
      attr_ints (o, n2, "kernel_shape", sp, one);
      y = y2;
    }
  y = to_channels_last (o, y, r);
  return activation (o, y, cfg_i (c, "activation"), c->name);
}

static const char *
emit_pool (Onnx *o, const Call *c)
{
  int r = c->in_shape[0].rank, sp = r - 1;
  gboolean is_max = g_str_has_prefix (c->op->name, "Max");
  const WeftValue *ps = cfg_v (c, "pool_size"), *st = cfg_v (c, "strides");
  int64_t k[2], s[2], pads[4] = { 0 };
  gboolean same = cfg_i (c, "padding") == 1;
  for (int i = 0; i < sp; i++)
    {
      k[i] = ps->ints[ps->n > i ? i : 0];
      s[i] = st->n == 0 ? k[i] : st->ints[st->n > i ? i : 0];
      if (same)
        same_pads (c->in_shape[0].dims[i], (int) k[i], (int) s[i], 1, &pads[i], &pads[sp + i]);
    }
  const char *x = to_channels_first (o, c->in[0], r);
  const char *y = fresh (o, "Pool");
  Onnx__NodeProto *n = node (o, is_max ? "MaxPool" : "AveragePool", 1, &x, 1, &y);
  attr_ints (o, n, "kernel_shape", sp, k);
  attr_ints (o, n, "strides", sp, s);
  attr_ints (o, n, "pads", 2 * sp, pads);
  if (!is_max)
    attr_int (o, n, "count_include_pad", 0);
  return to_channels_last (o, y, r);
}

static const char *
reduce (Onnx *o, const char *op, const char *x, int n_axes, const int64_t *axes, int keepdims)
{
  const char *y = fresh (o, op);
  Onnx__NodeProto *n = node (o, op, 1, &x, 1, &y);
  attr_ints (o, n, "axes", n_axes, axes);
  attr_int (o, n, "keepdims", keepdims);
  return y;
}

static const char *
reduce_sum (Onnx *o, const char *x, int n_axes, const int64_t *axes, int keepdims)
{
  const char *in[2] = { x, const_i64 (o, n_axes, axes) };
  const char *y = fresh (o, "ReduceSum");
  attr_int (o, node (o, "ReduceSum", 2, in, 1, &y), "keepdims", keepdims);
  return y;
}

static const char *
slice (Onnx *o, const char *x, int n, const int64_t *starts, const int64_t *ends,
       const int64_t *axes, const int64_t *steps)
{
  const char *in[5] = { x, const_i64 (o, n, starts), const_i64 (o, n, ends),
                        const_i64 (o, n, axes), steps ? const_i64 (o, n, steps) : NULL };
  const char *y = fresh (o, "Slice");
  node (o, "Slice", steps ? 5 : 4, in, 1, &y);
  return y;
}

/* Reverses axis 1 (time) of a [N, T, F] tensor. */
static const char *
reverse_time (Onnx *o, const char *x)
{
  int64_t starts[1] = { -1 }, ends[1] = { G_MININT64 }, axes[1] = { 1 }, steps[1] = { -1 };
  return slice (o, x, 1, starts, ends, axes, steps);
}

static const char *
rnn_activation_name (int act, float *alpha, float *beta, int *n_params)
{
  *n_params = 0;
  switch (act)
    {
    case WEFT_ACT_LINEAR:
      *alpha = 1, *beta = 0, *n_params = 2;
      return "Affine";
    case WEFT_ACT_RELU:
      return "Relu";
    case WEFT_ACT_TANH:
      return "Tanh";
    case WEFT_ACT_SIGMOID:
      return "Sigmoid";
    case WEFT_ACT_HARD_SIGMOID:
      *alpha = 0.2f, *beta = 0.5f, *n_params = 2;
      return "HardSigmoid";
    case WEFT_ACT_SOFTSIGN:
      return "Softsign";
    case WEFT_ACT_SOFTPLUS:
      return "Softplus";
    case WEFT_ACT_LEAKY_RELU:
      *alpha = 0.3f, *n_params = 1;
      return "LeakyRelu";
    case WEFT_ACT_ELU:
      *alpha = 1, *n_params = 1;
      return "Elu";
    default:
      return NULL;
    }
}

typedef enum { CELL_LSTM, CELL_GRU, CELL_RNN } CellKind;

/* One recurrent layer over x [N, T, F] (weights named prefix + "kernel"...). Returns the
 * last state [N, u] or the sequence [N, T, u]. */
static const char *
emit_rnn (Onnx *o, const Call *c, CellKind kind, const char *prefix, const char *x, int steps,
          int units, int act, int rec_act, gboolean use_bias, gboolean reset_after,
          gboolean go_backwards, gboolean return_sequences)
{
  int gates = kind == CELL_LSTM ? 4 : kind == CELL_GRU ? 3 : 1;
  int gu = gates * units;
  g_autofree char *kn = g_strdup_printf ("%skernel", prefix);
  g_autofree char *rn = g_strdup_printf ("%srecurrent_kernel", prefix);
  g_autofree char *bn = g_strdup_printf ("%sbias", prefix);
  const WeftWeight *wk = weight (o, c->layer, kn), *wr = weight (o, c->layer, rn);
  const WeftWeight *wb = use_bias ? weight (o, c->layer, bn) : NULL;
  if (wk == NULL || wr == NULL || (use_bias && wb == NULL))
    {
      unsupported (o, c->name, "weights without data");
      return NULL;
    }
  int in_dim = wk->spec.shape.dims[0];
  /* Keras gate order -> ONNX: LSTM i,f,c,o -> i,o,f,c; GRU z,r,h -> z,r,h */
  static const int lstm_perm[4] = { 0, 3, 1, 2 };
  g_autofree char *tag = g_strdup_printf ("%s#rnn", prefix);
  const char *W = cached (o, c->layer, tag);
  g_autofree char *rtag = g_strdup_printf ("%s#rnn_r", prefix);
  g_autofree char *btag = g_strdup_printf ("%s#rnn_b", prefix);
  if (W == NULL)
    {
      float *w = g_new0 (float, (size_t) gu * in_dim);
      float *r = g_new0 (float, (size_t) gu * units);
      float *b = g_new0 (float, 2 * (size_t) gu);
      for (int g = 0; g < gates; g++)
        {
          int src = kind == CELL_LSTM ? lstm_perm[g] : g;
          for (int j = 0; j < units; j++)
            {
              for (int k = 0; k < in_dim; k++)
                w[((size_t) g * units + j) * in_dim + k] = wk->data[(size_t) k * gu + src * units + j];
              for (int k = 0; k < units; k++)
                r[((size_t) g * units + j) * units + k] = wr->data[(size_t) k * gu + src * units + j];
              if (wb != NULL)
                {
                  if (kind == CELL_GRU && reset_after)
                    {
                      b[g * units + j] = wb->data[src * units + j];
                      b[gu + g * units + j] = wb->data[gu + src * units + j];
                    }
                  else
                    b[g * units + j] = wb->data[src * units + j];
                }
            }
        }
      const char *lname = weft_graph_get_name (o->graph, c->layer);
      int64_t wd[3] = { 1, gu, in_dim }, rd[3] = { 1, gu, units }, bd[2] = { 1, 2 * gu };
      g_autofree char *n1 = g_strdup_printf ("%s/%sW_onnx", lname, prefix);
      g_autofree char *n2 = g_strdup_printf ("%s/%sR_onnx", lname, prefix);
      g_autofree char *n3 = g_strdup_printf ("%s/%sB_onnx", lname, prefix);
      W = remember (o, c->layer, tag, init_floats (o, n1, 3, wd, w));
      remember (o, c->layer, rtag, init_floats (o, n2, 3, rd, r));
      remember (o, c->layer, btag, init_floats (o, n3, 2, bd, b));
      g_free (w);
      g_free (r);
      g_free (b);
    }
  const char *R = cached (o, c->layer, rtag), *B = cached (o, c->layer, btag);

  const char *names[3];
  float alphas[3], betas[3];
  int n_alpha = 0, n_beta = 0;
  int acts[3] = { rec_act, act, act };
  int n_acts = kind == CELL_LSTM ? 3 : kind == CELL_GRU ? 2 : 1;
  if (kind == CELL_RNN)
    acts[0] = act;
  for (int i = 0; i < n_acts; i++)
    {
      float a = 0, b = 0;
      int np;
      names[i] = rnn_activation_name (acts[i], &a, &b, &np);
      if (names[i] == NULL)
        {
          unsupported (o, c->name, "activation '%s' inside a recurrent cell",
                       weft_activation_names[acts[i]]);
          return NULL;
        }
      if (np >= 1)
        alphas[n_alpha++] = a;
      if (np >= 2)
        betas[n_beta++] = b;
    }

  if (go_backwards)
    x = reverse_time (o, x);
  int64_t tperm[3] = { 1, 0, 2 };
  const char *xt = transpose (o, x, 3, tperm);
  const char *in[4] = { xt, W, R, B };
  const char *y_seq = fresh (o, "Y"), *y_h = fresh (o, "Y_h");
  const char *outs[2] = { return_sequences ? y_seq : "", y_h };
  const char *op = kind == CELL_LSTM ? "LSTM" : kind == CELL_GRU ? "GRU" : "RNN";
  Onnx__NodeProto *n = node (o, op, 4, in, 2, outs);
  attr_int (o, n, "hidden_size", units);
  attr_strings (o, n, "activations", n_acts, names);
  if (n_alpha)
    attr_floats (o, n, "activation_alpha", n_alpha, alphas);
  if (n_beta)
    attr_floats (o, n, "activation_beta", n_beta, betas);
  if (kind == CELL_GRU && reset_after)
    attr_int (o, n, "linear_before_reset", 1);
  (void) steps;
  if (!return_sequences)
    {
      int64_t ax[1] = { 0 };
      return op2 (o, "Squeeze", y_h, const_i64 (o, 1, ax));
    }
  int64_t ax[1] = { 1 };
  const char *s = op2 (o, "Squeeze", y_seq, const_i64 (o, 1, ax));
  return transpose (o, s, 3, tperm);
}

static const char *
emit_recurrent (Onnx *o, const Call *c)
{
  const char *type = c->op->name;
  int steps = c->in_shape[0].dims[0];
  if (strcmp (type, "Bidirectional") == 0)
    {
      static const char *const inner[] = { "lstm", "gru", "simple_rnn" };
      static const CellKind kinds[] = { CELL_LSTM, CELL_GRU, CELL_RNN };
      int li = cfg_i (c, "layer");
      int units = cfg_i (c, "units");
      gboolean rs = cfg_i (c, "return_sequences"), gb = cfg_i (c, "go_backwards");
      g_autofree char *fp = g_strdup_printf ("forward_%s/", inner[li]);
      g_autofree char *bp = g_strdup_printf ("backward_%s/", inner[li]);
      int rec = kinds[li] == CELL_RNN ? 0 : cfg_i (c, "recurrent_activation");
      const char *f = emit_rnn (o, c, kinds[li], fp, c->in[0], steps, units,
                                cfg_i (c, "activation"), rec, cfg_i (c, "use_bias"),
                                cfg_i (c, "reset_after"), gb, rs);
      const char *b = f ? emit_rnn (o, c, kinds[li], bp, c->in[0], steps, units,
                                    cfg_i (c, "activation"), rec, cfg_i (c, "use_bias"),
                                    cfg_i (c, "reset_after"), !gb, rs) : NULL;
      if (b == NULL)
        return NULL;
      if (rs)
        b = reverse_time (o, b);
      switch (cfg_i (c, "merge_mode"))
        {
        case 0:
          {
            const char *in[2] = { f, b };
            const char *y = fresh (o, "Concat");
            attr_int (o, node (o, "Concat", 2, in, 1, &y), "axis", -1);
            return y;
          }
        case 1:
          return op2 (o, "Add", f, b);
        case 2:
          return op2 (o, "Mul", f, b);
        default:
          return op2 (o, "Mul", op2 (o, "Add", f, b), const_f32 (o, 0.5f));
        }
    }
  CellKind kind = strcmp (type, "LSTM") == 0 ? CELL_LSTM
                  : strcmp (type, "GRU") == 0 ? CELL_GRU : CELL_RNN;
  return emit_rnn (o, c, kind, "", c->in[0], steps, cfg_i (c, "units"),
                   cfg_i (c, "activation"),
                   kind == CELL_RNN ? 0 : cfg_i (c, "recurrent_activation"),
                   cfg_i (c, "use_bias"), kind == CELL_GRU ? cfg_i (c, "reset_after") : FALSE,
                   cfg_i (c, "go_backwards"), cfg_i (c, "return_sequences"));
}

static const char *
l2_normalize (Onnx *o, const char *x, int axis)
{
  int64_t ax[1] = { axis };
  const char *ss = reduce_sum (o, op2 (o, "Mul", x, x), 1, ax, 1);
  const char *m = op2 (o, "Max", ss, const_f32 (o, 1e-12f));
  return op2 (o, "Div", x, op1 (o, "Sqrt", m));
}

static const char *
emit_layer (Onnx *o, const Call *c)
{
  const char *type = c->op->name;
  const WeftShape *is = &c->in_shape[0], *os = &c->out_shape;
  int r = is->rank;

  if (strcmp (type, "Dense") == 0 || strcmp (type, "TimeDistributed") == 0)
    {
      const char *k = plain_weight (o, c->layer, "kernel");
      if (k == NULL)
        return unsupported (o, c->name, "weights without data"), NULL;
      const char *y = op2 (o, "MatMul", c->in[0], k);
      if (cfg_i (c, "use_bias"))
        y = op2 (o, "Add", y, plain_weight (o, c->layer, "bias"));
      return activation (o, y, cfg_i (c, "activation"), c->name);
    }
  if (strcmp (type, "Activation") == 0)
    return activation (o, c->in[0], cfg_i (c, "activation"), c->name);
  if (c->op->flags & WEFT_OP_IDENTITY_INFERENCE)
    return c->in[0];
  if (strcmp (type, "Flatten") == 0 || strcmp (type, "Reshape") == 0)
    {
      int64_t shape[WEFT_MAX_RANK + 1] = { -1 };
      for (int i = 0; i < os->rank; i++)
        shape[i + 1] = os->dims[i];
      return reshape (o, c->in[0], os->rank + 1, shape);
    }
  if (strcmp (type, "RepeatVector") == 0)
    {
      int64_t ax[1] = { 1 }, rep[3] = { 1, cfg_i (c, "n"), 1 };
      const char *u = op2 (o, "Unsqueeze", c->in[0], const_i64 (o, 1, ax));
      return op2 (o, "Tile", u, const_i64 (o, 3, rep));
    }
  if (strcmp (type, "Permute") == 0)
    {
      const WeftValue *d = cfg_v (c, "dims");
      int64_t perm[WEFT_MAX_RANK + 1] = { 0 };
      for (int i = 0; i < d->n; i++)
        perm[i + 1] = d->ints[i];
      return transpose (o, c->in[0], d->n + 1, perm);
    }
  if (g_str_has_prefix (type, "Conv") || strcmp (type, "SeparableConv2D") == 0
      || strcmp (type, "DepthwiseConv2D") == 0)
    return emit_conv (o, c);
  if (strcmp (type, "MaxPooling1D") == 0 || strcmp (type, "MaxPooling2D") == 0
      || strcmp (type, "AveragePooling1D") == 0 || strcmp (type, "AveragePooling2D") == 0)
    return emit_pool (o, c);
  if (g_str_has_prefix (type, "Global"))
    {
      int64_t axes[WEFT_MAX_RANK];
      for (int i = 0; i < r - 1; i++)
        axes[i] = i + 1;
      return reduce (o, strstr (type, "Max") ? "ReduceMax" : "ReduceMean", c->in[0], r - 1, axes,
                     cfg_i (c, "keepdims"));
    }
  if (strcmp (type, "Embedding") == 0)
    {
      const char *ids = fresh (o, "Cast");
      attr_int (o, node (o, "Cast", 1, &c->in[0], 1, &ids), "to",
                ONNX__TENSOR_PROTO__DATA_TYPE__INT64);
      const char *in[2] = { plain_weight (o, c->layer, "embeddings"), ids };
      const char *y = fresh (o, "Gather");
      attr_int (o, node (o, "Gather", 2, in, 1, &y), "axis", 0);
      return y;
    }
  if (strcmp (type, "LSTM") == 0 || strcmp (type, "GRU") == 0 || strcmp (type, "SimpleRNN") == 0
      || strcmp (type, "Bidirectional") == 0)
    return emit_recurrent (o, c);
  if (strcmp (type, "BatchNormalization") == 0)
    {
      int ch = is->dims[r - 1];
      const WeftWeight *g = weight (o, c->layer, "gamma"), *b = weight (o, c->layer, "beta");
      const WeftWeight *m = weight (o, c->layer, "moving_mean");
      const WeftWeight *v = weight (o, c->layer, "moving_variance");
      if (m == NULL || v == NULL)
        return unsupported (o, c->name, "weights without data"), NULL;
      const char *sc = cached (o, c->layer, "bn_scale");
      if (sc == NULL)
        {
          float *scale = g_new (float, ch), *shift = g_new (float, ch);
          double eps = c->cfg[weft_op_param_index (c->op, "epsilon")].num;
          for (int i = 0; i < ch; i++)
            {
              double s = (g ? g->data[i] : 1.0) / sqrt ((double) v->data[i] + (float) eps);
              scale[i] = (float) s;
              shift[i] = (float) ((b ? b->data[i] : 0.0) - m->data[i] * s);
            }
          int64_t dims[1] = { ch };
          const char *ln = weft_graph_get_name (o->graph, c->layer);
          g_autofree char *n1 = g_strdup_printf ("%s/scale_onnx", ln);
          g_autofree char *n2 = g_strdup_printf ("%s/shift_onnx", ln);
          sc = remember (o, c->layer, "bn_scale", init_floats (o, n1, 1, dims, scale));
          remember (o, c->layer, "bn_shift", init_floats (o, n2, 1, dims, shift));
          g_free (scale);
          g_free (shift);
        }
      return op2 (o, "Add", op2 (o, "Mul", c->in[0], sc), cached (o, c->layer, "bn_shift"));
    }
  if (strcmp (type, "LayerNormalization") == 0)
    {
      int64_t ax[1] = { -1 };
      double eps = c->cfg[weft_op_param_index (c->op, "epsilon")].num;
      const char *mean = reduce (o, "ReduceMean", c->in[0], 1, ax, 1);
      const char *d = op2 (o, "Sub", c->in[0], mean);
      const char *var = reduce (o, "ReduceMean", op2 (o, "Mul", d, d), 1, ax, 1);
      const char *y = op2 (o, "Div", d, op1 (o, "Sqrt", op2 (o, "Add", var,
                                                               const_f32 (o, (float) eps))));
      const char *g = plain_weight (o, c->layer, "gamma");
      const char *b = plain_weight (o, c->layer, "beta");
      if (g)
        y = op2 (o, "Mul", y, g);
      if (b)
        y = op2 (o, "Add", y, b);
      return y;
    }
  if (strcmp (type, "ZeroPadding1D") == 0 || strcmp (type, "ZeroPadding2D") == 0
      || strcmp (type, "Cropping1D") == 0 || strcmp (type, "Cropping2D") == 0)
    {
      gboolean crop = g_str_has_prefix (type, "Cropping");
      const WeftValue *v = cfg_v (c, crop ? "cropping" : "padding");
      int sp = r - 1;
      int64_t before[2], after[2];
      if (sp == 1)
        before[0] = v->ints[0], after[0] = v->n >= 2 ? v->ints[1] : v->ints[0];
      else if (v->n == 1)
        before[0] = after[0] = before[1] = after[1] = v->ints[0];
      else if (v->n == 2)
        before[0] = after[0] = v->ints[0], before[1] = after[1] = v->ints[1];
      else
        before[0] = v->ints[0], after[0] = v->ints[1], before[1] = v->ints[2],
        after[1] = v->ints[3];
      if (crop)
        {
          int64_t starts[2], ends[2], axes[2];
          for (int i = 0; i < sp; i++)
            {
              starts[i] = before[i];
              ends[i] = is->dims[i] - after[i];
              axes[i] = i + 1;
            }
          return slice (o, c->in[0], sp, starts, ends, axes, NULL);
        }
      int64_t pads[2 * (WEFT_MAX_RANK + 1)] = { 0 };
      int full = r + 1;
      for (int i = 0; i < sp; i++)
        {
          pads[1 + i] = before[i];
          pads[full + 1 + i] = after[i];
        }
      return op2 (o, "Pad", c->in[0], const_i64 (o, 2 * full, pads));
    }
  if (strcmp (type, "UpSampling1D") == 0 || strcmp (type, "UpSampling2D") == 0)
    {
      if (r == 2)
        {
          int s = cfg_i (c, "size");
          int64_t sh1[4] = { -1, is->dims[0], 1, is->dims[1] }, ex[4] = { 1, 1, s, 1 };
          int64_t sh2[3] = { -1, (int64_t) is->dims[0] * s, is->dims[1] };
          const char *e = op2 (o, "Expand", reshape (o, c->in[0], 4, sh1), const_i64 (o, 4, ex));
          return reshape (o, e, 3, sh2);
        }
      const WeftValue *sz = cfg_v (c, "size");
      int sh = sz->ints[0], sw = sz->n > 1 ? sz->ints[1] : sz->ints[0];
      int64_t s1[6] = { -1, is->dims[0], 1, is->dims[1], 1, is->dims[2] };
      int64_t ex[6] = { 1, 1, sh, 1, sw, 1 };
      int64_t s2[4] = { -1, (int64_t) is->dims[0] * sh, (int64_t) is->dims[1] * sw, is->dims[2] };
      const char *e = op2 (o, "Expand", reshape (o, c->in[0], 6, s1), const_i64 (o, 6, ex));
      return reshape (o, e, 4, s2);
    }
  if (c->op->flags & WEFT_OP_MERGE)
    {
      const char *y = fresh (o, type);
      if (strcmp (type, "Add") == 0)
        node (o, "Sum", c->n_in, c->in, 1, &y);
      else if (strcmp (type, "Subtract") == 0)
        node (o, "Sub", 2, c->in, 1, &y);
      else if (strcmp (type, "Multiply") == 0)
        {
          const char *acc = c->in[0];
          for (int i = 1; i < c->n_in; i++)
            acc = op2 (o, "Mul", acc, c->in[i]);
          return acc;
        }
      else if (strcmp (type, "Average") == 0)
        node (o, "Mean", c->n_in, c->in, 1, &y);
      else if (strcmp (type, "Maximum") == 0)
        node (o, "Max", c->n_in, c->in, 1, &y);
      else if (strcmp (type, "Minimum") == 0)
        node (o, "Min", c->n_in, c->in, 1, &y);
      else if (strcmp (type, "Concatenate") == 0)
        {
          int axis = cfg_i (c, "axis");
          attr_int (o, node (o, "Concat", c->n_in, c->in, 1, &y), "axis", axis);
        }
      else if (strcmp (type, "Dot") == 0)
        {
          const WeftValue *axes = cfg_v (c, "axes");
          int r0 = c->in_shape[0].rank, r1 = c->in_shape[1].rank;
          int a0 = axes->ints[0], a1 = axes->n > 1 ? axes->ints[1] : axes->ints[0];
          a0 = a0 < 0 ? a0 + r0 + 1 : a0;
          a1 = a1 < 0 ? a1 + r1 + 1 : a1;
          const char *x0 = c->in[0], *x1 = c->in[1];
          if (cfg_i (c, "normalize"))
            {
              x0 = l2_normalize (o, x0, a0);
              x1 = l2_normalize (o, x1, a1);
            }
          if (r0 == 1 && r1 == 1)
            {
              int64_t ax[1] = { 1 };
              return reduce_sum (o, op2 (o, "Mul", x0, x1), 1, ax, 1);
            }
          if (r0 == 2 && r1 == 2)
            {
              int64_t tp[3] = { 0, 2, 1 };
              if (a0 == 1)
                x0 = transpose (o, x0, 3, tp);
              if (a1 == 2)
                x1 = transpose (o, x1, 3, tp);
              return op2 (o, "MatMul", x0, x1);
            }
          return unsupported (o, c->name, "Dot of inputs of ranks %d and %d", r0 + 1, r1 + 1),
                 NULL;
        }
      else
        return unsupported (o, c->name, "no ONNX mapping for %s", type), NULL;
      return y;
    }
  return unsupported (o, c->name, "no ONNX mapping for %s", type), NULL;
}

/* Emits one call of `model` with its inputs bound to in_names; fills out_names (one per
 * output). Nested models are inlined. */
static gboolean
emit_model (Onnx *o, WeftId model, const char *const *in_names, const char **out_names,
            int depth)
{
  if (depth > 32)
    return unsupported (o, weft_graph_get_name (o->graph, model), "models nested too deeply");
  g_autoptr (GArray) order = weft_interop_topo_order (o->graph, model, o->error);
  if (order == NULL)
    return FALSE;
  /* node id -> array of output names (one per port) */
  g_autoptr (GHashTable) outs = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL,
                                                       g_free);
  for (int i = 0; i < weft_graph_model_n_inputs (o->graph, model); i++)
    {
      const char **v = g_new0 (const char *, 1);
      v[0] = in_names[i];
      g_hash_table_insert (outs, GINT_TO_POINTER (weft_graph_model_input (o->graph, model, i)), v);
    }
  for (guint i = 0; i < order->len; i++)
    {
      WeftId nd = g_array_index (order, WeftId, i);
      if (g_hash_table_contains (outs, GINT_TO_POINTER (nd)))
        continue;
      WeftId callee = weft_graph_node_callee (o->graph, nd);
      int n_in = weft_graph_node_n_inputs (o->graph, nd);
      const char *in[WEFT_MAX_INPUTS];
      Call c = { .layer = callee, .n_in = n_in };
      for (int p = 0; p < n_in && p < WEFT_MAX_INPUTS; p++)
        {
          WeftId src;
          int sp;
          weft_graph_node_input (o->graph, nd, p, &src, &sp);
          const char **so = g_hash_table_lookup (outs, GINT_TO_POINTER (src));
          if (so == NULL)
            return unsupported (o, weft_graph_get_name (o->graph, callee),
                                "an input comes from a node that is not computed");
          in[p] = so[sp];
          c.in[p] = so[sp];
          weft_graph_node_shape (o->graph, src, sp, &c.in_shape[p]);
        }
      int n_out = weft_graph_node_n_outputs (o->graph, nd);
      const char **v = g_new0 (const char *, MAX (n_out, 1));
      g_hash_table_insert (outs, GINT_TO_POINTER (nd), v);
      if (weft_graph_kind (o->graph, callee) == WEFT_KIND_MODEL)
        {
          if (!emit_model (o, callee, in, v, depth + 1))
            return FALSE;
          continue;
        }
      c.name = weft_graph_get_name (o->graph, callee);
      c.op = weft_graph_layer_op (o->graph, callee);
      c.cfg = weft_graph_layer_config (o->graph, callee);
      if (c.op->flags & WEFT_OP_INPUT)
        return unsupported (o, c.name, "an Input that is not an input of its model");
      weft_graph_node_shape (o->graph, nd, 0, &c.out_shape);
      v[0] = emit_layer (o, &c);
      if (v[0] == NULL)
        return FALSE;
    }
  for (int j = 0; j < weft_graph_model_n_outputs (o->graph, model); j++)
    {
      const WeftHead *h = weft_graph_model_output (o->graph, model, j);
      const char **so = g_hash_table_lookup (outs, GINT_TO_POINTER (h->node));
      out_names[j] = so ? so[h->port] : NULL;
      if (out_names[j] == NULL)
        return unsupported (o, weft_graph_get_name (o->graph, model), "output %d is not computed",
                            j);
    }
  return TRUE;
}

static Onnx__ValueInfoProto *
value_info (Onnx *o, const char *name, int32_t elem, const WeftShape *shape)
{
  Onnx__ValueInfoProto *vi = track (o, g_new0 (Onnx__ValueInfoProto, 1));
  onnx__value_info_proto__init (vi);
  vi->name = tstr (o, name);
  Onnx__TypeProto *tp = track (o, g_new0 (Onnx__TypeProto, 1));
  onnx__type_proto__init (tp);
  Onnx__TypeProto__Tensor *tt = track (o, g_new0 (Onnx__TypeProto__Tensor, 1));
  onnx__type_proto__tensor__init (tt);
  tt->has_elem_type = TRUE;
  tt->elem_type = elem;
  Onnx__TensorShapeProto *sh = track (o, g_new0 (Onnx__TensorShapeProto, 1));
  onnx__tensor_shape_proto__init (sh);
  sh->n_dim = shape->rank + 1;
  sh->dim = track (o, g_new0 (Onnx__TensorShapeProto__Dimension *, sh->n_dim));
  for (size_t i = 0; i < sh->n_dim; i++)
    {
      Onnx__TensorShapeProto__Dimension *d = track (o, g_new0 (Onnx__TensorShapeProto__Dimension,
                                                                1));
      onnx__tensor_shape_proto__dimension__init (d);
      if (i == 0)
        {
          d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
          d->dim_param = tstr (o, "batch");
        }
      else
        {
          d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
          d->dim_value = shape->dims[i - 1];
        }
      sh->dim[i] = d;
    }
  tt->shape = sh;
  tp->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
  tp->tensor_type = tt;
  vi->type = tp;
  return vi;
}

GBytes *
weft_onnx_export_bytes (WeftGraph *graph, GError **error)
{
  if (!weft_interop_check_graph (graph, error))
    return NULL;
  if (!weft_interop_init_weights (graph, weft_graph_get_train_config (graph)->seed, error))
    return NULL;
  weft_graph_analyse (graph);

  Onnx ov = { .graph = graph, .error = error }, *o = &ov;
  o->nodes = g_ptr_array_new ();
  o->inits = g_ptr_array_new ();
  o->allocs = g_ptr_array_new_with_free_func (g_free);
  o->cache = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  GBytes *result = NULL;

  WeftId main_model = weft_graph_get_main_model (graph);
  int n_in = weft_graph_model_n_inputs (graph, main_model);
  int n_out = weft_graph_model_n_outputs (graph, main_model);
  const char **in_names = g_new0 (const char *, MAX (n_in, 1));
  const char **out_names = g_new0 (const char *, MAX (n_out, 1));
  Onnx__ValueInfoProto **inputs = g_new0 (Onnx__ValueInfoProto *, MAX (n_in, 1));
  Onnx__ValueInfoProto **outputs = g_new0 (Onnx__ValueInfoProto *, MAX (n_out, 1));

  for (int i = 0; i < n_in; i++)
    {
      WeftId node_id = weft_graph_model_input (graph, main_model, i);
      WeftId layer = weft_graph_node_callee (graph, node_id);
      const WeftOpDesc *op = weft_graph_layer_op (graph, layer);
      gboolean is_int = weft_graph_layer_config (graph, layer)[weft_op_param_index (op, "dtype")]
                          .num == 1;
      WeftShape s;
      weft_graph_node_shape (graph, node_id, 0, &s);
      in_names[i] = weft_graph_model_input_name (graph, main_model, i);
      inputs[i] = value_info (o, in_names[i], is_int ? ONNX__TENSOR_PROTO__DATA_TYPE__INT32
                                                     : ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, &s);
    }
  if (!emit_model (o, main_model, in_names, out_names, 0))
    goto out;
  for (int j = 0; j < n_out; j++)
    {
      const WeftHead *h = weft_graph_model_output (graph, main_model, j);
      const char *name = weft_graph_model_output_name (graph, main_model, j);
      const char *src = out_names[j];
      node (o, "Identity", 1, &src, 1, &name);
      WeftShape s;
      weft_graph_node_shape (graph, h->node, h->port, &s);
      outputs[j] = value_info (o, name, ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, &s);
    }

  {
    Onnx__GraphProto g;
    onnx__graph_proto__init (&g);
    g.name = (char *) weft_graph_get_name (graph, main_model);
    g.n_node = o->nodes->len;
    g.node = (Onnx__NodeProto **) o->nodes->pdata;
    g.n_initializer = o->inits->len;
    g.initializer = (Onnx__TensorProto **) o->inits->pdata;
    g.n_input = n_in;
    g.input = inputs;
    g.n_output = n_out;
    g.output = outputs;
    Onnx__OperatorSetIdProto opset;
    onnx__operator_set_id_proto__init (&opset);
    opset.domain = (char *) "";
    opset.has_version = TRUE;
    opset.version = WEFT_ONNX_OPSET;
    Onnx__OperatorSetIdProto *opsets[1] = { &opset };
    Onnx__ModelProto m;
    onnx__model_proto__init (&m);
    m.has_ir_version = TRUE;
    m.ir_version = 7;
    m.producer_name = (char *) "Weft";
    m.producer_version = (char *) "0.1";
    m.n_opset_import = 1;
    m.opset_import = opsets;
    m.graph = &g;
    size_t len = onnx__model_proto__get_packed_size (&m);
    guint8 *buf = g_malloc (MAX (len, 1));
    onnx__model_proto__pack (&m, buf);
    result = g_bytes_new_take (buf, len);
  }

out:
  g_free (in_names);
  g_free (out_names);
  g_free (inputs);
  g_free (outputs);
  g_ptr_array_free (o->nodes, TRUE);
  g_ptr_array_free (o->inits, TRUE);
  g_ptr_array_free (o->allocs, TRUE);
  g_hash_table_destroy (o->cache);
  return result;
}

gboolean
weft_onnx_export (WeftGraph *graph, const char *path, GError **error)
{
  g_autoptr (GBytes) bytes = weft_onnx_export_bytes (graph, error);
  if (bytes == NULL)
    return FALSE;
  gsize len;
  const void *data = g_bytes_get_data (bytes, &len);
  return weft_interop_write_file (path, data, len, error);
}
