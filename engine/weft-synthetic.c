/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Built-in synthetic data sets. Each one is generated from a hidden structure that the
 * matching example can learn, so the lesson's point shows in the curves:
 *   blobs          Gaussian clusters -> one class head (Sequential MLP)
 *   three-heads    latent profile -> inputs; age (years, regression), income class, gender:
 *                  the age MSE is hundreds of times larger than the other losses, which is
 *                  why the lesson weights the heads 0.25 / 1 / 10
 *   siamese-pairs  two samples from class prototypes -> "same class?"
 *   two-views      one scene seen by two cameras through the same optics -> a regression
 *                  target; a shared encoder (a model used twice) fits it
 *   qa-facts       a text naming three attributes + a question asking for one -> the answer
 *                  word (question answering: the answer needs both inputs)
 *   posts          token ids with marker words for age, income and gender -> three heads
 *   motifs         images with motifs of three sizes -> class (inception, residual block)
 *   stereo         one object seen by two cameras -> its disparity (a shared encoder)
 *   random         noise of the right shapes for any model (benchmarks)
 */
#include "weft-data.h"
#include "weft-graph.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const weft_synthetic_names[] = {
  "blobs", "three-heads", "siamese-pairs", "two-views", "qa-facts", "posts", "motifs", "stereo",
  "random", NULL,
};

typedef struct
{
  int            n_inputs;
  const char    *in_name[WEFT_MAX_INPUTS];
  WeftShape      in_shape[WEFT_MAX_INPUTS];
  bool           in_int[WEFT_MAX_INPUTS];
  int            in_vocab[WEFT_MAX_INPUTS];
  int            n_heads;
  const char    *head_name[WEFT_MAX_INPUTS];
  WeftShape      head_shape[WEFT_MAX_INPUTS];
  WeftLoss       head_loss[WEFT_MAX_INPUTS];
} Sig;

static bool
signature (WeftGraph *g, Sig *s, WeftError *error)
{
  if (!weft_graph_validate (g, error))
    return false;
  WeftId m = weft_graph_get_main_model (g);
  memset (s, 0, sizeof *s);
  s->n_inputs = weft_graph_model_n_inputs (g, m);
  s->n_heads = weft_graph_model_n_outputs (g, m);
  if (s->n_inputs > WEFT_MAX_INPUTS || s->n_heads > WEFT_MAX_INPUTS)
    return weft_error_set (error, WEFT_ERROR_DATA, WEFT_ID_NONE, -1,
                           "too many inputs or heads for a synthetic data set");
  for (int i = 0; i < s->n_inputs; i++)
    {
      WeftId node = weft_graph_model_input (g, m, i);
      WeftId layer = weft_graph_node_callee (g, node);
      s->in_name[i] = weft_graph_model_input_name (g, m, i);
      weft_graph_node_shape (g, node, 0, &s->in_shape[i]);
      const WeftOpDesc *op = weft_graph_layer_op (g, layer);
      int dt = weft_op_param_index (op, "dtype");
      s->in_int[i] = dt >= 0 && weft_graph_layer_config (g, layer)[dt].num == 1;
      /* the vocabulary: the smallest input_dim of the Embedding layers fed by this input */
      s->in_vocab[i] = 0;
      for (int k = 0; k < weft_graph_model_n_nodes (g, m); k++)
        {
          WeftId n = weft_graph_model_node_at (g, m, k);
          if (weft_graph_kind (g, weft_graph_node_callee (g, n)) != WEFT_KIND_LAYER)
            continue;
          WeftId src;
          const WeftOpDesc *cop = weft_graph_layer_op (g, weft_graph_node_callee (g, n));
          int p = weft_op_param_index (cop, "input_dim");
          if (p >= 0 && weft_graph_node_input (g, n, 0, &src, NULL) && src == node)
            {
              int v = (int) weft_graph_layer_config (g, weft_graph_node_callee (g, n))[p].num;
              if (s->in_vocab[i] == 0 || v < s->in_vocab[i])
                s->in_vocab[i] = v;
            }
        }
      if (s->in_vocab[i] > 0)
        s->in_int[i] = true;
    }
  for (int j = 0; j < s->n_heads; j++)
    {
      const WeftHead *h = weft_graph_model_output (g, m, j);
      s->head_name[j] = weft_graph_model_output_name (g, m, j);
      weft_graph_node_shape (g, h->node, h->port, &s->head_shape[j]);
      s->head_loss[j] = h->loss;
    }
  return true;
}

static int
last_dim (const WeftShape *s)
{
  return s->rank > 0 ? s->dims[s->rank - 1] : 1;
}

