/* SPDX-License-Identifier: GPL-3.0-or-later */
/* weft-op.h: the layer registry. Every layer type is described exactly once by a WeftOpDesc:
 * its parameters (drive the inspector, the .weft reader/writer, validation and exports),
 * shape inference, weights with initialisers, forward and backward.
 *
 * Conventions for forward/backward (all tensors float32, row-major, batch first, NHWC):
 *  - in[i] holds ctx->batch rows of weft_shape_size(&in_shape[i]) floats, out likewise.
 *  - forward writes out (and may save state in aux for backward).
 *  - backward ADDS into din[i] (may be NULL: no gradient wanted for that input) and into
 *    dw[k] (NULL when the weights are frozen or in inference). Never assign: fan-out and
 *    shared layers rely on accumulation. dout is read-only. The one exception: an op with
 *    WEFT_OP_ASSIGNS_GRADS must ASSIGN (overwrite every value of) din[i] / dw[k] when
 *    din_assign[i] / dw_assign[k] is set; the plan sets them for the first writer of a
 *    gradient in a backward pass and leaves that buffer unzeroed (it may hold anything).
 *  - forward and backward never allocate: aux and scratch are sized by aux_size/scratch_size.
 *  - integer inputs (token ids) arrive as floats holding exact integers. */
#pragma once

#include "weft-types.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum
{
  WEFT_PARAM_INT,     /* num holds an integer in [min, max] */
  WEFT_PARAM_FLOAT,   /* num in [min, max] */
  WEFT_PARAM_BOOL,    /* num 0 or 1 */
  WEFT_PARAM_CHOICE,  /* num = index into choices */
  WEFT_PARAM_INTS,    /* ints[0..n) each in [min, max] (a value of -1 is allowed when
                         WEFT_PARAM_ALLOW_MINUS_ONE is set), n in [n_min, n_max] */
} WeftParamType;

enum
{
  WEFT_PARAM_KEY              = 1 << 0, /* shown on the node body on the canvas */
  WEFT_PARAM_ALLOW_MINUS_ONE  = 1 << 1, /* INTS: -1 means "infer" (Reshape) */
  WEFT_PARAM_NULLABLE         = 1 << 2, /* INT: 0 stands for Keras' None */
};

typedef struct
{
  const char         *name;       /* Keras config key: "units", "activation" */
  WeftParamType       type;
  const char         *help;       /* English, marked WEFT_N_ for translation */
  double              def;        /* default (INT, FLOAT, BOOL, CHOICE index) */
  double              min, max;   /* inclusive range (INT, FLOAT, each of INTS) */
  const char *const  *choices;    /* CHOICE: NULL-terminated Keras spellings */
  int                 n_min, n_max; /* INTS: number of values */
  int                 def_n;      /* INTS default */
  int                 def_ints[WEFT_MAX_RANK];
  unsigned            flags;
} WeftParamSpec;

/* One configured value; which fields count depends on the spec's type. */
typedef struct
{
  double num;
  int    n;
  int    ints[WEFT_MAX_RANK];
} WeftValue;

typedef enum
{
  WEFT_INIT_ZEROS,
  WEFT_INIT_ONES,
  WEFT_INIT_GLOROT_UNIFORM,   /* Keras fans: receptive = prod(shape[:-2]) */
  WEFT_INIT_ORTHOGONAL,       /* recurrent kernels; per gate block [u, u] as Keras does */
  WEFT_INIT_UNIFORM_005,      /* RandomUniform(-0.05, 0.05): Embedding */
  WEFT_INIT_HE_UNIFORM,
  WEFT_INIT_UNIT_FORGET_BIAS, /* LSTM bias [4u]: zeros, ones in the forget block [u, 2u) */
} WeftInit;

typedef struct
{
  char      name[WEFT_NAME_MAX]; /* Keras weight name: "kernel", "bias", ... */
  WeftShape shape;               /* full weight shape (rank may be 1..WEFT_MAX_RANK) */
  WeftInit  init;
  bool      trainable;           /* false for moving statistics */
} WeftWeightSpec;

/* Arguments of one call for infer/weights/aux_size/scratch_size. */
typedef struct
{
  const WeftValue *cfg;          /* one value per spec in desc->params */
  const WeftShape *in;           /* n_in input shapes */
  int              n_in;
  const WeftShape *out;          /* inferred output shape (NULL inside infer) */
} WeftOpArgs;

typedef struct _WeftOpDesc WeftOpDesc;

