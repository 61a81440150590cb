/* tvw-model.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <stdlib.h>

#include <glib/gi18n-lib.h>

#include "tvw-error.h"
#include "tvw-transform.h"
#include "tvw-cache-private.h"
#include "tvw-model-private.h"
#include "tvw-tensor-private.h"
#include "tvw-architectures-private.h"
#include "tvw-checkpoint-private.h"
#include "tvw-engine-private.h"
#include "tvw-bind-private.h"
#include "tvw-image-private.h"
#include "tvw-video-reader-private.h"

/**
 * TvwModel:
 *
 * A torchvision architecture, built natively, with its weights.
 *
 * A model is created for an architecture (torchvision's builder name, such
 * as `resnet50`) and, optionally, a [class@Weights] entry whose checkpoint
 * is loaded during construction:
 *
 * ```c
 * g_autoptr(TvwModel) model = tvw_get_model ("resnet50", "DEFAULT", NULL, &error);
 * ```
 *
 * Without weights the parameters are initialised randomly.
 * [method@Model.forward] takes an NCHW float32 batch and returns the
 * model's output (logits for classifiers), exactly as PyTorch computes it.
 *
 * Construction may download and load a checkpoint: it is a [iface@Gio.Initable]
 * and a [iface@Gio.AsyncInitable].  A model can be used from any thread;
 * concurrent runs of one model are serialised.
 */

struct _TvwModel
{
  GObject        parent_instance;

  char          *architecture;
  guint          num_classes;
  guint          n_threads;
  TvwWeights    *weights;
  gboolean       pretrained;
  gboolean       pretrained_backbone;
  GVariant      *options;

  const TvwArchitecture *arch;
  TvwNet        *net;
  TvwCheckpoint *checkpoint;
  GMutex         lock;
  gboolean       initialized;
  gboolean       legacy_resolved;
  gboolean       needs_random;   /* no weights yet: random on first use */
};

static void initable_iface_init       (GInitableIface      *iface);
static void async_initable_iface_init (GAsyncInitableIface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (TvwModel, tvw_model, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_INITABLE, initable_iface_init)
                               G_IMPLEMENT_INTERFACE (G_TYPE_ASYNC_INITABLE, async_initable_iface_init))

enum {
  PROP_0,
  PROP_ARCHITECTURE,
  PROP_NUM_CLASSES,
  PROP_N_THREADS,
  PROP_WEIGHTS,
  PROP_PRETRAINED,
  PROP_PRETRAINED_BACKBONE,
  PROP_OPTIONS,
  N_PROPS
};

static GParamSpec *props[N_PROPS];