static bool
is_regression (WeftLoss l)
{
  return l == WEFT_LOSS_MSE || l == WEFT_LOSS_MAE || l == WEFT_LOSS_HUBER;
}

static bool
is_categorical (WeftLoss l)
{
  return l == WEFT_LOSS_CATEGORICAL_CROSSENTROPY || l == WEFT_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY;
}

/* Adds a class target (one-hot or index, as the head's loss wants). */
static float *
add_class_target (WeftDataset *d, const Sig *s, int j, WeftError *error)
{
  WeftShape shape = s->head_shape[j];
  if (s->head_loss[j] == WEFT_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY)
    shape = weft_shape_make (1, 1);
  return weft_dataset_add (d, s->head_name[j], &shape, error);
}

static void
set_class (float *t, const Sig *s, int j, int64_t row, int cls)
{
  if (s->head_loss[j] == WEFT_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY)
    t[row] = (float) cls;
  else
    {
      int c = last_dim (&s->head_shape[j]);
      memset (t + row * c, 0, (size_t) c * sizeof (float));
      t[row * c + cls] = 1.0f;
    }
}

static bool
need (bool cond, WeftError *error, const char *set, const char *what)
{
  if (cond)
    return true;
  return weft_error_set (error, WEFT_ERROR_DATA, WEFT_ID_NONE, -1,
                         "the synthetic set '%s' needs %s", set, what);
}

static WeftDataset *
make_blobs (const Sig *s, int64_t n, WeftRng *rng, WeftError *error)
{
  if (!need (s->n_inputs == 1 && s->in_shape[0].rank == 1 && !s->in_int[0], error, "blobs",
             "one input of shape (features,)")
      || !need (s->n_heads == 1 && is_categorical (s->head_loss[0])
                  && s->head_shape[0].rank == 1, error, "blobs",
                "one head with a (sparse) categorical cross-entropy loss"))
    return NULL;
  int f = s->in_shape[0].dims[0], c = last_dim (&s->head_shape[0]);
  WeftDataset *d = weft_dataset_new (n);
  float *centres = malloc ((size_t) c * f * sizeof *centres);
  float *x = d != NULL ? weft_dataset_add (d, s->in_name[0], &s->in_shape[0], error) : NULL;
  float *y = x != NULL ? add_class_target (d, s, 0, error) : NULL;
  if (centres == NULL || y == NULL)
    {
      free (centres);
      weft_dataset_free (d);
      return NULL;
    }
  /* fixed centres (not from the sample stream) so that train and test sets agree */
  WeftRng crng;
  weft_rng_seed (&crng, 424242);
  for (int i = 0; i < c * f; i++)
    centres[i] = weft_rng_normal (&crng) * 1.0f;
  for (int64_t r = 0; r < n; r++)
    {
      int cls = (int) weft_rng_below (rng, (uint32_t) c);
      for (int k = 0; k < f; k++)
        x[r * f + k] = centres[cls * f + k] + weft_rng_normal (rng) * 1.6f;
      set_class (y, s, 0, r, cls);
    }
  free (centres);
  return d;
}