typedef struct
{
  const WeftOpDesc *op;
  const WeftValue  *cfg;
  int               batch;
  bool              training;
  int               n_in;
  const float      *in[WEFT_MAX_INPUTS];
  float            *din[WEFT_MAX_INPUTS];
  WeftShape         in_shape[WEFT_MAX_INPUTS];
  float            *out;
  const float      *dout;
  WeftShape         out_shape;
  float            *w[WEFT_MAX_WEIGHTS];
  float            *dw[WEFT_MAX_WEIGHTS];
  float            *aux;       /* aux_size(batch) floats, private to this call, kept fwd->bwd */
  float            *scratch;   /* scratch_size(batch) floats, shared, clobbered between calls */
  WeftRng          *rng;       /* for dropout and other stochastic layers */
  int               threads;   /* threads the op may use for its own element-wise work */
  /* Only for ops with WEFT_OP_ASSIGNS_GRADS (false elsewhere): this call is the first to
   * write din[i] / dw[k] in this backward pass, which must then assign, not add. */
  bool              din_assign[WEFT_MAX_INPUTS];
  bool              dw_assign[WEFT_MAX_WEIGHTS];
  /* Only for ops with desc->output_activation: dout already is the gradient of the
   * pre-activation z of output = act(z) (a cross-entropy head on softmax or sigmoid computed
   * p - target itself), so backward skips the activation's own backward. */
  bool              dout_preact;
} WeftOpCtx;

enum
{
  WEFT_OP_INPUT     = 1 << 0, /* Input: no inputs, fed from data */
  WEFT_OP_MERGE     = 1 << 1, /* variadic merge: palette group "Merge" */
  WEFT_OP_IDENTITY_INFERENCE = 1 << 2, /* output == input when not training (Dropout) */
  WEFT_OP_INT_INPUT = 1 << 3, /* expects integer ids (Embedding) */
  WEFT_OP_ASSIGNS_GRADS = 1 << 4, /* backward honours din_assign / dw_assign (see above):
                                     the plan then skips zeroing those gradients */
};

#define WEFT_VARIADIC (-1)

struct _WeftOpDesc
{
  const char          *name;      /* Keras class_name: "Dense" */
  const char          *category;  /* palette group: "Inputs", "Core", "Convolution",
                                     "Pooling", "Recurrent", "Normalisation", "Merge",
                                     "Reshaping", "Regularisation", "Activation" */
  const char          *help;      /* one sentence, WEFT_N_ */
  const WeftParamSpec *params;
  int                  n_params;
  int                  min_inputs;
  int                  max_inputs; /* WEFT_VARIADIC for merges */
  unsigned             flags;

  /* Output shape, or false with a message in why (mention shapes; the caller adds the node
   * name). Must check ranks and sizes so that forward can trust its inputs. */
  bool   (*infer)        (const WeftOpArgs *args, WeftShape *out, char *why, size_t why_len);
  /* Weights in Keras order; returns their number (0 when NULL). */
  int    (*weights)      (const WeftOpArgs *args, WeftWeightSpec *specs);
  /* Floats needed per call (aux) and as shared temporary space (scratch); NULL means 0. */
  size_t (*aux_size)     (const WeftOpArgs *args, int batch);
  size_t (*scratch_size) (const WeftOpArgs *args, int batch);
  void   (*forward)      (const WeftOpCtx *ctx);
  void   (*backward)     (const WeftOpCtx *ctx);
  /* Optional checks across parameters, run after the range checks. */
  bool   (*check)        (const WeftValue *cfg, char *why, size_t why_len);
  /* Optional: the activation (a WeftActivation) this call's output ends with, when backward
   * honours ctx->dout_preact (see WeftOpCtx). */
  int    (*output_activation) (const WeftValue *cfg);
};

/* Registry access. Types are looked up by their Keras class name. */
int               weft_op_count        (void);
const WeftOpDesc *weft_op_get          (int index);
const WeftOpDesc *weft_op_lookup       (const char *name);
int               weft_op_param_index  (const WeftOpDesc *op, const char *name);
/* Fills cfg[0..op->n_params) with the defaults. */
void              weft_op_defaults     (const WeftOpDesc *op, WeftValue *cfg);
/* Range/choice check of one value against its spec. */
bool              weft_op_check_value  (const WeftParamSpec *spec, const WeftValue *value,
                                        char *why, size_t why_len);
/* Convenience for op implementations. */
static inline int    weft_cfg_int   (const WeftValue *cfg, int i) { return (int) cfg[i].num; }
static inline float  weft_cfg_float (const WeftValue *cfg, int i) { return (float) cfg[i].num; }
static inline bool   weft_cfg_bool  (const WeftValue *cfg, int i) { return cfg[i].num != 0; }

/* Family tables, NULL-terminated, one per engine/layers/weft-layers-*.c file. */
extern const WeftOpDesc *const weft_layers_core[];      /* Input, Dense, Activation, Dropout,
                                                           Flatten, Reshape, RepeatVector */
extern const WeftOpDesc *const weft_layers_merge[];     /* Add ... Concatenate, Dot */
extern const WeftOpDesc *const weft_layers_conv[];      /* Conv1D/2D, Separable, Depthwise,
                                                           Conv2DTranspose */
extern const WeftOpDesc *const weft_layers_pool[];      /* pooling, global pooling */
extern const WeftOpDesc *const weft_layers_reshape[];   /* ZeroPadding, Cropping,
                                                           UpSampling, Permute */
extern const WeftOpDesc *const weft_layers_recurrent[]; /* Embedding, SimpleRNN, LSTM, GRU,
                                                           Bidirectional, TimeDistributed */
extern const WeftOpDesc *const weft_layers_norm[];      /* BatchNormalization,
                                                           LayerNormalization */

#ifdef __cplusplus
}
#endif