enum {
  DOWNLOAD_PROGRESS,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void
tvw_model_finalize (GObject *object)
{
  TvwModel *self = (TvwModel *)object;

  g_clear_pointer (&self->architecture, g_free);
  g_clear_pointer (&self->options, g_variant_unref);
  g_clear_pointer (&self->net, tvw_net_free);
  g_clear_pointer (&self->checkpoint, tvw_checkpoint_free);
  g_mutex_clear (&self->lock);

  G_OBJECT_CLASS (tvw_model_parent_class)->finalize (object);
}

static void
tvw_model_dispose (GObject *object)
{
  TvwModel *self = (TvwModel *)object;

  g_clear_object (&self->weights);

  G_OBJECT_CLASS (tvw_model_parent_class)->dispose (object);
}

static void
tvw_model_get_property (GObject    *object,
                        guint       prop_id,
                        GValue     *value,
                        GParamSpec *pspec)
{
  TvwModel *self = TVW_MODEL (object);

  switch (prop_id)
    {
    case PROP_ARCHITECTURE:
      g_value_set_string (value, self->architecture);
      break;

    case PROP_NUM_CLASSES:
      g_value_set_uint (value, self->num_classes);
      break;

    case PROP_N_THREADS:
      g_value_set_uint (value, self->n_threads);
      break;

    case PROP_WEIGHTS:
      g_value_set_object (value, self->weights);
      break;

    case PROP_PRETRAINED:
      g_value_set_boolean (value, self->pretrained);
      break;

    case PROP_PRETRAINED_BACKBONE:
      g_value_set_boolean (value, self->pretrained_backbone);
      break;

    case PROP_OPTIONS:
      g_value_set_variant (value, self->options);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
tvw_model_set_property (GObject      *object,
                        guint         prop_id,
                        const GValue *value,
                        GParamSpec   *pspec)
{
  TvwModel *self = TVW_MODEL (object);

  switch (prop_id)
    {
    case PROP_ARCHITECTURE:
      self->architecture = g_value_dup_string (value);
      break;

    case PROP_NUM_CLASSES:
      self->num_classes = g_value_get_uint (value);
      break;

    case PROP_N_THREADS:
      tvw_model_set_n_threads (self, g_value_get_uint (value));
      break;

    case PROP_WEIGHTS:
      self->weights = g_value_dup_object (value);
      break;

    case PROP_PRETRAINED:
      self->pretrained = g_value_get_boolean (value);
      break;

    case PROP_PRETRAINED_BACKBONE:
      self->pretrained_backbone = g_value_get_boolean (value);
      break;

    case PROP_OPTIONS:
      self->options = g_value_dup_variant (value);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
tvw_model_class_init (TvwModelClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = tvw_model_dispose;
  object_class->finalize = tvw_model_finalize;
  object_class->get_property = tvw_model_get_property;
  object_class->set_property = tvw_model_set_property;

  /**
   * TvwModel:architecture:
   *
   * The architecture: torchvision's builder name, such as `resnet50`.
   * When %NULL it is taken from [property@Model:weights].
   */
  props[PROP_ARCHITECTURE] =
    g_param_spec_string ("architecture", NULL, NULL,
                         NULL,
                         (G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS));

  /**
   * TvwModel:num-classes:
   *
   * The number of outputs of the classifier.  0 means the number of
   * categories of [property@Model:weights], or the architecture's default
   * (1000) without weights.
   */
  props[PROP_NUM_CLASSES] =
    g_param_spec_uint ("num-classes", NULL, NULL,
                       0, G_MAXINT32, 0,
                       (G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS));

  /**
   * TvwModel:n-threads:
   *
   * How many threads a forward pass uses (at most 256); 0 means one per
   * processor.  The threads are the library's own and sleep when idle.
   * Forward passes running at the same time on several threads share
   * them: a step that finds them busy runs on the thread that called it.
   */
  props[PROP_N_THREADS] =
    g_param_spec_uint ("n-threads", NULL, NULL,
                       0, 1024, 0,
                       (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * TvwModel:weights:
   *
   * The weights entry whose checkpoint is loaded during construction, or
   * %NULL for random initialisation.  It must be an entry of the
   * architecture's builder, or, for a `quantized_*` architecture built with
   * the option `quantize=False`, of the float builder (the entry a
   * quantized entry's `meta["unquantized"]` names), as torchvision's
   * quantized builders take.
   */
  props[PROP_WEIGHTS] =
    g_param_spec_object ("weights", NULL, NULL,
                         TVW_TYPE_WEIGHTS,
                         (G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS));

  /**
   * TvwModel:pretrained:
   *
   * Deprecated: like torchvision's `pretrained=True`, loads the entry it
   * maps to (the legacy weights, `IMAGENET1K_V1` for classification) and
   * logs torchvision's deprecation warnings.
   */
  props[PROP_PRETRAINED] =
    g_param_spec_boolean ("pretrained", NULL, NULL,
                          FALSE,
                          (G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS |
                           G_PARAM_DEPRECATED));

  /**
   * TvwModel:pretrained-backbone:
   *
   * Deprecated: like torchvision's `pretrained_backbone=True`, loads the
   * backbone's legacy weights.
   */
  props[PROP_PRETRAINED_BACKBONE] =
    g_param_spec_boolean ("pretrained-backbone", NULL, NULL,
                          FALSE,
                          (G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS |
                           G_PARAM_DEPRECATED));

  /**
   * TvwModel:options:
   *
   * The builder's other keyword arguments, by torchvision's names (such as
   * `aux_loss`, `transform_input` or `min_size`), as a `a{sv}` dictionary.
   * An option the architecture does not take is an error of
   * initialisation, like torchvision's `TypeError`.
   */
  props[PROP_OPTIONS] =
    g_param_spec_variant ("options", NULL, NULL,
                          G_VARIANT_TYPE_VARDICT, NULL,
                          (G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, props);

  /**
   * TvwModel::download-progress:
   * @self: the model
   * @current: bytes downloaded so far
   * @total: the size of the file, or -1 if unknown
   *
   * Emitted on the main context of the caller of
   * g_async_initable_new_async() while the checkpoint of
   * [property@Model:weights] is downloaded.
   */
  signals[DOWNLOAD_PROGRESS] =
    g_signal_new ("download-progress",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 2, G_TYPE_INT64, G_TYPE_INT64);
}

static void
tvw_model_init (TvwModel *self)
{
  g_mutex_init (&self->lock);
}

static TvwNet *
build_net (TvwModel  *self,
           GVariant  *options,
           GError   **error)
{
  g_autoptr(GVariantDict) dict = g_variant_dict_new (options);
  TvwBuildConfig config = { self->num_classes, self->weights != NULL, dict };
  g_autoptr(TvwNet) net = NULL;

  if (!tvw_architecture_check_options (self->arch, options, error))
    return NULL;

  net = tvw_net_new ();
  if (!self->arch->build (net, self->arch, &config, error))
    {
      g_prefix_error (error, "%s: ", self->architecture);
      return NULL;
    }

  return g_steal_pointer (&net);
}

/* A bare checkpoint can decide what torchvision's builder would have been
 * told: a segmentation model's auxiliary classifier (aux_loss; True with a
 * weights entry) by its keys, ViT's image size by its position embedding.
 * When @ckpt implies options the net was not built with, a net built the
 * checkpoint's way (NULL: the model's own fits, or no other can be built —
 * binding then names the key). */
static TvwNet *
net_for_checkpoint (TvwModel      *self,
                    TvwCheckpoint *ckpt)
{
  const char *probe = "aux_classifier.0.weight";
  g_autoptr(GVariantDict) dict = NULL;
  g_autoptr(GVariant) options = NULL;
  g_autoptr(GVariant) given = NULL;
  gboolean wants;

  /* Options a checkpoint implies and nobody set (ViT's image size, from
   * its position embedding; MNASNet's version 1 stem). */
  if (self->arch->checkpoint_options != NULL)
    {
      dict = g_variant_dict_new (self->options);
      if (self->arch->checkpoint_options (self->arch, ckpt, self->net, dict))
        {
          options = g_variant_ref_sink (g_variant_dict_end (dict));
          return build_net (self, options, NULL);
        }
      g_clear_pointer (&dict, g_variant_dict_unref);
    }

  if (self->arch->options == NULL || !g_strv_contains (self->arch->options, "aux_loss"))
    return NULL;
  if (self->options != NULL)
    given = g_variant_lookup_value (self->options, "aux_loss", NULL);
  if (given != NULL)
    return NULL;

  wants = tvw_checkpoint_lookup (ckpt, probe) != NULL;
  if (wants == tvw_net_has_param (self->net, probe))
    return NULL;

  dict = g_variant_dict_new (self->options);
  g_variant_dict_insert (dict, "aux_loss", "b", wants);
  options = g_variant_ref_sink (g_variant_dict_end (dict));
  return build_net (self, options, NULL);
}

static gboolean
load_checkpoint (TvwModel      *self,
                 const char    *path,
                 GFile         *file,
                 gboolean       strict,
                 GCancellable  *cancellable,
                 GError       **error)
{
  g_autoptr(TvwCheckpoint) ckpt = NULL;
  g_autoptr(TvwNet) other = NULL;
  TvwNet *net;

  if (path != NULL)
    ckpt = tvw_checkpoint_open (path, error);
  else
    {
      g_autoptr(GBytes) bytes = g_file_load_bytes (file, cancellable, NULL, error);
      g_autofree char *name = NULL;

      if (bytes == NULL)
        return FALSE;
      name = g_file_get_parse_name (file);
      ckpt = tvw_checkpoint_open_bytes (bytes, name, error);
    }

  if (ckpt == NULL)
    return FALSE;

  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return FALSE;
  if (self->arch->upgrade_key != NULL)
    tvw_checkpoint_rename_keys (ckpt, self->arch->upgrade_key);

  g_mutex_lock (&self->lock);
  other = net_for_checkpoint (self, ckpt);
  net = other != NULL ? other : self->net;
  /* A partial load keeps the other parameters: they must exist first. */
  if (!strict && (self->needs_random || net != self->net))
    tvw_net_init_random (net, g_random_int ());
  if (!tvw_bind_checkpoint (net, ckpt, strict, error))
    {
      g_mutex_unlock (&self->lock);
      return FALSE;
    }
  tvw_checkpoint_prefetch (ckpt);
  if (!tvw_net_prepare (net, error))
    {
      g_mutex_unlock (&self->lock);
      return FALSE;
    }
  if (net != self->net)
    {
      tvw_net_free (self->net);
      self->net = g_steal_pointer (&other);
    }
  self->needs_random = FALSE;

  /* The net may point into the mapped file (a later partial load keeps
   * the values it does not replace): keep it, but out of resident memory
   * now that the weights are packed.  Drop the old one. */
  tvw_checkpoint_release_pages (ckpt);
  tvw_checkpoint_free (self->checkpoint);
  self->checkpoint = g_steal_pointer (&ckpt);
  g_mutex_unlock (&self->lock);

  return TRUE;
}

/* torchvision's quantized builders with quantize=False take the float
 * weights (meta["unquantized"]): quantized_@builder built with the option
 * quantize=False accepts @builder's weights. */
static gboolean
weights_are_unquantized (TvwModel *self)
{
  const char *builder = tvw_weights_get_builder (self->weights);
  gboolean quantize = TRUE;

  if (!g_str_has_prefix (self->architecture, "quantized_") ||
      g_strcmp0 (builder, self->architecture + strlen ("quantized_")) != 0)
    return FALSE;
  if (self->options != NULL)
    g_variant_lookup (self->options, "quantize", "b", &quantize);
  return !quantize;
}

static gboolean
tvw_model_initable_init (GInitable     *initable,
                         GCancellable  *cancellable,
                         GError       **error)
{
  TvwModel *self = TVW_MODEL (initable);
  guint num_classes;

  if (self->initialized)
    return TRUE;

  if (!self->legacy_resolved)
    {
      if (!tvw_model_resolve_legacy (self, &self->weights, error))
        return FALSE;
      self->legacy_resolved = TRUE;
    }

  if (self->architecture == NULL && self->weights != NULL)
    self->architecture = g_strdup (tvw_weights_get_builder (self->weights));

  if (self->architecture == NULL)
    {
      g_set_error (error, TVW_ERROR, TVW_ERROR_INVALID_ARGUMENT,
                   _("A model needs an architecture or weights"));
      return FALSE;
    }

  if (self->weights != NULL &&
      g_strcmp0 (tvw_weights_get_builder (self->weights), self->architecture) != 0 &&
      !weights_are_unquantized (self))
    {
      g_set_error (error, TVW_ERROR, TVW_ERROR_INVALID_ARGUMENT,
                   _("The weights %s are for %s, not %s"),
                   tvw_weights_get_full_name (self->weights),
                   tvw_weights_get_builder (self->weights), self->architecture);
      return FALSE;
    }

  self->arch = tvw_architecture_lookup (self->architecture);
  if (self->arch == NULL)
    {
      if (tvw_model_architecture_known (self->architecture))
        g_set_error (error, TVW_ERROR, TVW_ERROR_UNSUPPORTED,
                     _("The architecture %s is not implemented by libtvw yet"), self->architecture);
      else
        g_set_error (error, TVW_ERROR, TVW_ERROR_NOT_FOUND,
                     _("Unknown architecture “%s”"), self->architecture);
      return FALSE;
    }

  num_classes = self->arch->default_num_classes;
  if (self->weights != NULL)
    {
      guint from_weights = tvw_weights_get_num_classes (self->weights);

      if (self->num_classes != 0 && from_weights != 0 && self->num_classes != from_weights)
        {
          /* torchvision refuses this too (_ovewrite_named_param). */
          g_set_error (error, TVW_ERROR, TVW_ERROR_INVALID_ARGUMENT,
                       _("The parameter num_classes expected value %u but got %u instead"),
                       from_weights, self->num_classes);
          return FALSE;
        }
      if (from_weights != 0)
        num_classes = from_weights;
    }
  if (self->num_classes != 0)
    num_classes = self->num_classes;
  self->num_classes = num_classes;

  {
    g_autoptr(GVariantDict) dict = g_variant_dict_new (self->options);
    g_autoptr(GVariant) options = NULL;

    /* torchvision's ViT builders take image_size from the entry's
     * min_size. */
    if (self->weights != NULL && self->arch->options != NULL &&
        g_strv_contains ((const char * const *) self->arch->options, "image_size") &&
        !g_variant_dict_contains (dict, "image_size"))
      {
        g_autoptr(GVariant) min_size = tvw_weights_lookup_meta (self->weights, "min_size");
        gint64 h, w;

        if (min_size != NULL && g_variant_is_of_type (min_size, G_VARIANT_TYPE ("(xx)")))
          {
            g_variant_get (min_size, "(xx)", &h, &w);
            g_variant_dict_insert (dict, "image_size", "x", h);
          }
      }

    /* check the options as given, before the implied ones join them */
    if (!tvw_architecture_check_options (self->arch, self->options, error))
      return FALSE;
    options = g_variant_ref_sink (g_variant_dict_end (dict));
    self->net = build_net (self, options, error);
    if (self->net == NULL)
      return FALSE;
  }

  if (self->weights != NULL)
    {
      g_autofree char *path = tvw_model_fetch_weights (self->weights, cancellable, error);

      if (path == NULL)
        return FALSE;

      /* Embedded weights are a resource of the library: read in place. */
      if (g_str_has_prefix (path, "resource://"))
        {
          g_autoptr(GFile) file = g_file_new_for_uri (path);

          if (!load_checkpoint (self, NULL, file, TRUE, cancellable, error))
            return FALSE;
        }
      else if (!load_checkpoint (self, path, NULL, TRUE, cancellable, error))
        return FALSE;
    }
  else
    {
      /* Random weights are only made when they are used: a model built to
       * load a checkpoint never holds two sets of weights at once. */
      self->needs_random = TRUE;
    }

  self->initialized = TRUE;
  return TRUE;
}

static void
initable_iface_init (GInitableIface *iface)
{
  iface->init = tvw_model_initable_init;
}

static void
init_thread (GTask        *task,
             gpointer      source_object,
             gpointer      task_data,
             GCancellable *cancellable)
{
  GError *error = NULL;

  if (g_initable_init (G_INITABLE (source_object), cancellable, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

static void
progress_cb (goffset  current,
             goffset  total,
             gpointer user_data)
{
  g_signal_emit (user_data, signals[DOWNLOAD_PROGRESS], 0, (gint64) current, (gint64) total);
}

static void
fetch_cb (GObject      *object,
          GAsyncResult *result,
          gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *path = tvw_cache_fetch_finish (result, &error);

  /* The checkpoint is in the cache now: the rest (loading, packing) is CPU
   * work for a worker thread, where the lookup finds it at once. */
  if (path == NULL)
    g_task_return_error (task, g_steal_pointer (&error));
  else
    g_task_run_in_thread (task, init_thread);
}

static void
tvw_model_init_async (GAsyncInitable      *initable,
                      int                  io_priority,
                      GCancellable        *cancellable,
                      GAsyncReadyCallback  callback,
                      gpointer             user_data)
{
  TvwModel *self = TVW_MODEL (initable);
  g_autoptr(GTask) task = NULL;
  g_autoptr(GError) error = NULL;

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, tvw_model_init_async);
  g_task_set_priority (task, io_priority);

  if (!self->legacy_resolved)
    {
      if (!tvw_model_resolve_legacy (self, &self->weights, &error))
        {
          g_task_return_error (task, g_steal_pointer (&error));
          return;
        }
      self->legacy_resolved = TRUE;
    }

  if (self->weights != NULL && tvw_weights_get_local_file (self->weights) == NULL &&
      !tvw_weights_is_cached (self->weights))
    tvw_cache_fetch_async (tvw_weights_get_url (self->weights),
                           progress_cb, g_object_ref (self), g_object_unref,
                           cancellable, fetch_cb, g_steal_pointer (&task));
  else
    g_task_run_in_thread (task, init_thread);
}

static gboolean
tvw_model_init_finish (GAsyncInitable  *initable,
                       GAsyncResult    *result,
                       GError         **error)
{
  g_return_val_if_fail (g_task_is_valid (result, initable), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
async_initable_iface_init (GAsyncInitableIface *iface)
{
  iface->init_async = tvw_model_init_async;
  iface->init_finish = tvw_model_init_finish;
}

/**
 * tvw_model_new:
 * @architecture: torchvision's builder name, such as `resnet50`
 * @num_classes: the number of classes, or 0 for the architecture's default
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for an error
 *
 * Builds @architecture with random weights.  Load a checkpoint with
 * [method@Model.load_state_dict_from_file], or use [func@get_model] to get
 * a model with a weights entry.
 *
 * Returns: (transfer full): a new model, or %NULL if @architecture is
 *   unknown or not implemented
 */
TvwModel *
tvw_model_new (const char    *architecture,
               guint          num_classes,
               GCancellable  *cancellable,
               GError       **error)
{
  g_return_val_if_fail (architecture != NULL, NULL);

  return g_initable_new (TVW_TYPE_MODEL, cancellable, error,
                         "architecture", architecture,
                         "num-classes", num_classes,
                         NULL);
}

/**
 * tvw_model_get_architecture:
 * @self: a model
 *
 * Returns: the architecture, torchvision's builder name
 */
const char *
tvw_model_get_architecture (TvwModel *self)
{
  g_return_val_if_fail (TVW_IS_MODEL (self), NULL);

  return self->architecture;
}

/**
 * tvw_model_get_num_classes:
 * @self: a model
 *
 * Returns: the number of outputs of the classifier
 */
guint
tvw_model_get_num_classes (TvwModel *self)
{
  g_return_val_if_fail (TVW_IS_MODEL (self), 0);

  return self->num_classes;
}

/**
 * tvw_model_get_weights:
 * @self: a model
 *
 * Returns: (transfer none) (nullable): the weights entry the model was
 *   built with
 */
TvwWeights *
tvw_model_get_weights (TvwModel *self)
{
  g_return_val_if_fail (TVW_IS_MODEL (self), NULL);

  return self->weights;
}

/**
 * tvw_model_get_n_threads:
 * @self: a model
 *
 * Returns: the number of threads a forward pass uses, 0 for one per processor
 */
guint
tvw_model_get_n_threads (TvwModel *self)
{
  g_return_val_if_fail (TVW_IS_MODEL (self), 0);

  return self->n_threads;
}

/**
 * tvw_model_set_n_threads:
 * @self: a model
 * @n_threads: the number of threads, 0 for one per processor
 *
 * Sets how many threads a forward pass uses.
 */
void
tvw_model_set_n_threads (TvwModel *self,
                         guint     n_threads)
{
  g_return_if_fail (TVW_IS_MODEL (self));

  if (self->n_threads == n_threads)
    return;

  self->n_threads = n_threads;
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_N_THREADS]);
}

/**
 * tvw_model_get_min_size:
 * @self: a model
 *
 * Returns: the smallest height and width the architecture accepts
 */
guint
tvw_model_get_min_size (TvwModel *self)
{
  g_return_val_if_fail (TVW_IS_MODEL (self), 0);
  g_return_val_if_fail (self->arch != NULL, 0);

  return self->arch->min_size;
}

/**
 * tvw_model_count_parameters:
 * @self: a model
 *
 * Returns: the number of parameters, counted as torchvision's `num_params`
 */
gint64
tvw_model_count_parameters (TvwModel *self)
{
  g_return_val_if_fail (TVW_IS_MODEL (self), 0);
  g_return_val_if_fail (self->net != NULL, 0);

  return tvw_net_count_parameters (self->net);
}

/**
 * tvw_model_list_parameters:
 * @self: a model
 * @buffers: whether to list the buffers too (BatchNorm's running
 *   statistics and `num_batches_tracked`)
 *
 * Lists the names of the model's parameters, the names of torchvision's
 * `model.named_parameters()`, or with @buffers the keys of its
 * `state_dict()`. They come in the order the network uses them, which is
 * not always the order torchvision's modules declare them in (a ResNet's
 * `downsample` comes before the block's `conv1`).
 *
 * Returns: (transfer full) (array zero-terminated=1): the names
 */
char **
tvw_model_list_parameters (TvwModel *self,
                           gboolean  buffers)
{
  g_autoptr(GStrvBuilder) names = g_strv_builder_new ();
  guint n;

  g_return_val_if_fail (TVW_IS_MODEL (self), NULL);
  g_return_val_if_fail (self->net != NULL, NULL);

  n = tvw_net_get_n_params (self->net);
  for (guint i = 0; i < n; i++)
    {
      const gint64 *shape;
      gboolean optional, is_float;
      guint n_dims;
      const char *name = tvw_net_get_param_info (self->net, i, &n_dims, &shape,
                                                 &optional, &is_float);

      if (buffers || !tvw_net_param_is_buffer (self->net, i))
        g_strv_builder_add (names, name);
    }

  return g_strv_builder_end (names);
}

/**
 * tvw_model_get_parameter_shape:
 * @self: a model
 * @name: a parameter or buffer name, e.g. `fc.weight`
 * @n_dims: (out): return location for the number of dimensions
 * @error: return location for an error
 *
 * Gets the shape of a parameter, like `model.state_dict()[name].shape`.
 * An unknown name is %TVW_ERROR_NOT_FOUND.
 *
 * Returns: (transfer none) (array length=n_dims) (nullable): the shape,
 *   or %NULL with @error set
 */
const gint64 *
tvw_model_get_parameter_shape (TvwModel    *self,
                               const char  *name,
                               guint       *n_dims,
                               GError     **error)
{
  guint n;

  g_return_val_if_fail (TVW_IS_MODEL (self), NULL);
  g_return_val_if_fail (self->net != NULL, NULL);
  g_return_val_if_fail (name != NULL, NULL);
  g_return_val_if_fail (n_dims != NULL, NULL);

  n = tvw_net_get_n_params (self->net);
  for (guint i = 0; i < n; i++)
    {
      const gint64 *shape;
      gboolean optional, is_float;
      const char *p = tvw_net_get_param_info (self->net, i, n_dims, &shape, &optional, &is_float);

      if (g_str_equal (p, name))
        return shape;
    }

  *n_dims = 0;
  g_set_error (error, TVW_ERROR, TVW_ERROR_NOT_FOUND,
               _("%s has no parameter “%s”"), self->arch->name, name);
  return NULL;
}

/**
 * tvw_model_load_state_dict_from_file:
 * @self: a model
 * @file: a `.pth` (zip or legacy `torch.save` format) or `.safetensors` file
 * @strict: whether missing and unexpected keys are errors
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for an error
 *
 * Loads a state_dict, like PyTorch's `model.load_state_dict(torch.load(f))`.
 * `{"model": …}` and `{"state_dict": …}` wrappers and `module.` prefixes
 * are accepted.  A tensor whose shape differs from the architecture's is
 * always an error naming the key; with @strict, so are missing and
 * unexpected keys.  On error the model is unchanged.
 *
 * The file is read safely: nothing in it is ever executed.
 *
 * Returns: %TRUE on success
 */
gboolean
tvw_model_load_state_dict_from_file (TvwModel      *self,
                                     GFile         *file,
                                     gboolean       strict,
                                     GCancellable  *cancellable,
                                     GError       **error)
{
  g_return_val_if_fail (TVW_IS_MODEL (self), FALSE);
  g_return_val_if_fail (G_IS_FILE (file), FALSE);
  g_return_val_if_fail (self->net != NULL, FALSE);

  return load_checkpoint (self, g_file_peek_path (file), file, strict, cancellable, error);
}

/* RAFT takes two images; no architecture more. */
#define TVW_MODEL_MAX_INPUTS 4

/* Checks input @index of the net against @input, a tensor of its rank or
 * one less (no batch dimension), and describes it in @array (its float
 * data kept alive by @floats). */
static gboolean
check_input (TvwModel   *self,
             guint       index,
             TvwTensor  *input,
             TvwArray   *array,
             TvwTensor **floats,
             GError    **error)
{
  const char *name;
  const TvwArray *spec = tvw_net_get_input (self->net, index, &name);
  const guint rank = (guint) spec->rank;
  const guint multiple = MAX (self->arch->size_multiple, 1);
  const gint64 *shape;
  guint n_dims;
  gint64 n, c, t, h, w;

  shape = tvw_tensor_get_shape (input, &n_dims);
  /* Images are N×C×H×W, clips N×C×T×H×W (the net's input says which); a
   * single image or clip may come without the batch dimension. */
  if (n_dims != rank && n_dims != rank - 1)
    {
      g_set_error (error, TVW_ERROR, TVW_ERROR_INVALID_ARGUMENT,
                   rank == 5 ? _("%s expects an N×C×T×H×W batch of clips, not a tensor of %u dimensions")
                             : _("%s expects an N×C×H×W batch, not a tensor of %u dimensions"),
                   self->architecture, n_dims);
      return FALSE;
    }

  n = n_dims == rank ? shape[0] : 1;
  c = shape[n_dims - rank + 1];
  t = rank == 5 ? shape[n_dims - 3] : 1;
  h = shape[n_dims - 2];
  w = shape[n_dims - 1];

  if (c != 3)
    {
      g_set_error (error, TVW_ERROR, TVW_ERROR_INVALID_ARGUMENT,
                   _("%s expects 3 input channels, not %lld"),
                   self->architecture, (long long) c);
      return FALSE;
    }

  if (n < 1 || t < 1 || h < self->arch->min_size || w < self->arch->min_size ||
      n > G_MAXINT32 || t > TVW_MODEL_MAX_INPUT_SIZE ||
      h > TVW_MODEL_MAX_INPUT_SIZE || w > TVW_MODEL_MAX_INPUT_SIZE ||
      n * t * h * w > TVW_MODEL_MAX_INPUT_PIXELS)
    {
      if (rank == 5)
        g_set_error (error, TVW_ERROR, TVW_ERROR_INVALID_ARGUMENT,
                     _("%s cannot take a batch of %lld clips of %lld frames of %lld×%lld "
                       "(sizes from %u to %d, at most %d pixels in a batch)"),
                     self->architecture, (long long) n, (long long) t, (long long) h,
                     (long long) w, self->arch->min_size,
                     TVW_MODEL_MAX_INPUT_SIZE, TVW_MODEL_MAX_INPUT_PIXELS);
      else
        g_set_error (error, TVW_ERROR, TVW_ERROR_INVALID_ARGUMENT,
                     _("%s cannot take a batch of %lld images of %lld×%lld "
                       "(sizes from %u to %d, at most %d pixels in a batch)"),
                     self->architecture, (long long) n, (long long) h, (long long) w,
                     self->arch->min_size,
                     TVW_MODEL_MAX_INPUT_SIZE, TVW_MODEL_MAX_INPUT_PIXELS);
      return FALSE;
    }

  if (h % multiple != 0 || w % multiple != 0)
    {
      g_set_error (error, TVW_ERROR, TVW_ERROR_INVALID_ARGUMENT,
                   _("%s needs heights and widths divisible by %u, not %lld×%lld (%s)"),
                   self->architecture, multiple, (long long) h, (long long) w, name);
      return FALSE;
    }

  *floats = tvw_tensor_to_float (input);
  if (rank == 5)
    tvw_array_init (array, TVW_ELEM_F32, 5, (gint64[]) { n, c, t, h, w });
  else
    tvw_array_init (array, TVW_ELEM_F32, 4, (gint64[]) { n, c, h, w });
  array->data = (gpointer) tvw_tensor_get_data (*floats);
  return TRUE;
}

/* Checks @inputs, runs the net, and returns its outputs, in the net's
 * order, as new tensors (@outputs has room for tvw_net_get_n_outputs ()). */
static gboolean
run_outputs (TvwModel      *self,
             TvwTensor    **inputs,
             guint          n_inputs,
             GCancellable  *cancellable,
             TvwTensor    **outputs,
             GError       **error)
{
  guint n_outputs = tvw_net_get_n_outputs (self->net);
  guint wanted = tvw_net_get_n_inputs (self->net);
  g_autofree TvwArray *out = g_new0 (TvwArray, n_outputs);
  TvwArray in[TVW_MODEL_MAX_INPUTS];
  TvwTensor *floats[TVW_MODEL_MAX_INPUTS] = { NULL };
  gboolean ok = TRUE;

  if (n_inputs != wanted || wanted > TVW_MODEL_MAX_INPUTS)
    {
      g_set_error (error, TVW_ERROR, TVW_ERROR_INVALID_ARGUMENT,
                   g_dngettext (GETTEXT_PACKAGE, "%s takes %u input, not %u", "%s takes %u inputs, not %u", wanted),
                   self->architecture, wanted, n_inputs);
      return FALSE;
    }

  for (guint i = 0; i < n_inputs && ok; i++)
    ok = check_input (self, i, inputs[i], &in[i], &floats[i], error);
  if (!ok)
    {
      for (guint i = 0; i < n_inputs; i++)
        g_clear_object (&floats[i]);
      return FALSE;
    }

  g_mutex_lock (&self->lock);
  if (self->needs_random)
    {
      tvw_net_init_random (self->net, g_random_int ());
      ok = tvw_net_prepare (self->net, error);
      self->needs_random = !ok;
    }
  if (ok)
    ok = tvw_net_run_arrays (self->net, in, (int) self->n_threads, cancellable, out, error);
  g_mutex_unlock (&self->lock);
  for (guint i = 0; i < n_inputs; i++)
    g_clear_object (&floats[i]);

  if (!ok)
    {
      if (error != NULL && *error != NULL && (*error)->domain == TVW_ERROR)
        g_prefix_error (error, "%s: ", self->architecture);
      return FALSE;
    }

  /* Users see float32 tensors, and int64 ones for int64 outputs (a
   * detection's labels, as torchvision returns them); other integer
   * outputs are converted, exactly up to 2^24. */
  for (guint k = 0; k < n_outputs; k++)
    {
      gsize count = (gsize) tvw_array_numel (&out[k]);
      float *data = out[k].data;

      if (out[k].elem == TVW_ELEM_I64)
        {
          outputs[k] = tvw_tensor_new_take (TVW_DTYPE_INT64, out[k].shape, (guint) out[k].rank,
                                            g_bytes_new_take (out[k].data, count * sizeof (gint64)));
          continue;
        }
      if (out[k].elem != TVW_ELEM_F32)
        {
          data = g_new (float, MAX (count, 1));
          for (gsize i = 0; i < count; i++)
            switch (out[k].elem)
              {
              case TVW_ELEM_I32: data[i] = (float) ((const gint32 *) out[k].data)[i]; break;
              case TVW_ELEM_I8:  data[i] = (float) ((const gint8 *) out[k].data)[i]; break;
              case TVW_ELEM_U8:
              case TVW_ELEM_BOOL:
              case TVW_ELEM_F32:
              default:           data[i] = (float) ((const guint8 *) out[k].data)[i]; break;
              }
          g_free (out[k].data);
        }
      outputs[k] = tvw_tensor_new_take (TVW_DTYPE_FLOAT32, out[k].shape, (guint) out[k].rank,
                                        g_bytes_new_take (data, count * sizeof (float)));
    }

  return TRUE;
}

/**
 * tvw_model_forward:
 * @self: a model
 * @input: an NCHW float32 batch (a CHW image is taken as a batch of one)
 * @cancellable: (nullable): a #GCancellable, checked between layers
 * @error: return location for an error
 *
 * Runs the model, like calling the PyTorch module in eval mode.  A model
 * with several outputs (segmentation models with an auxiliary classifier)
 * returns the first one here, torchvision's `out`; see
 * [method@Model.forward_outputs].
 *
 * Returns: (transfer full): the output, N×num_classes for classifiers, or
 *   %NULL if @input has the wrong shape or is too small for the architecture
 */
TvwTensor *
tvw_model_forward (TvwModel      *self,
                   TvwTensor     *input,
                   GCancellable  *cancellable,
                   GError       **error)
{
  g_autoptr(GListModel) outputs = NULL;

  g_return_val_if_fail (TVW_IS_MODEL (self), NULL);
  g_return_val_if_fail (TVW_IS_TENSOR (input), NULL);
  g_return_val_if_fail (self->net != NULL, NULL);

  outputs = tvw_model_forward_outputs (self, input, cancellable, error);
  if (outputs == NULL)
    return NULL;

  return g_list_model_get_item (outputs, 0);
}

/**
 * tvw_model_get_output_names:
 * @self: a model
 *
 * The names of the model's outputs, in the order
 * [method@Model.forward_outputs] returns them: torchvision's keys (`out`,
 * then `aux` for segmentation models with an auxiliary classifier), `out`
 * for a model with one output.
 *
 * Returns: (transfer full) (array zero-terminated=1): the output names
 */
char **
tvw_model_get_output_names (TvwModel *self)
{
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();

  g_return_val_if_fail (TVW_IS_MODEL (self), NULL);
  g_return_val_if_fail (self->net != NULL, NULL);

  for (guint k = 0; k < tvw_net_get_n_outputs (self->net); k++)
    g_strv_builder_add (builder, tvw_net_get_output_name (self->net, k));

  return g_strv_builder_end (builder);
}

/**
 * tvw_model_forward_outputs:
 * @self: a model
 * @input: an NCHW float32 batch (a CHW image is taken as a batch of one)
 * @cancellable: (nullable): a #GCancellable, checked between layers
 * @error: return location for an error
 *
 * Runs the model and returns all its outputs, like the dictionary
 * torchvision's segmentation models return: one tensor per name of
 * [method@Model.get_output_names], in that order.  A detection model
 * returns image 0's `boxes`, `labels` (int64), `scores` and its other
 * keys; [method@Model.detect] wraps them.
 *
 * Returns: (transfer full): a list model of [class@Tensor], or %NULL on
 *   error
 */
GListModel *
tvw_model_forward_outputs (TvwModel      *self,
                           TvwTensor     *input,
                           GCancellable  *cancellable,
                           GError       **error)
{
  g_return_val_if_fail (TVW_IS_TENSOR (input), NULL);

  return tvw_model_forward_inputs (self, &input, 1, cancellable, error);
}

/**
 * tvw_model_forward_inputs:
 * @self: a model
 * @inputs: (array length=n_inputs): the inputs, in the order of
 *   [method@Model.get_input_names]
 * @n_inputs: the number of @inputs
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Runs a model that takes several inputs, such as RAFT's two images
 * (`image1`, `image2`), and returns all its outputs as
 * [method@Model.forward_outputs] does.
 *
 * Returns: (transfer full): a list model of [class@Tensor], or %NULL on
 *   error
 */
GListModel *
tvw_model_forward_inputs (TvwModel      *self,
                          TvwTensor    **inputs,
                          guint          n_inputs,
                          GCancellable  *cancellable,
                          GError       **error)
{
  g_autofree TvwTensor **tensors = NULL;
  GListStore *outputs;
  guint n_outputs;

  g_return_val_if_fail (TVW_IS_MODEL (self), NULL);
  g_return_val_if_fail (inputs != NULL || n_inputs == 0, NULL);
  g_return_val_if_fail (self->net != NULL, NULL);
  for (guint i = 0; i < n_inputs; i++)
    g_return_val_if_fail (TVW_IS_TENSOR (inputs[i]), NULL);

  n_outputs = tvw_net_get_n_outputs (self->net);
  tensors = g_new0 (TvwTensor *, n_outputs);
  if (!run_outputs (self, inputs, n_inputs, cancellable, tensors, error))
    return NULL;

  outputs = g_list_store_new (TVW_TYPE_TENSOR);
  g_list_store_splice (outputs, 0, 0, (gpointer *) tensors, n_outputs);
  for (guint k = 0; k < n_outputs; k++)
    g_object_unref (tensors[k]);

  return G_LIST_MODEL (outputs);
}

/**
 * tvw_model_get_input_names:
 * @self: a model
 *
 * Gets the names of the model's inputs, in the order
 * [method@Model.forward_inputs] takes them: `input` for image and video
 * models, `image1` and `image2` for optical flow.
 *
 * Returns: (transfer full): the input names
 */
char **
tvw_model_get_input_names (TvwModel *self)
{
  guint n;
  char **names;

  g_return_val_if_fail (TVW_IS_MODEL (self), NULL);
  g_return_val_if_fail (self->net != NULL, NULL);

  n = tvw_net_get_n_inputs (self->net);
  names = g_new0 (char *, n + 1);
  for (guint i = 0; i < n; i++)
    {
      const char *name;

      tvw_net_get_input (self->net, i, &name);
      names[i] = g_strdup (name);
    }
  return names;
}

static void
forward_thread (GTask        *task,
                gpointer      source_object,
                gpointer      task_data,
                GCancellable *cancellable)
{
  GError *error = NULL;
  TvwTensor *out;

  out = tvw_model_forward (source_object, task_data, cancellable, &error);
  if (out == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, out, g_object_unref);
}

/**
 * tvw_model_forward_async:
 * @self: a model
 * @input: an NCHW float32 batch
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the output is ready
 * @user_data: data for @callback
 *
 * Runs the model in a worker thread.  See [method@Model.forward].
 */
void
tvw_model_forward_async (TvwModel            *self,
                         TvwTensor           *input,
                         GCancellable        *cancellable,
                         GAsyncReadyCallback  callback,
                         gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (TVW_IS_MODEL (self));
  g_return_if_fail (TVW_IS_TENSOR (input));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, tvw_model_forward_async);
  g_task_set_task_data (task, g_object_ref (input), g_object_unref);
  g_task_run_in_thread (task, forward_thread);
}

/**
 * tvw_model_forward_finish:
 * @self: a model
 * @result: the result passed to the callback
 * @error: return location for an error
 *
 * Returns: (transfer full): the output, or %NULL on error
 */
TvwTensor *
tvw_model_forward_finish (TvwModel      *self,
                          GAsyncResult  *result,
                          GError       **error)
{
  g_return_val_if_fail (TVW_IS_MODEL (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == tvw_model_forward_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

typedef struct
{
  float value;
  guint index;
} Ranked;

static int
compare_ranked (gconstpointer a,
                gconstpointer b)
{
  const Ranked *x = a, *y = b;

  /* Highest first; ties by index, as a stable sort of torch.topk would. */
  if (x->value != y->value)
    return x->value < y->value ? 1 : -1;
  return (x->index > y->index) - (x->index < y->index);
}

/**
 * tvw_model_predictions_from_output:
 * @self: a model
 * @output: the output of [method@Model.forward] for one image (1×C or C)
 * @top_k: how many classes to return
 * @error: return location for an error
 *
 * Turns logits into the @top_k most likely classes (softmax
 * probabilities), named with the categories of the model's weights.
 *
 * Returns: (transfer full): a list model of [class@Prediction], most
 *   likely first
 */
GListModel *
tvw_model_predictions_from_output (TvwModel   *self,
                                   TvwTensor  *output,
                                   guint       top_k,
                                   GError    **error)
{
  g_autoptr(GListStore) store = g_list_store_new (TVW_TYPE_PREDICTION);
  g_autoptr(TvwTensor) probabilities = NULL;
  g_autofree Ranked *ranked = NULL;
  const char * const *categories = NULL;
  guint n_categories = 0;
  gsize n;

  g_return_val_if_fail (TVW_IS_MODEL (self), NULL);
  g_return_val_if_fail (TVW_IS_TENSOR (output), NULL);

  n = tvw_tensor_get_n_elements (output);
  if (tvw_tensor_get_dtype (output) != TVW_DTYPE_FLOAT32 || n == 0 ||
      (tvw_tensor_get_n_dims (output) == 2 && tvw_tensor_get_dim (output, 0) != 1) ||
      tvw_tensor_get_n_dims (output) > 2)
    {
      g_set_error (error, TVW_ERROR, TVW_ERROR_INVALID_ARGUMENT,
                   _("Predictions need the output of one image"));
      return NULL;
    }

  {
    gint64 flat[1] = { (gint64) n };
    g_autoptr(TvwTensor) row = tvw_tensor_reshape (output, flat, 1, error);

    if (row == NULL)
      return NULL;
    probabilities = tvw_tensor_softmax (row, 0);
  }

  if (self->weights != NULL)
    {
      categories = tvw_weights_get_categories (self->weights);
      n_categories = categories != NULL ? g_strv_length ((char **) categories) : 0;
    }

  ranked = g_new (Ranked, n);
  for (gsize i = 0; i < n; i++)
    {
      ranked[i].value = tvw_tensor_get_data (probabilities)[i];
      ranked[i].index = (guint) i;
    }
  qsort (ranked, n, sizeof (Ranked), compare_ranked);

  for (gsize i = 0; i < MIN (n, top_k); i++)
    {
      g_autoptr(TvwPrediction) p = NULL;
      const char *name = ranked[i].index < n_categories ? categories[ranked[i].index] : NULL;

      p = tvw_prediction_new (ranked[i].index, name, ranked[i].value);
      g_list_store_append (store, p);
    }

  return G_LIST_MODEL (g_steal_pointer (&store));
}

/* @image as a batch of one, preprocessed with the weights' own transforms
 * (@preset's without weights). */
static TvwTensor *
image_batch (TvwModel   *self,
             GdkPixbuf  *image,
             TvwPreset   preset,
             GError    **error)
{
  g_autoptr(TvwTransform) preprocess = NULL;
  g_autoptr(TvwTensor) img = NULL;

  if (self->weights != NULL)
    preprocess = tvw_weights_transforms (self->weights);
  else
    preprocess = tvw_transform_new (preset);

  img = tvw_transform_apply_pixbuf (preprocess, image, error);
  if (img == NULL)
    return NULL;

  return tvw_tensor_unsqueeze (img, 0);
}

/**
 * tvw_model_classify:
 * @self: a model
 * @image: an 8-bit RGB or RGBA image
 * @top_k: how many classes to return
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for an error
 *
 * Classifies @image the way the blog post's example does: the weights' own
 * preprocessing ([method@Weights.transforms]; the ImageNet preset without
 * weights), a forward pass, a softmax, the @top_k classes.
 *
 * Returns: (transfer full): a list model of [class@Prediction], most likely
 *   first, or %NULL on error
 */
GListModel *
tvw_model_classify (TvwModel      *self,
                    GdkPixbuf     *image,
                    guint          top_k,
                    GCancellable  *cancellable,
                    GError       **error)
{
  g_autoptr(TvwTensor) batch = NULL;
  g_autoptr(TvwTensor) output = NULL;

  g_return_val_if_fail (TVW_IS_MODEL (self), NULL);
  g_return_val_if_fail (GDK_IS_PIXBUF (image), NULL);

  batch = image_batch (self, image, TVW_PRESET_IMAGE_CLASSIFICATION, error);
  if (batch == NULL)
    return NULL;
  output = tvw_model_forward (self, batch, cancellable, error);
  if (output == NULL)
    return NULL;

  return tvw_model_predictions_from_output (self, output, top_k, error);
}

/* What a classification in a worker thread needs. */
typedef struct
{
  GdkPixbuf *image;
  guint      top_k;
} ClassifyData;

static void
classify_data_free (ClassifyData *data)
{
  g_object_unref (data->image);
  g_free (data);
}

static void
classify_thread (GTask        *task,
                 gpointer      source_object,
                 gpointer      task_data,
                 GCancellable *cancellable)
{
  const ClassifyData *data = task_data;
  GError *error = NULL;
  GListModel *predictions;

  predictions = tvw_model_classify (source_object, data->image, data->top_k, cancellable, &error);
  if (predictions == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, predictions, g_object_unref);
}

/**
 * tvw_model_classify_async:
 * @self: a model
 * @image: an 8-bit RGB or RGBA image
 * @top_k: how many classes to return
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the predictions are ready
 * @user_data: data for @callback
 *
 * Classifies @image in a worker thread.  See [method@Model.classify].
 */
void
tvw_model_classify_async (TvwModel            *self,
                          GdkPixbuf           *image,
                          guint                top_k,
                          GCancellable        *cancellable,
                          GAsyncReadyCallback  callback,
                          gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  ClassifyData *data;

  g_return_if_fail (TVW_IS_MODEL (self));
  g_return_if_fail (GDK_IS_PIXBUF (image));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, tvw_model_classify_async);
  data = g_new (ClassifyData, 1);
  data->image = g_object_ref (image);
  data->top_k = top_k;
  g_task_set_task_data (task, data, (GDestroyNotify) classify_data_free);
  g_task_run_in_thread (task, classify_thread);
}

/**
 * tvw_model_classify_finish:
 * @self: a model
 * @result: the result passed to the callback
 * @error: return location for an error
 *
 * Returns: (transfer full): a list model of [class@Prediction], or %NULL on
 *   error
 */
GListModel *
tvw_model_classify_finish (TvwModel      *self,
                           GAsyncResult  *result,
                           GError       **error)
{
  g_return_val_if_fail (TVW_IS_MODEL (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == tvw_model_classify_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/**
 * tvw_model_classify_file:
 * @self: a model
 * @file: an image file, or a video file for a video model
 * @top_k: how many classes to return
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for an error
 *
 * Classifies an image file as [method@Model.classify] does.  A video
 * model (r3d_18, s3d, mvit…) takes a video file instead, read with
 * GStreamer: clips of consecutive frames sampled as torchvision's
 * video reference scripts sample them (the entry's `frame_rate`,
 * `clip_len` and `clips_per_video`, from its documentation; 15 frames
 * per second, 5 clips of 16 frames otherwise), each through the
 * weights' preprocessing and the model, their softmax probabilities
 * averaged.
 *
 * Returns: (transfer full): a list model of [class@Prediction], most likely
 *   first, or %NULL with @error naming the file
 */
GListModel *
tvw_model_classify_file (TvwModel      *self,
                         GFile         *file,
                         guint          top_k,
                         GCancellable  *cancellable,
                         GError       **error)
{
  g_autoptr(GdkPixbuf) image = NULL;

  g_return_val_if_fail (TVW_IS_MODEL (self), NULL);
  g_return_val_if_fail (G_IS_FILE (file), NULL);
  g_return_val_if_fail (self->net != NULL, NULL);

  if (tvw_net_get_input (self->net, 0, NULL)->rank == 5)
    return tvw_video_classify (self, file, top_k, cancellable, error);

  image = tvw_image_load (file, cancellable, error);
  if (image == NULL)
    return NULL;
  return tvw_model_classify (self, image, top_k, cancellable, error);
}

/**
 * tvw_model_segment:
 * @self: a semantic segmentation model
 * @image: an 8-bit RGB or RGBA image
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for an error
 *
 * Segments @image the way torchvision's documentation does: the weights'
 * own preprocessing ([method@Weights.transforms]; the
 * `SemanticSegmentation` preset without weights), a forward pass, the
 * logits of `out` upsampled to the image's size, the most likely class of
 * each pixel, named with the weights' categories.
 *
 * Returns: (transfer full): the segmentation, or %NULL on error
 */
TvwSegmentation *
tvw_model_segment (TvwModel      *self,
                   GdkPixbuf     *image,
                   GCancellable  *cancellable,
                   GError       **error)
{
  g_autoptr(TvwTensor) batch = NULL;
  g_autoptr(TvwTensor) output = NULL;
  const char * const *categories = NULL;

  g_return_val_if_fail (TVW_IS_MODEL (self), NULL);
  g_return_val_if_fail (GDK_IS_PIXBUF (image), NULL);

  if (self->weights != NULL)
    categories = tvw_weights_get_categories (self->weights);

  batch = image_batch (self, image, TVW_PRESET_SEMANTIC_SEGMENTATION, error);
  if (batch == NULL)
    return NULL;
  output = tvw_model_forward (self, batch, cancellable, error);
  if (output == NULL)
    return NULL;

  if (tvw_tensor_get_n_dims (output) != 4)
    {
      g_set_error (error, TVW_ERROR, TVW_ERROR_INVALID_ARGUMENT,
                   _("%s is not a semantic segmentation model"), self->architecture);
      return NULL;
    }

  return tvw_segmentation_new_from_output (output, (guint) gdk_pixbuf_get_width (image),
                                           (guint) gdk_pixbuf_get_height (image),
                                           categories, error);
}

/* A task on one image whose result is an object: segment, detect. */
typedef gpointer (*ImageTaskFunc) (TvwModel      *self,
                                   GdkPixbuf     *image,
                                   GCancellable  *cancellable,
                                   GError       **error);

typedef struct
{
  GdkPixbuf     *image;
  ImageTaskFunc  func;
} ImageTask;

static void
image_task_free (ImageTask *data)
{
  g_object_unref (data->image);
  g_free (data);
}

static void
image_task_thread (GTask        *task,
                   gpointer      source_object,
                   gpointer      task_data,
                   GCancellable *cancellable)
{
  const ImageTask *data = task_data;
  GError *error = NULL;
  gpointer result;

  result = data->func (source_object, data->image, cancellable, &error);
  if (result == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, result, g_object_unref);
}

static void
run_image_task (TvwModel            *self,
                GdkPixbuf           *image,
                ImageTaskFunc        func,
                gpointer             source_tag,
                GCancellable        *cancellable,
                GAsyncReadyCallback  callback,
                gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (self, cancellable, callback, user_data);
  ImageTask *data = g_new (ImageTask, 1);

  g_task_set_source_tag (task, source_tag);
  data->image = g_object_ref (image);
  data->func = func;
  g_task_set_task_data (task, data, (GDestroyNotify) image_task_free);
  g_task_run_in_thread (task, image_task_thread);
}

/**
 * tvw_model_segment_async:
 * @self: a semantic segmentation model
 * @image: an 8-bit RGB or RGBA image
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the segmentation is ready
 * @user_data: data for @callback
 *
 * Segments @image in a worker thread.  See [method@Model.segment].
 */
void
tvw_model_segment_async (TvwModel            *self,
                         GdkPixbuf           *image,
                         GCancellable        *cancellable,
                         GAsyncReadyCallback  callback,
                         gpointer             user_data)
{
  g_return_if_fail (TVW_IS_MODEL (self));
  g_return_if_fail (GDK_IS_PIXBUF (image));

  run_image_task (self, image, (ImageTaskFunc) tvw_model_segment, tvw_model_segment_async,
                  cancellable, callback, user_data);
}

/**
 * tvw_model_segment_finish:
 * @self: a model
 * @result: the result passed to the callback
 * @error: return location for an error
 *
 * Returns: (transfer full): the segmentation, or %NULL on error
 */
TvwSegmentation *
tvw_model_segment_finish (TvwModel      *self,
                          GAsyncResult  *result,
                          GError       **error)
{
  g_return_val_if_fail (TVW_IS_MODEL (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == tvw_model_segment_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/* The output named @name of @outputs, or NULL. */
static TvwTensor *
output_named (GListModel         *outputs,
              const char * const *names,
              const char         *name)
{
  for (guint k = 0; names[k] != NULL; k++)
    if (g_str_equal (names[k], name))
      return g_list_model_get_item (outputs, k);
  return NULL;
}

/**
 * tvw_model_detect:
 * @self: an object detection, instance segmentation or keypoint model
 * @image: an 8-bit RGB or RGBA image
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for an error
 *
 * Finds the objects in @image the way torchvision's documentation does:
 * the weights' own preprocessing (`ObjectDetection`: the image as floats
 * in [0, 1] at its own size; the model resizes and normalises it itself),
 * a forward pass, the model's `boxes`, `labels`, `scores` (and `masks`,
 * or `keypoints` and `keypoints_scores`) for the image, named with the
 * weights' `categories` and `keypoint_names`.
 *
 * Returns: (transfer full): the detection, or %NULL on error (a model
 *   whose outputs are not a detection's among them)
 */
TvwDetection *
tvw_model_detect (TvwModel      *self,
                  GdkPixbuf     *image,
                  GCancellable  *cancellable,
                  GError       **error)
{
  g_autoptr(TvwTensor) batch = NULL;
  g_autoptr(GListModel) outputs = NULL;
  g_autoptr(TvwTensor) boxes = NULL, labels = NULL, scores = NULL;
  g_autoptr(TvwTensor) masks = NULL, keypoints = NULL, keypoints_scores = NULL;
  g_autoptr(GVariant) keypoint_names = NULL;
  g_autofree const char **names_of_keypoints = NULL;
  g_auto(GStrv) names = NULL;
  const char * const *categories = NULL;

  g_return_val_if_fail (TVW_IS_MODEL (self), NULL);
  g_return_val_if_fail (GDK_IS_PIXBUF (image), NULL);

  names = tvw_model_get_output_names (self);
  if (!g_strv_contains ((const char * const *) names, "boxes") ||
      !g_strv_contains ((const char * const *) names, "labels") ||
      !g_strv_contains ((const char * const *) names, "scores"))
    {
      g_set_error (error, TVW_ERROR, TVW_ERROR_INVALID_ARGUMENT,
                   "%s is not a detection model (it has no boxes, labels and scores)",
                   self->architecture);
      return NULL;
    }

  if (self->weights != NULL)
    {
      categories = tvw_weights_get_categories (self->weights);
      keypoint_names = tvw_weights_lookup_meta (self->weights, "keypoint_names");
      if (keypoint_names != NULL && g_variant_is_of_type (keypoint_names, G_VARIANT_TYPE_STRING_ARRAY))
        names_of_keypoints = g_variant_get_strv (keypoint_names, NULL);
    }

  batch = image_batch (self, image, TVW_PRESET_OBJECT_DETECTION, error);
  if (batch == NULL)
    return NULL;
  outputs = tvw_model_forward_outputs (self, batch, cancellable, error);
  if (outputs == NULL)
    return NULL;

  boxes = output_named (outputs, (const char * const *) names, "boxes");
  labels = output_named (outputs, (const char * const *) names, "labels");
  scores = output_named (outputs, (const char * const *) names, "scores");
  masks = output_named (outputs, (const char * const *) names, "masks");
  keypoints = output_named (outputs, (const char * const *) names, "keypoints");
  keypoints_scores = output_named (outputs, (const char * const *) names, "keypoints_scores");

  return tvw_detection_new_from_tensors ((guint) gdk_pixbuf_get_width (image),
                                         (guint) gdk_pixbuf_get_height (image),
                                         boxes, labels, scores, masks, keypoints,
                                         keypoints_scores, categories, names_of_keypoints,
                                         error);
}

/**
 * tvw_model_detect_async:
 * @self: an object detection, instance segmentation or keypoint model
 * @image: an 8-bit RGB or RGBA image
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the detection is ready
 * @user_data: data for @callback
 *
 * Finds the objects in @image in a worker thread.  See
 * [method@Model.detect].
 */
void
tvw_model_detect_async (TvwModel            *self,
                        GdkPixbuf           *image,
                        GCancellable        *cancellable,
                        GAsyncReadyCallback  callback,
                        gpointer             user_data)
{
  g_return_if_fail (TVW_IS_MODEL (self));
  g_return_if_fail (GDK_IS_PIXBUF (image));

  run_image_task (self, image, (ImageTaskFunc) tvw_model_detect, tvw_model_detect_async,
                  cancellable, callback, user_data);
}

/**
 * tvw_model_detect_finish:
 * @self: a model
 * @result: the result passed to the callback
 * @error: return location for an error
 *
 * Returns: (transfer full): the detection, or %NULL on error
 */
TvwDetection *
tvw_model_detect_finish (TvwModel      *self,
                         GAsyncResult  *result,
                         GError       **error)
{
  g_return_val_if_fail (TVW_IS_MODEL (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == tvw_model_detect_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}