static WeftDataset *
make_three_heads (const Sig *s, int64_t n, WeftRng *rng, WeftError *error)
{
  int reg = -1, cat = -1, bin = -1;
  for (int j = 0; j < s->n_heads; j++)
    {
      if (is_regression (s->head_loss[j]) && reg < 0 && weft_shape_size (&s->head_shape[j]) == 1)
        reg = j;
      else if (is_categorical (s->head_loss[j]) && cat < 0 && s->head_shape[j].rank == 1)
        cat = j;
      else if (s->head_loss[j] == WEFT_LOSS_BINARY_CROSSENTROPY && bin < 0
               && weft_shape_size (&s->head_shape[j]) == 1)
        bin = j;
    }
  if (!need (s->n_heads == 3 && reg >= 0 && cat >= 0 && bin >= 0, error, "three-heads",
             "three heads: a regression head with one unit (age), a categorical head (income "
             "class) and a binary head with one unit (gender)"))
    return NULL;
  for (int i = 0; i < s->n_inputs; i++)
    if (!need (s->in_shape[i].rank == 1 && !s->in_int[i], error, "three-heads",
               "inputs of shape (features,)"))
      return NULL;
  enum { LATENT = 8 };
  WeftDataset *d = weft_dataset_new (n);
  if (d == NULL)
    return NULL;
  float *x[WEFT_MAX_INPUTS];
  for (int i = 0; i < s->n_inputs; i++)
    if ((x[i] = weft_dataset_add (d, s->in_name[i], &s->in_shape[i], error)) == NULL)
      {
        weft_dataset_free (d);
        return NULL;
      }
  WeftShape one = weft_shape_make (1, 1);
  float *age = weft_dataset_add (d, s->head_name[reg], &one, error);
  float *inc = age != NULL ? add_class_target (d, s, cat, error) : NULL;
  float *gen = inc != NULL ? weft_dataset_add (d, s->head_name[bin], &one, error) : NULL;
  if (gen == NULL)
    {
      weft_dataset_free (d);
      return NULL;
    }
  int classes = last_dim (&s->head_shape[cat]);
  /* fixed mixing matrices so that every seed describes the same population */
  WeftRng mrng;
  weft_rng_seed (&mrng, 777);
  float *mix[WEFT_MAX_INPUTS];
  float w_age[LATENT], w_gen[LATENT];
  float *w_inc = malloc ((size_t) classes * LATENT * sizeof (float));
  bool fail = w_inc == NULL;
  for (int i = 0; i < s->n_inputs; i++)
    {
      int f = s->in_shape[i].dims[0];
      mix[i] = malloc ((size_t) f * LATENT * sizeof (float));
      fail |= mix[i] == NULL;
      for (int k = 0; !fail && k < f * LATENT; k++)
        mix[i][k] = weft_rng_normal (&mrng) / sqrtf (LATENT);
    }
  for (int k = 0; k < LATENT; k++)
    {
      w_age[k] = weft_rng_normal (&mrng);
      w_gen[k] = weft_rng_normal (&mrng);
    }
  for (int k = 0; !fail && k < classes * LATENT; k++)
    w_inc[k] = weft_rng_normal (&mrng);
  for (int64_t r = 0; !fail && r < n; r++)
    {
      float z[LATENT];
      for (int k = 0; k < LATENT; k++)
        z[k] = weft_rng_normal (rng);
      for (int i = 0; i < s->n_inputs; i++)
        {
          int f = s->in_shape[i].dims[0];
          for (int a = 0; a < f; a++)
            {
              float v = 0;
              for (int k = 0; k < LATENT; k++)
                v += mix[i][a * LATENT + k] * z[k];
              x[i][r * f + a] = v + 0.1f * weft_rng_normal (rng);
            }
        }
      float a = 0, g = 0;
      for (int k = 0; k < LATENT; k++)
        {
          a += w_age[k] * z[k];
          g += w_gen[k] * z[k];
        }
      /* ages in years: mean 45, spread ~14; clipped to 18..90 */
      float years = 45.0f + 5.0f * a;
      age[r] = years < 18 ? 18 : years > 90 ? 90 : years;
      gen[r] = g > 0 ? 1.0f : 0.0f;
      int best = 0;
      float best_v = -INFINITY;
      for (int c = 0; c < classes; c++)
        {
          float v = 0;
          for (int k = 0; k < LATENT; k++)
            v += w_inc[c * LATENT + k] * z[k];
          if (v > best_v)
            {
              best_v = v;
              best = c;
            }
        }
      set_class (inc, s, cat, r, best);
    }
  free (w_inc);
  for (int i = 0; i < s->n_inputs; i++)
    free (mix[i]);
  if (fail)
    {
      weft_error_set (error, WEFT_ERROR_NO_MEMORY, WEFT_ID_NONE, -1, "out of memory");
      weft_dataset_free (d);
      return NULL;
    }
  return d;
}

/* The two same-shaped inputs and the one-unit target of the pair sets; NULL on failure. */
static WeftDataset *
pair_dataset (const Sig *s, int64_t n, float **a, float **b, float **y, WeftError *error)
{
  WeftShape one = weft_shape_make (1, 1);
  WeftDataset *d = weft_dataset_new (n);
  *a = d != NULL ? weft_dataset_add (d, s->in_name[0], &s->in_shape[0], error) : NULL;
  *b = *a != NULL ? weft_dataset_add (d, s->in_name[1], &s->in_shape[1], error) : NULL;
  *y = *b != NULL ? weft_dataset_add (d, s->head_name[0], &one, error) : NULL;
  if (*y == NULL)
    {
      weft_dataset_free (d);
      return NULL;
    }
  return d;
}

