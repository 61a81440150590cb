/* tvw-prediction.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "tvw-prediction.h"

/**
 * TvwPrediction:
 *
 * One class of a classification: its index in the weights' categories, its
 * name and its probability (the softmax of the model's output).
 *
 * [method@Model.classify] returns a [iface@Gio.ListModel] of them, most
 * likely first.
 */

struct _TvwPrediction
{
  GObject  parent_instance;

  guint    index;
  char    *category;
  double   score;
};

G_DEFINE_FINAL_TYPE (TvwPrediction, tvw_prediction, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_INDEX,
  PROP_CATEGORY,
  PROP_SCORE,
  N_PROPS
};

static GParamSpec *props[N_PROPS];

static void
tvw_prediction_finalize (GObject *object)
{
  TvwPrediction *self = (TvwPrediction *)object;

  g_clear_pointer (&self->category, g_free);

  G_OBJECT_CLASS (tvw_prediction_parent_class)->finalize (object);
}

static void
tvw_prediction_get_property (GObject    *object,
                             guint       prop_id,
                             GValue     *value,
                             GParamSpec *pspec)
{
  TvwPrediction *self = TVW_PREDICTION (object);

  switch (prop_id)
    {
    case PROP_INDEX:
      g_value_set_uint (value, self->index);
      break;

    case PROP_CATEGORY:
      g_value_set_string (value, self->category);
      break;

    case PROP_SCORE:
      g_value_set_double (value, self->score);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
tvw_prediction_set_property (GObject      *object,
                             guint         prop_id,
                             const GValue *value,
                             GParamSpec   *pspec)
{
  TvwPrediction *self = TVW_PREDICTION (object);

  switch (prop_id)
    {
    case PROP_INDEX:
      self->index = g_value_get_uint (value);
      break;

    case PROP_CATEGORY:
      self->category = g_value_dup_string (value);
      break;

    case PROP_SCORE:
      self->score = g_value_get_double (value);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
tvw_prediction_class_init (TvwPredictionClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = tvw_prediction_finalize;
  object_class->get_property = tvw_prediction_get_property;
  object_class->set_property = tvw_prediction_set_property;

  /**
   * TvwPrediction:index:
   *
   * The class index, a position in the weights' categories.
   */
  props[PROP_INDEX] =
    g_param_spec_uint ("index", NULL, NULL,
                       0, G_MAXUINT, 0,
                       (G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS));

  /**
   * TvwPrediction:category:
   *
   * The category name, or %NULL when the model has no categories (random
   * weights).
   */
  props[PROP_CATEGORY] =
    g_param_spec_string ("category", NULL, NULL,
                         NULL,
                         (G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS));

  /**
   * TvwPrediction:score:
   *
   * The probability of the class, from 0 to 1.
   */
  props[PROP_SCORE] =
    g_param_spec_double ("score", NULL, NULL,
                         0., 1., 0.,
                         (G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, props);
}

static void
tvw_prediction_init (TvwPrediction *self)
{
}

/**
 * tvw_prediction_new:
 * @index: the class index
 * @category: (nullable): the category name
 * @score: the probability
 *
 * Returns: (transfer full): a new prediction
 */
TvwPrediction *
tvw_prediction_new (guint       index,
                    const char *category,
                    double      score)
{
  return g_object_new (TVW_TYPE_PREDICTION,
                       "index", index,
                       "category", category,
                       "score", CLAMP (score, 0., 1.),
                       NULL);
}

/**
 * tvw_prediction_get_index:
 * @self: a prediction
 *
 * Returns: the class index
 */
guint
tvw_prediction_get_index (TvwPrediction *self)
{
  g_return_val_if_fail (TVW_IS_PREDICTION (self), 0);

  return self->index;
}

/**
 * tvw_prediction_get_category:
 * @self: a prediction
 *
 * Returns: (nullable): the category name
 */
const char *
tvw_prediction_get_category (TvwPrediction *self)
{
  g_return_val_if_fail (TVW_IS_PREDICTION (self), NULL);

  return self->category;
}

/**
 * tvw_prediction_get_score:
 * @self: a prediction
 *
 * Returns: the probability, from 0 to 1
 */
double
tvw_prediction_get_score (TvwPrediction *self)
{
  g_return_val_if_fail (TVW_IS_PREDICTION (self), 0.);

  return self->score;
}
