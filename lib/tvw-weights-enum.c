/* tvw-weights-enum.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <glib/gi18n-lib.h>

#include "tvw-error.h"
#include "tvw-registry-private.h"
#include "tvw-weights-private.h"

/**
 * TvwWeightsEnum:
 *
 * All weights entries of one model builder: torchvision's `ResNet50_Weights`.
 *
 * A `TvwWeightsEnum` is a [iface@Gio.ListModel] of [class@Weights] in
 * declaration order, like iterating over the Python enum; the `DEFAULT` alias
 * is not a separate item but is found by [method@WeightsEnum.lookup] and
 * [method@WeightsEnum.get_default].
 *
 * The list only grows: when a weights card adds entries to an enum, they are
 * appended and [signal@Gio.ListModel::items-changed] is emitted.
 */

struct _TvwWeightsEnum
{
  GObject parent_instance;

  char *name;
  char *builder;
  gboolean builtin;

  /* Cards may append entries from any thread. */
  GMutex lock;
  GPtrArray *entries;        /* TvwWeights, owned */
  TvwWeights *default_entry; /* unowned, in entries */
};

static void tvw_weights_enum_list_model_init (GListModelInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (TvwWeightsEnum, tvw_weights_enum, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_LIST_MODEL,
                                                      tvw_weights_enum_list_model_init))

enum {
  PROP_0,
  PROP_NAME,
  PROP_BUILDER,
  PROP_DEFAULT,
  PROP_ITEM_TYPE,
  PROP_N_ITEMS,
  N_PROPS
};

static GParamSpec *props[N_PROPS];

static GType
tvw_weights_enum_get_item_type (GListModel *model)
{
  return TVW_TYPE_WEIGHTS;
}

static guint
tvw_weights_enum_get_n_items (GListModel *model)
{
  TvwWeightsEnum *self = TVW_WEIGHTS_ENUM (model);
  guint n;

  g_mutex_lock (&self->lock);
  n = self->entries->len;
  g_mutex_unlock (&self->lock);

  return n;
}

static gpointer
tvw_weights_enum_get_item (GListModel *model,
                           guint       position)
{
  TvwWeightsEnum *self = TVW_WEIGHTS_ENUM (model);
  gpointer item = NULL;

  g_mutex_lock (&self->lock);
  if (position < self->entries->len)
    item = g_object_ref (g_ptr_array_index (self->entries, position));
  g_mutex_unlock (&self->lock);

  return item;
}

static void
tvw_weights_enum_list_model_init (GListModelInterface *iface)
{
  iface->get_item_type = tvw_weights_enum_get_item_type;
  iface->get_n_items = tvw_weights_enum_get_n_items;
  iface->get_item = tvw_weights_enum_get_item;
}

static void
tvw_weights_enum_finalize (GObject *object)
{
  TvwWeightsEnum *self = (TvwWeightsEnum *)object;

  g_clear_pointer (&self->entries, g_ptr_array_unref);
  g_free (self->name);
  g_free (self->builder);
  g_mutex_clear (&self->lock);

  G_OBJECT_CLASS (tvw_weights_enum_parent_class)->finalize (object);
}