static WeftDataset *
make_siamese (const Sig *s, int64_t n, WeftRng *rng, WeftError *error)
{
  if (!need (s->n_inputs == 2 && weft_shape_equal (&s->in_shape[0], &s->in_shape[1])
               && !s->in_int[0], error, "siamese-pairs", "two inputs of the same shape")
      || !need (s->n_heads == 1 && s->head_loss[0] == WEFT_LOSS_BINARY_CROSSENTROPY
                  && weft_shape_size (&s->head_shape[0]) == 1, error, "siamese-pairs",
                "one binary head with one unit (same class?)"))
    return NULL;
  int f = (int) weft_shape_size (&s->in_shape[0]);
  enum { CLASSES = 10 };
  float *a, *b, *y;
  WeftDataset *d = pair_dataset (s, n, &a, &b, &y, error);
  float *proto = malloc ((size_t) CLASSES * f * sizeof *proto);
  if (d == NULL || proto == NULL)
    {
      free (proto);
      weft_dataset_free (d);
      return NULL;
    }
  WeftRng prng;
  weft_rng_seed (&prng, 31337);
  for (int k = 0; k < CLASSES * f; k++)
    proto[k] = weft_rng_normal (&prng);
  for (int64_t r = 0; r < n; r++)
    {
      int ca = (int) weft_rng_below (rng, CLASSES);
      bool same = weft_rng_below (rng, 2) == 0;
      int cb = same ? ca : (ca + 1 + (int) weft_rng_below (rng, CLASSES - 1)) % CLASSES;
      for (int k = 0; k < f; k++)
        {
          a[r * f + k] = proto[ca * f + k] + 0.7f * weft_rng_normal (rng);
          b[r * f + k] = proto[cb * f + k] + 0.7f * weft_rng_normal (rng);
        }
      y[r] = same ? 1.0f : 0.0f;
    }
  free (proto);
  return d;
}

static WeftDataset *
make_two_views (const Sig *s, int64_t n, WeftRng *rng, WeftError *error)
{
  if (!need (s->n_inputs == 2 && weft_shape_equal (&s->in_shape[0], &s->in_shape[1])
               && !s->in_int[0], error, "two-views", "two inputs of the same shape")
      || !need (s->n_heads == 1 && is_regression (s->head_loss[0])
                  && weft_shape_size (&s->head_shape[0]) == 1, error, "two-views",
                "one regression head with one unit"))
    return NULL;
  int f = (int) weft_shape_size (&s->in_shape[0]);
  enum { LATENT = 6 };
  float *a, *b, *y;
  WeftDataset *d = pair_dataset (s, n, &a, &b, &y, error);
  float *optics = malloc ((size_t) f * LATENT * sizeof *optics);
  if (d == NULL || optics == NULL)
    {
      free (optics);
      weft_dataset_free (d);
      return NULL;
    }
  WeftRng orng;
  weft_rng_seed (&orng, 2024);
  float u[LATENT];
  for (int k = 0; k < f * LATENT; k++)
    optics[k] = weft_rng_normal (&orng) / sqrtf (LATENT);
  for (int k = 0; k < LATENT; k++)
    u[k] = weft_rng_normal (&orng);
  for (int64_t r = 0; r < n; r++)
    {
      float zl[LATENT], zr[LATENT], t = 0;
      for (int k = 0; k < LATENT; k++)
        {
          zl[k] = weft_rng_normal (rng);
          zr[k] = weft_rng_normal (rng);
          /* a smooth non-linear reading of each view; the same for both cameras */
          t += u[k] * (tanhf (zl[k]) + tanhf (zr[k]));
        }
      for (int p = 0; p < f; p++)
        {
          float va = 0, vb = 0;
          for (int k = 0; k < LATENT; k++)
            {
              va += optics[p * LATENT + k] * zl[k];
              vb += optics[p * LATENT + k] * zr[k];
            }
          a[r * f + p] = va + 0.05f * weft_rng_normal (rng);
          b[r * f + p] = vb + 0.05f * weft_rng_normal (rng);
        }
      y[r] = t;
    }
  free (optics);
  return d;
}

/* Question answering: the reference text names one value of each of three attributes
 * (colour, size, shape words hidden among filler words); the question asks for one
 * attribute. The answer is the text's word for that attribute: neither input alone gives
 * it (text only: 1 in 3, question only: 1 in values). Input 0 is the text, input 1 the
 * question; answer class k is attribute k / values, value k % values. */
static WeftDataset *
make_qa (const Sig *s, int64_t n, WeftRng *rng, WeftError *error)
{
  enum { TYPES = 3 };
  if (!need (s->n_inputs == 2 && s->in_vocab[0] > 0 && s->in_vocab[1] > 0
               && s->in_shape[0].rank == 1 && s->in_shape[1].rank == 1, error, "qa-facts",
             "two inputs of token ids, each read by an Embedding: the reference text first, "
             "then the question")
      || !need (s->n_heads == 1 && is_categorical (s->head_loss[0])
                  && s->head_shape[0].rank == 1, error, "qa-facts",
                "one answer head with a (sparse) categorical cross-entropy loss"))
    return NULL;
  int answers = last_dim (&s->head_shape[0]);
  int text_len = s->in_shape[0].dims[0], question_len = s->in_shape[1].dims[0];
  int text_vocab = s->in_vocab[0], question_vocab = s->in_vocab[1];
  if (!need (answers % TYPES == 0 && answers >= 2 * TYPES, error, "qa-facts",
             "an answer head whose classes are three attributes' values (a multiple of 3, "
             "at least 6)")
      || !need (text_len >= TYPES + 1 && text_vocab >= answers + 2, error, "qa-facts",
                "a reference text of at least 4 words and a vocabulary of at least the "
                "answer words + 2")
      || !need (question_vocab >= TYPES + 2, error, "qa-facts",
                "a question vocabulary of at least 5 words"))
    return NULL;
  int values = answers / TYPES;
  WeftDataset *d = weft_dataset_new (n);
  float *text = d != NULL ? weft_dataset_add (d, s->in_name[0], &s->in_shape[0], error) : NULL;
  float *question = text != NULL ? weft_dataset_add (d, s->in_name[1], &s->in_shape[1], error)
                                 : NULL;
  float *y = question != NULL ? add_class_target (d, s, 0, error) : NULL;
  int32_t *text_ids = malloc ((size_t) text_vocab * sizeof *text_ids);
  int32_t *question_ids = malloc ((size_t) question_vocab * sizeof *question_ids);
  int32_t *slots = malloc ((size_t) text_len * sizeof *slots);
  if (y == NULL || text_ids == NULL || question_ids == NULL || slots == NULL)
    {
      free (text_ids);
      free (question_ids);
      free (slots);
      weft_dataset_free (d);
      return NULL;
    }
  /* the fixed world: which token ids are answer words and which ask for which attribute;
   * the rest are fillers */
  WeftRng wrng;
  weft_rng_seed (&wrng, 8086);
  for (int i = 0; i < text_vocab; i++)
    text_ids[i] = i;
  for (int i = 0; i < question_vocab; i++)
    question_ids[i] = i;
  weft_rng_shuffle (&wrng, text_ids, text_vocab);
  weft_rng_shuffle (&wrng, question_ids, question_vocab);
  int text_fillers = text_vocab - answers, question_fillers = question_vocab - TYPES;
  for (int64_t r = 0; r < n; r++)
    {
      float *t = text + r * text_len, *q = question + r * question_len;
      for (int k = 0; k < text_len; k++)
        t[k] = (float) text_ids[answers + (int) weft_rng_below (rng, (uint32_t) text_fillers)];
      for (int k = 0; k < question_len; k++)
        q[k] = (float) question_ids[TYPES + (int) weft_rng_below (rng,
                                                                 (uint32_t) question_fillers)];
      for (int k = 0; k < text_len; k++)
        slots[k] = k;
      weft_rng_shuffle (rng, slots, text_len);
      int value[TYPES];
      for (int a = 0; a < TYPES; a++)
        {
          value[a] = (int) weft_rng_below (rng, (uint32_t) values);
          t[slots[a]] = (float) text_ids[a * values + value[a]];
        }
      int asked = (int) weft_rng_below (rng, TYPES);
      q[weft_rng_below (rng, (uint32_t) question_len)] = (float) question_ids[asked];
      set_class (y, s, 0, r, asked * values + value[asked]);
    }
  free (text_ids);
  free (question_ids);
  free (slots);
  return d;
}

/* Social-media posts: each user's age (20..79: a word for the decade and one for the year),
 * income class and gender show as marker words scattered among filler words, sometimes
 * mixed up; a Conv1D + global max pooling spots them. Age is in years: its mse stays at a
 * few years squared while the gender cross-entropy goes towards 0.1, hence the lesson's
 * loss weights. */