static void
tvw_weights_enum_get_property (GObject    *object,
                               guint       prop_id,
                               GValue     *value,
                               GParamSpec *pspec)
{
  TvwWeightsEnum *self = TVW_WEIGHTS_ENUM (object);

  switch (prop_id)
    {
    case PROP_NAME:
      g_value_set_string (value, self->name);
      break;

    case PROP_BUILDER:
      g_value_set_string (value, self->builder);
      break;

    case PROP_DEFAULT:
      g_value_set_object (value, tvw_weights_enum_get_default (self));
      break;

    case PROP_ITEM_TYPE:
      g_value_set_gtype (value, TVW_TYPE_WEIGHTS);
      break;

    case PROP_N_ITEMS:
      g_value_set_uint (value, tvw_weights_enum_get_n_items (G_LIST_MODEL (self)));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
tvw_weights_enum_class_init (TvwWeightsEnumClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = tvw_weights_enum_finalize;
  object_class->get_property = tvw_weights_enum_get_property;

  /**
   * TvwWeightsEnum:name:
   *
   * The enum name, e.g. `ResNet50_Weights`.
   */
  props[PROP_NAME] =
    g_param_spec_string ("name", NULL, NULL,
                         NULL,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * TvwWeightsEnum:builder:
   *
   * The model builder the entries are for, e.g. `resnet50`.
   */
  props[PROP_BUILDER] =
    g_param_spec_string ("builder", NULL, NULL,
                         NULL,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * TvwWeightsEnum:default:
   *
   * The entry the `DEFAULT` alias names.
   */
  props[PROP_DEFAULT] =
    g_param_spec_object ("default", NULL, NULL,
                         TVW_TYPE_WEIGHTS,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * TvwWeightsEnum:item-type:
   *
   * The type of the items, always [class@Weights].
   */
  props[PROP_ITEM_TYPE] =
    g_param_spec_gtype ("item-type", NULL, NULL,
                        G_TYPE_OBJECT,
                        G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * TvwWeightsEnum:n-items:
   *
   * The number of entries.
   */
  props[PROP_N_ITEMS] =
    g_param_spec_uint ("n-items", NULL, NULL,
                       0, G_MAXUINT, 0,
                       G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  g_object_class_install_properties (object_class, N_PROPS, props);
}

static void
tvw_weights_enum_init (TvwWeightsEnum *self)
{
  g_mutex_init (&self->lock);
  self->entries = g_ptr_array_new_with_free_func (g_object_unref);
}

TvwWeightsEnum *
tvw_weights_enum_new (const char *name,
                      const char *builder,
                      gboolean    builtin)
{
  TvwWeightsEnum *self;

  g_return_val_if_fail (name != NULL, NULL);
  g_return_val_if_fail (builder != NULL, NULL);

  self = g_object_new (TVW_TYPE_WEIGHTS_ENUM, NULL);
  self->name = g_strdup (name);
  self->builder = g_strdup (builder);
  self->builtin = !!builtin;

  return self;
}

gboolean
tvw_weights_enum_is_builtin (TvwWeightsEnum *self)
{
  g_return_val_if_fail (TVW_IS_WEIGHTS_ENUM (self), FALSE);

  return self->builtin;
}

TvwWeights *
tvw_weights_enum_find (TvwWeightsEnum *self,
                       const char     *name)
{
  TvwWeights *found = NULL;

  g_return_val_if_fail (TVW_IS_WEIGHTS_ENUM (self), NULL);
  g_return_val_if_fail (name != NULL, NULL);

  g_mutex_lock (&self->lock);
  if (g_str_equal (name, "DEFAULT"))
    {
      found = self->default_entry;
    }
  else
    {
      for (guint i = 0; i < self->entries->len; i++)
        {
          TvwWeights *w = g_ptr_array_index (self->entries, i);

          if (g_str_equal (tvw_weights_get_name (w), name))
            {
              found = w;
              break;
            }
        }
    }
  g_mutex_unlock (&self->lock);

  return found;
}

guint
tvw_weights_enum_append (TvwWeightsEnum *self,
                         GPtrArray      *entries,
                         TvwWeights     *new_default)
{
  guint position;

  g_return_val_if_fail (TVW_IS_WEIGHTS_ENUM (self), 0);
  g_return_val_if_fail (entries != NULL, 0);

  g_mutex_lock (&self->lock);
  position = self->entries->len;
  for (guint i = 0; i < entries->len; i++)
    g_ptr_array_add (self->entries, g_object_ref (g_ptr_array_index (entries, i)));
  if (new_default != NULL)
    {
      g_warn_if_fail (self->default_entry == NULL);
      self->default_entry = new_default;
    }
  g_mutex_unlock (&self->lock);

  if (new_default != NULL)
    tvw_weights_set_default (new_default, TRUE);

  return position;
}

void
tvw_weights_enum_emit_added (TvwWeightsEnum *self,
                             guint           position,
                             guint           n_added)
{
  g_return_if_fail (TVW_IS_WEIGHTS_ENUM (self));

  if (n_added == 0)
    return;

  g_list_model_items_changed (G_LIST_MODEL (self), position, 0, n_added);
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_N_ITEMS]);
  if (position == 0)
    g_object_notify_by_pspec (G_OBJECT (self), props[PROP_DEFAULT]);
}

GPtrArray *
tvw_weights_enum_dup_names (TvwWeightsEnum *self)
{
  GPtrArray *names;

  g_return_val_if_fail (TVW_IS_WEIGHTS_ENUM (self), NULL);

  names = g_ptr_array_new ();
  g_mutex_lock (&self->lock);
  for (guint i = 0; i < self->entries->len; i++)
    g_ptr_array_add (names, (gpointer)tvw_weights_get_name (g_ptr_array_index (self->entries, i)));
  g_mutex_unlock (&self->lock);
  g_ptr_array_add (names, (gpointer)"DEFAULT");

  return names;
}

/**
 * tvw_weights_enum_get_name:
 * @self: a weights enum
 *
 * Gets the enum name, e.g. `ResNet50_Weights`.
 *
 * Returns: the enum name
 */
const char *
tvw_weights_enum_get_name (TvwWeightsEnum *self)
{
  g_return_val_if_fail (TVW_IS_WEIGHTS_ENUM (self), NULL);

  return self->name;
}

/**
 * tvw_weights_enum_get_builder:
 * @self: a weights enum
 *
 * Gets the name of the model builder the entries are for, e.g. `resnet50`.
 *
 * Returns: the builder name
 */
const char *
tvw_weights_enum_get_builder (TvwWeightsEnum *self)
{
  g_return_val_if_fail (TVW_IS_WEIGHTS_ENUM (self), NULL);

  return self->builder;
}

/**
 * tvw_weights_enum_get_default:
 * @self: a weights enum
 *
 * Gets the entry the `DEFAULT` alias names: torchvision's most accurate
 * weights for the builder, e.g. `ResNet50_Weights.IMAGENET1K_V2`.
 *
 * Returns: (transfer none): the default entry
 */
TvwWeights *
tvw_weights_enum_get_default (TvwWeightsEnum *self)
{
  TvwWeights *w;

  g_return_val_if_fail (TVW_IS_WEIGHTS_ENUM (self), NULL);

  g_mutex_lock (&self->lock);
  w = self->default_entry;
  g_mutex_unlock (&self->lock);

  return w;
}

/**
 * tvw_weights_enum_lookup:
 * @self: a weights enum
 * @name: an entry name such as `IMAGENET1K_V2`, or `DEFAULT`
 * @error: return location for a #GError
 *
 * Looks an entry of the enum up by name, like `ResNet50_Weights[name]` or
 * `ResNet50_Weights.DEFAULT` in Python. An unknown name is
 * %TVW_ERROR_NOT_FOUND, with the closest entry names suggested.
 *
 * Returns: (transfer none): the entry, or %NULL with @error set
 */
TvwWeights *
tvw_weights_enum_lookup (TvwWeightsEnum  *self,
                         const char      *name,
                         GError         **error)
{
  TvwWeights *w;
  g_autoptr(GPtrArray) names = NULL;
  g_autofree char *hint = NULL;

  g_return_val_if_fail (TVW_IS_WEIGHTS_ENUM (self), NULL);
  g_return_val_if_fail (name != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  w = tvw_weights_enum_find (self, name);
  if (w != NULL)
    return w;

  names = tvw_weights_enum_dup_names (self);
  hint = tvw_registry_suggest (name, (const char * const *)names->pdata, names->len);
  g_set_error (error, TVW_ERROR, TVW_ERROR_NOT_FOUND,
               _("%s has no entry “%s”%s"),
               self->name, name, hint ? hint : "");

  return NULL;
}