static WeftDataset *
make_posts (const Sig *s, int64_t n, WeftRng *rng, WeftError *error)
{
  enum { DECADES = 2, PER_DECADE = 2, UNITS = 10, PER_CLASS = 2, PER_GENDER = 3, MARKS = 2 };
  int reg = -1, cat = -1, bin = -1;
  for (int j = 0; j < s->n_heads; j++)
    {
      if (is_regression (s->head_loss[j]) && reg < 0 && weft_shape_size (&s->head_shape[j]) == 1)
        reg = j;
      else if (is_categorical (s->head_loss[j]) && cat < 0 && s->head_shape[j].rank == 1)
        cat = j;
      else if (s->head_loss[j] == WEFT_LOSS_BINARY_CROSSENTROPY && bin < 0
               && weft_shape_size (&s->head_shape[j]) == 1)
        bin = j;
    }
  if (!need (s->n_heads == 3 && reg >= 0 && cat >= 0 && bin >= 0, error, "posts",
             "three heads: a regression head with one unit (age), a categorical head (income "
             "class) and a binary head with one unit (gender)")
      || !need (s->n_inputs == 1 && s->in_vocab[0] > 0 && s->in_shape[0].rank == 1, error,
                "posts", "one input of token ids read by an Embedding"))
    return NULL;
  int classes = last_dim (&s->head_shape[cat]);
  int len = s->in_shape[0].dims[0], vocab = s->in_vocab[0];
  int markers = DECADES * PER_DECADE + UNITS + classes * PER_CLASS + 2 * PER_GENDER;
  if (!need (len >= 4 * MARKS * 2 && vocab >= markers + 8, error, "posts",
             "posts of at least 16 words and a vocabulary of at least the marker words "
             "(22 for age, 2 per income class, 6 for gender) + 8"))
    return NULL;
  WeftDataset *d = weft_dataset_new (n);
  float *x = d != NULL ? weft_dataset_add (d, s->in_name[0], &s->in_shape[0], error) : NULL;
  WeftShape one = weft_shape_make (1, 1);
  float *age = x != NULL ? weft_dataset_add (d, s->head_name[reg], &one, error) : NULL;
  float *inc = age != NULL ? add_class_target (d, s, cat, error) : NULL;
  float *gen = inc != NULL ? weft_dataset_add (d, s->head_name[bin], &one, error) : NULL;
  int32_t *ids = malloc ((size_t) vocab * sizeof *ids);
  int32_t *slots = malloc ((size_t) len * sizeof *slots);
  if (gen == NULL || ids == NULL || slots == NULL)
    {
      free (ids);
      free (slots);
      weft_dataset_free (d);
      return NULL;
    }
  /* the fixed world: which words mark which decade and year of age, income class and gender */
  WeftRng wrng;
  weft_rng_seed (&wrng, 1984);
  for (int i = 0; i < vocab; i++)
    ids[i] = i;
  weft_rng_shuffle (&wrng, ids, vocab);
  const int32_t *decade_w = ids, *unit_w = ids + DECADES * PER_DECADE;
  const int32_t *class_w = unit_w + UNITS;
  const int32_t *gender_w = class_w + classes * PER_CLASS, *filler_w = ids + markers;
  int fillers = vocab - markers;
  for (int64_t r = 0; r < n; r++)
    {
      int decade = (int) weft_rng_below (rng, DECADES), unit = (int) weft_rng_below (rng, UNITS);
      /* income grows with age: the class follows the age, and one user in four is an
       * exception whom only the income words reveal */
      int cls = (decade * UNITS + unit) * classes / (DECADES * UNITS);
      if (weft_rng_below (rng, 4) == 0)
        cls = (int) weft_rng_below (rng, (uint32_t) classes);
      int g = (int) weft_rng_below (rng, 2);
      float *p = x + r * len;
      for (int k = 0; k < len; k++)
        p[k] = (float) filler_w[weft_rng_below (rng, (uint32_t) fillers)];
      for (int k = 0; k < len; k++)
        slots[k] = k;
      weft_rng_shuffle (rng, slots, len);
      int at = 0;
      for (int m = 0; m < MARKS; m++)
        {
          /* people sometimes write like their neighbours: one marker in ten is off */
          int u = unit, c = cls, gg = g;
          if (weft_rng_below (rng, 10) == 0)
            u = unit == 0 ? 1 : unit == UNITS - 1 ? UNITS - 2
                : unit + (weft_rng_below (rng, 2) ? 1 : -1);
          if (weft_rng_below (rng, 10) == 0)
            c = (int) weft_rng_below (rng, (uint32_t) classes);
          if (weft_rng_below (rng, 20) == 0)
            gg = 1 - g;
          p[slots[at++]] = (float) decade_w[decade * PER_DECADE + weft_rng_below (rng, PER_DECADE)];
          p[slots[at++]] = (float) unit_w[u];
          p[slots[at++]] = (float) class_w[c * PER_CLASS + weft_rng_below (rng, PER_CLASS)];
          p[slots[at++]] = (float) gender_w[gg * PER_GENDER + weft_rng_below (rng, PER_GENDER)];
        }
      age[r] = (float) (30 + 10 * decade + unit);
      set_class (inc, s, cat, r, cls);
      gen[r] = (float) g;
    }
  free (ids);
  free (slots);
  return d;
}

/* Images of noise with a few copies of one class motif stamped at random places. Motifs
 * come in three sizes (1x1, 3x3, 5x5 by class), so a model that looks at several scales at
 * once (an inception module) or stacks them (a residual block) recognises every class. */
static WeftDataset *
make_motifs (const Sig *s, int64_t n, WeftRng *rng, WeftError *error)
{
  enum { STAMPS = 3 };
  if (!need (s->n_inputs == 1 && s->in_shape[0].rank == 3 && !s->in_int[0]
               && s->in_shape[0].dims[0] >= 8 && s->in_shape[0].dims[1] >= 8, error,
             "motifs", "one image input (height, width, channels) of at least 8x8")
      || !need (s->n_heads == 1 && is_categorical (s->head_loss[0])
                  && s->head_shape[0].rank == 1, error, "motifs",
                "one head with a (sparse) categorical cross-entropy loss"))
    return NULL;
  int h = s->in_shape[0].dims[0], w = s->in_shape[0].dims[1], ch = s->in_shape[0].dims[2];
  int classes = last_dim (&s->head_shape[0]);
  WeftDataset *d = weft_dataset_new (n);
  float *x = d != NULL ? weft_dataset_add (d, s->in_name[0], &s->in_shape[0], error) : NULL;
  float *y = x != NULL ? add_class_target (d, s, 0, error) : NULL;
  float *motif = malloc ((size_t) classes * 25 * ch * sizeof *motif);
  if (y == NULL || motif == NULL)
    {
      free (motif);
      weft_dataset_free (d);
      return NULL;
    }
  WeftRng mrng;
  weft_rng_seed (&mrng, 5150);
  for (int k = 0; k < classes * 25 * ch; k++)
    motif[k] = 1.5f * weft_rng_normal (&mrng);
  for (int64_t r = 0; r < n; r++)
    {
      int cls = (int) weft_rng_below (rng, (uint32_t) classes);
      int size = 1 + 2 * (cls % 3);
      float *img = x + r * h * w * ch;
      for (int k = 0; k < h * w * ch; k++)
        img[k] = 0.5f * weft_rng_normal (rng);
      for (int st = 0; st < STAMPS; st++)
        {
          int y0 = (int) weft_rng_below (rng, (uint32_t) (h - size + 1));
          int x0 = (int) weft_rng_below (rng, (uint32_t) (w - size + 1));
          for (int i = 0; i < size; i++)
            for (int j = 0; j < size; j++)
              for (int c = 0; c < ch; c++)
                img[((y0 + i) * w + x0 + j) * ch + c] += motif[((cls * 5 + i) * 5 + j) * ch + c];
        }
      set_class (y, s, 0, r, cls);
    }
  free (motif);
  return d;
}

/* Two cameras side by side see one object against sensor noise; the nearer the object, the
 * further apart its two images (the disparity, in pixels, is the target). Both cameras
 * have the same optics, so one shared encoder serves both views. */
static WeftDataset *
make_stereo (const Sig *s, int64_t n, WeftRng *rng, WeftError *error)
{
  enum { OBJ = 3 };
  if (!need (s->n_inputs == 2 && weft_shape_equal (&s->in_shape[0], &s->in_shape[1])
               && s->in_shape[0].rank == 3 && !s->in_int[0] && s->in_shape[0].dims[1] >= 12,
             error, "stereo", "two image inputs (height, width, channels) of the same shape, "
             "at least 12 pixels wide")
      || !need (s->n_heads == 1 && is_regression (s->head_loss[0])
                  && weft_shape_size (&s->head_shape[0]) == 1, error, "stereo",
                "one regression head with one unit (the disparity)"))
    return NULL;
  int h = s->in_shape[0].dims[0], w = s->in_shape[0].dims[1], ch = s->in_shape[0].dims[2];
  int max_disp = w / 2 - OBJ < 8 ? w / 2 - OBJ : 8;
  if (!need (h >= OBJ, error, "stereo", "images at least 3 pixels high"))
    return NULL;
  float *a, *b, *y;
  WeftDataset *d = pair_dataset (s, n, &a, &b, &y, error);
  float *obj = malloc ((size_t) OBJ * OBJ * ch * sizeof *obj);
  if (d == NULL || obj == NULL)
    {
      free (obj);
      weft_dataset_free (d);
      return NULL;
    }
  WeftRng orng;
  weft_rng_seed (&orng, 3141);
  for (int k = 0; k < OBJ * OBJ * ch; k++)
    obj[k] = 1.0f + fabsf (weft_rng_normal (&orng));
  size_t px = (size_t) h * w * ch;
  for (int64_t r = 0; r < n; r++)
    {
      int disp = (int) weft_rng_below (rng, (uint32_t) max_disp + 1);
      int y0 = (int) weft_rng_below (rng, (uint32_t) (h - OBJ + 1));
      int xr = (int) weft_rng_below (rng, (uint32_t) (w - OBJ - disp + 1));
      float *left = a + r * px, *right = b + r * px;
      for (size_t k = 0; k < px; k++)
        {
          left[k] = 0.3f * weft_rng_normal (rng);
          right[k] = 0.3f * weft_rng_normal (rng);
        }
      for (int i = 0; i < OBJ; i++)
        for (int j = 0; j < OBJ; j++)
          for (int c = 0; c < ch; c++)
            {
              float v = obj[(i * OBJ + j) * ch + c];
              left[((y0 + i) * w + xr + disp + j) * ch + c] += v;
              right[((y0 + i) * w + xr + j) * ch + c] += v;
            }
      y[r] = (float) disp;
    }
  free (obj);
  return d;
}

static WeftDataset *
make_random (const Sig *s, int64_t n, WeftRng *rng, WeftError *error)
{
  WeftDataset *d = weft_dataset_new (n);
  if (d == NULL)
    return NULL;
  for (int i = 0; i < s->n_inputs; i++)
    {
      float *x = weft_dataset_add (d, s->in_name[i], &s->in_shape[i], error);
      if (x == NULL)
        goto fail;
      int64_t count = n * weft_shape_size (&s->in_shape[i]);
      for (int64_t k = 0; k < count; k++)
        x[k] = s->in_int[i] ? (float) weft_rng_below (rng, (uint32_t) (s->in_vocab[i] > 0
                                                                         ? s->in_vocab[i] : 2))
                            : weft_rng_normal (rng);
    }
  for (int j = 0; j < s->n_heads; j++)
    {
      WeftShape shape = s->head_shape[j];
      int c = last_dim (&shape);
      int64_t positions = weft_shape_size (&shape) / c;
      if (s->head_loss[j] == WEFT_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY)
        {
          shape.rank--;
          if (shape.rank == 0)
            shape = weft_shape_make (1, 1);
        }
      float *y = weft_dataset_add (d, s->head_name[j], &shape, error);
      if (y == NULL)
        goto fail;
      for (int64_t r = 0; r < n * positions; r++)
        switch (s->head_loss[j])
          {
          case WEFT_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY:
            y[r] = (float) weft_rng_below (rng, (uint32_t) c);
            break;
          case WEFT_LOSS_CATEGORICAL_CROSSENTROPY:
            y[r * c + weft_rng_below (rng, (uint32_t) c)] = 1.0f;
            break;
          case WEFT_LOSS_BINARY_CROSSENTROPY:
            for (int k = 0; k < c; k++)
              y[r * c + k] = (float) weft_rng_below (rng, 2);
            break;
          default:
            for (int k = 0; k < c; k++)
              y[r * c + k] = weft_rng_normal (rng);
            break;
          }
    }
  return d;
fail:
  weft_dataset_free (d);
  return NULL;
}

WeftDataset *
weft_synthetic_make (const char *name, WeftGraph *graph, int64_t n_samples, uint64_t seed,
                     WeftError *error)
{
  Sig s;
  if (n_samples < 1 || n_samples > 100000000)
    {
      weft_error_set (error, WEFT_ERROR_INVALID, WEFT_ID_NONE, -1,
                      "the number of samples must be in 1..100000000");
      return NULL;
    }
  if (!signature (graph, &s, error))
    return NULL;
  WeftRng rng;
  weft_rng_seed (&rng, seed);
  if (strcmp (name, "blobs") == 0)
    return make_blobs (&s, n_samples, &rng, error);
  if (strcmp (name, "three-heads") == 0)
    return make_three_heads (&s, n_samples, &rng, error);
  if (strcmp (name, "siamese-pairs") == 0)
    return make_siamese (&s, n_samples, &rng, error);
  if (strcmp (name, "two-views") == 0)
    return make_two_views (&s, n_samples, &rng, error);
  if (strcmp (name, "qa-facts") == 0)
    return make_qa (&s, n_samples, &rng, error);
  if (strcmp (name, "posts") == 0)
    return make_posts (&s, n_samples, &rng, error);
  if (strcmp (name, "motifs") == 0)
    return make_motifs (&s, n_samples, &rng, error);
  if (strcmp (name, "stereo") == 0)
    return make_stereo (&s, n_samples, &rng, error);
  if (strcmp (name, "random") == 0)
    return make_random (&s, n_samples, &rng, error);
  weft_error_set (error, WEFT_ERROR_INVALID, WEFT_ID_NONE, -1,
                  "unknown synthetic data set '%s' (known: blobs, three-heads, siamese-pairs, "
                  "two-views, qa-facts, posts, motifs, stereo, random)", name);
  return NULL;
}
