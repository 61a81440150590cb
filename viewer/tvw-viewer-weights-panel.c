/* tvw-viewer-weights-panel.c — a weights entry's meta, readable at a glance
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "tvw-viewer-util.h"
#include "tvw-viewer-weights-panel.h"

struct _TvwViewerWeightsPanel
{
  AdwBin                parent_instance;

  TvwWeights           *weights;
  GPtrArray            *accuracy_rows;
  GtkStringList        *categories;
  GtkFilterListModel   *categories_filtered;
  GtkStringFilter      *categories_filter;

  AdwPreferencesGroup  *accuracy_group;
  AdwPreferencesGroup  *details_group;
  AdwExpanderRow       *categories_row;
  GtkSearchEntry       *categories_search;
  GtkListView          *categories_view;
  GtkWidget            *categories_empty;
  AdwActionRow         *params_row;
  AdwActionRow         *ops_row;
  AdwActionRow         *size_row;
  AdwActionRow         *min_size_row;
  AdwActionRow         *recipe_row;
  GtkWidget            *recipe_icon;
  AdwActionRow         *license_row;
  GtkWidget            *license_icon;
  AdwPreferencesGroup  *preprocessing_group;
  AdwActionRow         *resize_row;
  AdwActionRow         *crop_row;
  AdwActionRow         *mean_row;
  AdwActionRow         *std_row;
  AdwPreferencesGroup  *docs_group;
  GtkLabel             *docs_label;
  AdwPreferencesGroup  *checkpoint_group;
  AdwActionRow         *cache_row;
  GtkImage             *cache_icon;
  AdwActionRow         *source_row;
  AdwActionRow         *unquantized_row;
};

G_DEFINE_FINAL_TYPE (TvwViewerWeightsPanel, tvw_viewer_weights_panel, ADW_TYPE_BIN)

enum {
  PROP_0,
  PROP_WEIGHTS,
  N_PROPS
};

static GParamSpec *props[N_PROPS];

/* Rows that show one value show it on the right, like GNOME Settings. */
static void
set_value (AdwActionRow *row,
           const char   *value)
{
  GtkLabel *label = g_object_get_data (G_OBJECT (row), "value-label");

  gtk_widget_set_visible (GTK_WIDGET (row), value != NULL);
  if (value == NULL)
    return;

  if (label == NULL)
    {
      label = GTK_LABEL (gtk_label_new (NULL));
      gtk_label_set_xalign (label, 1.0f);
      gtk_label_set_ellipsize (label, PANGO_ELLIPSIZE_END);
      /* Not selectable: that would make every row two Tab stops. */
      gtk_widget_add_css_class (GTK_WIDGET (label), "dim-label");
      gtk_widget_add_css_class (GTK_WIDGET (label), "value");
      adw_action_row_add_suffix (row, GTK_WIDGET (label));
      g_object_set_data (G_OBJECT (row), "value-label", label);
    }

  gtk_label_set_label (label, value);
}

static void
take_value (AdwActionRow *row,
            char         *value)
{
  set_value (row, value);
  g_free (value);
}

static void
set_link (AdwActionRow *row,
          const char   *url)
{
  gboolean is_link = url != NULL && (g_str_has_prefix (url, "https://") || g_str_has_prefix (url, "http://"));

  /* A path in libtvw's source tree means nothing to users. */
  gtk_widget_set_visible (GTK_WIDGET (row), is_link);
  adw_action_row_set_subtitle (row, is_link ? url : "");
  gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (row), is_link);
  gtk_widget_set_focusable (GTK_WIDGET (row), is_link);
  g_object_set_data_full (G_OBJECT (row), "uri", is_link ? g_strdup (url) : NULL, g_free);
  gtk_widget_set_tooltip_text (GTK_WIDGET (row), is_link ? _("Open in the web browser") : NULL);
}

static void
link_row_activated_cb (AdwActionRow *row)
{
  const char *uri = g_object_get_data (G_OBJECT (row), "uri");
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (row));

  if (uri != NULL)
    gtk_show_uri (GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL, uri, GDK_CURRENT_TIME);
}

static void
update_categories_empty (TvwViewerWeightsPanel *self)
{
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->categories_filtered));

  gtk_widget_set_visible (self->categories_empty, n == 0);
  gtk_widget_set_visible (gtk_widget_get_parent (GTK_WIDGET (self->categories_view)), n > 0);
}

static void
categories_search_changed_cb (TvwViewerWeightsPanel *self,
                              GtkSearchEntry        *entry)
{
  gtk_string_filter_set_search (self->categories_filter,
                                gtk_editable_get_text (GTK_EDITABLE (entry)));
  update_categories_empty (self);
}

static void
category_setup_cb (GtkSignalListItemFactory *factory,
                   GtkListItem              *item)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  GtkWidget *index = gtk_label_new (NULL);
  GtkWidget *name = gtk_label_new (NULL);

  gtk_label_set_xalign (GTK_LABEL (index), 1.0f);
  gtk_label_set_width_chars (GTK_LABEL (index), 4);
  gtk_widget_add_css_class (index, "dim-label");
  gtk_widget_add_css_class (index, "numeric");
  gtk_label_set_xalign (GTK_LABEL (name), 0.0f);
  gtk_label_set_ellipsize (GTK_LABEL (name), PANGO_ELLIPSIZE_END);
  gtk_label_set_selectable (GTK_LABEL (name), FALSE);
  gtk_box_append (GTK_BOX (box), index);
  gtk_box_append (GTK_BOX (box), name);
  gtk_list_item_set_child (item, box);
  gtk_list_item_set_activatable (item, FALSE);
}

static void
category_bind_cb (GtkSignalListItemFactory *factory,
                  GtkListItem              *item)
{
  GtkWidget *box = gtk_list_item_get_child (item);
  GtkWidget *index = gtk_widget_get_first_child (box);
  GtkWidget *name = gtk_widget_get_next_sibling (index);
  const char *text = gtk_string_object_get_string (gtk_list_item_get_item (item));
  const char *tab = strchr (text, '\t');
  g_autofree char *number = tab != NULL ? g_strndup (text, tab - text) : g_strdup ("");

  gtk_label_set_label (GTK_LABEL (index), number);
  gtk_label_set_label (GTK_LABEL (name), tab != NULL ? tab + 1 : text);
  gtk_widget_set_tooltip_text (name, tab != NULL ? tab + 1 : text);
}

static void
update_accuracy (TvwViewerWeightsPanel *self)
{
  g_autoptr(GVariant) metrics = NULL;
  GVariantIter iter;
  const char *dataset;
  GVariant *values;

  for (guint i = 0; i < self->accuracy_rows->len; i++)
    adw_preferences_group_remove (self->accuracy_group, g_ptr_array_index (self->accuracy_rows, i));
  g_ptr_array_set_size (self->accuracy_rows, 0);

  metrics = tvw_weights_lookup_meta (self->weights, "_metrics");
  if (metrics == NULL || !g_variant_is_of_type (metrics, G_VARIANT_TYPE_VARDICT))
    {
      gtk_widget_set_visible (GTK_WIDGET (self->accuracy_group), FALSE);
      return;
    }

  g_variant_iter_init (&iter, metrics);
  while (g_variant_iter_next (&iter, "{&sv}", &dataset, &values))
    {
      g_autoptr(GVariant) owned = values;
      g_autoptr(GString) subtitle = g_string_new (NULL);
      g_autofree char *top1 = NULL;
      GtkWidget *row;
      GVariantIter metric_iter;
      const char *metric;
      GVariant *value;

      if (!g_variant_is_of_type (values, G_VARIANT_TYPE_VARDICT))
        continue;

      g_variant_iter_init (&metric_iter, values);
      while (g_variant_iter_next (&metric_iter, "{&sv}", &metric, &value))
        {
          g_autoptr(GVariant) owned_value = value;
          double number;

          if (g_variant_is_of_type (value, G_VARIANT_TYPE_DOUBLE))
            number = g_variant_get_double (value);
          else if (g_variant_is_of_type (value, G_VARIANT_TYPE_INT64))
            number = g_variant_get_int64 (value);
          else
            continue;

          if (g_str_equal (metric, "acc@1"))
            /* Translators: a top-1 accuracy in percent */
            top1 = g_strdup_printf (_("%.2f %%"), number);
          else
            {
              if (subtitle->len > 0)
                g_string_append (subtitle, " · ");
              if (g_str_equal (metric, "acc@5"))
                /* Translators: a top-5 accuracy in percent */
                g_string_append_printf (subtitle, _("Top-5: %.2f %%"), number);
              else
                {
                  g_autofree char *name = tvw_viewer_describe_metric (metric);

                  g_string_append_printf (subtitle, "%s: %.1f", name, number);
                }
            }
        }

      row = adw_action_row_new ();
      /* Text to read, not a control: no Tab stop. */
      gtk_widget_set_focusable (row, FALSE);
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), dataset);
      adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle->str);
      if (top1 != NULL)
        {
          GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
          GtkWidget *number = gtk_label_new (top1);
          GtkWidget *caption = gtk_label_new (_("top-1"));

          gtk_widget_set_valign (box, GTK_ALIGN_CENTER);
          gtk_label_set_xalign (GTK_LABEL (number), 1.0f);
          gtk_label_set_xalign (GTK_LABEL (caption), 1.0f);
          gtk_widget_add_css_class (number, "accuracy");
          gtk_widget_add_css_class (number, "numeric");
          gtk_widget_add_css_class (caption, "caption");
          gtk_widget_add_css_class (caption, "dim-label");
          gtk_box_append (GTK_BOX (box), number);
          gtk_box_append (GTK_BOX (box), caption);
          adw_action_row_add_suffix (ADW_ACTION_ROW (row), box);
        }

      adw_preferences_group_add (self->accuracy_group, row);
      g_ptr_array_add (self->accuracy_rows, row);
    }

  gtk_widget_set_visible (GTK_WIDGET (self->accuracy_group), self->accuracy_rows->len > 0);
}

static void
update_categories (TvwViewerWeightsPanel *self)
{
  const char * const *categories = tvw_weights_get_categories (self->weights);
  guint n = categories != NULL ? g_strv_length ((char **) categories) : 0;
  g_autoptr(GPtrArray) items = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *subtitle = NULL;

  for (guint i = 0; i < n; i++)
    g_ptr_array_add (items, g_strdup_printf ("%u\t%s", i, categories[i]));
  g_ptr_array_add (items, NULL);

  gtk_string_list_splice (self->categories, 0,
                          g_list_model_get_n_items (G_LIST_MODEL (self->categories)),
                          (const char * const *) items->pdata);
  gtk_editable_set_text (GTK_EDITABLE (self->categories_search), "");

  /* Translators: the number of categories of a weights entry */
  subtitle = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u class", "%u classes", n), n);
  adw_expander_row_set_subtitle (self->categories_row, subtitle);
  adw_expander_row_set_expanded (self->categories_row, FALSE);
  gtk_widget_set_visible (GTK_WIDGET (self->categories_row), n > 0);
  update_categories_empty (self);
}

static const char *
interpolation_name (TvwInterpolation interpolation)
{
  switch (interpolation)
    {
    case TVW_INTERPOLATION_NEAREST:
      return _("nearest");
    case TVW_INTERPOLATION_BILINEAR:
      return _("bilinear");
    case TVW_INTERPOLATION_BICUBIC:
      return _("bicubic");
    default:
      return "?";
    }
}

static void
update_preprocessing (TvwViewerWeightsPanel *self)
{
  g_autoptr(TvwTransform) transform = tvw_weights_transforms (self->weights);
  int first = 0, second = 0, height = 0, width = 0;
  const double *values;
  guint n_values;
  guint n;

  if (transform == NULL)
    {
      gtk_widget_set_visible (GTK_WIDGET (self->preprocessing_group), FALSE);
      return;
    }
  gtk_widget_set_visible (GTK_WIDGET (self->preprocessing_group), TRUE);

  n = tvw_transform_get_resize_size (transform, &first, &second);
  if (n == 1)
    /* Translators: resizing the shorter side of an image, e.g. “Shorter side to 232 px, bilinear” */
    take_value (self->resize_row, g_strdup_printf (_("Shorter side to %d px, %s"), first,
                                                   interpolation_name (tvw_transform_get_interpolation (transform))));
  else if (n == 2)
    /* Translators: resizing to a height and width, e.g. “520 × 520 px, bilinear” */
    take_value (self->resize_row, g_strdup_printf (_("%d × %d px, %s"), first, second,
                                                   interpolation_name (tvw_transform_get_interpolation (transform))));
  else
    set_value (self->resize_row, NULL);

  n = tvw_transform_get_crop_size (transform, &height, &width);
  if (n > 0)
    /* Translators: a size in pixels, e.g. “224 × 224 px” */
    take_value (self->crop_row, g_strdup_printf (_("%d × %d px"), height, width));
  else
    set_value (self->crop_row, NULL);

  values = tvw_transform_get_mean (transform, &n_values);
  take_value (self->mean_row, values != NULL && n_values > 0 ? tvw_viewer_format_doubles (values, n_values) : NULL);
  values = tvw_transform_get_std (transform, &n_values);
  take_value (self->std_row, values != NULL && n_values > 0 ? tvw_viewer_format_doubles (values, n_values) : NULL);

  /* Detection presets only convert to floats: no group of empty rows. */
  gtk_widget_set_visible (GTK_WIDGET (self->preprocessing_group),
                          gtk_widget_get_visible (GTK_WIDGET (self->resize_row)) ||
                          gtk_widget_get_visible (GTK_WIDGET (self->crop_row)) ||
                          gtk_widget_get_visible (GTK_WIDGET (self->mean_row)) ||
                          gtk_widget_get_visible (GTK_WIDGET (self->std_row)));
}

static void
update_details (TvwViewerWeightsPanel *self)
{
  g_autoptr(GVariant) num_params = tvw_weights_lookup_meta (self->weights, "num_params");
  g_autoptr(GVariant) ops = tvw_weights_lookup_meta (self->weights, "_ops");
  g_autoptr(GVariant) min_size = tvw_weights_lookup_meta (self->weights, "min_size");
  g_autoptr(GVariant) recipe = tvw_weights_lookup_meta (self->weights, "recipe");
  g_autoptr(GVariant) license = tvw_weights_lookup_meta (self->weights, "license");
  g_autoptr(GVariant) docs = tvw_weights_lookup_meta (self->weights, "_docs");
  g_autoptr(GVariant) unquantized = tvw_weights_lookup_meta (self->weights, "unquantized");

  if (num_params != NULL && g_variant_is_of_type (num_params, G_VARIANT_TYPE_INT64))
    {
      gint64 count = g_variant_get_int64 (num_params);
      g_autofree char *exact = g_strdup_printf ("%'" G_GINT64_FORMAT, count);

      take_value (self->params_row, tvw_viewer_format_count (count));
      gtk_widget_set_tooltip_text (GTK_WIDGET (self->params_row), exact);
    }
  else
    set_value (self->params_row, NULL);

  if (ops != NULL && g_variant_is_of_type (ops, G_VARIANT_TYPE_DOUBLE))
    /* Translators: billions of floating-point operations (a count, not a rate), torchvision's _ops */
    take_value (self->ops_row, g_strdup_printf (_("%.3g GFLOPs"), g_variant_get_double (ops)));
  else
    set_value (self->ops_row, NULL);

  if (min_size != NULL && g_variant_is_of_type (min_size, G_VARIANT_TYPE ("(xx)")))
    {
      gint64 h, w;

      g_variant_get (min_size, "(xx)", &h, &w);
      take_value (self->min_size_row,
                  g_strdup_printf (_("%d × %d px"), (int) h, (int) w));
    }
  else
    set_value (self->min_size_row, NULL);

  set_link (self->recipe_row,
            recipe != NULL && g_variant_is_of_type (recipe, G_VARIANT_TYPE_STRING)
              ? g_variant_get_string (recipe, NULL) : NULL);
  set_link (self->license_row,
            license != NULL && g_variant_is_of_type (license, G_VARIANT_TYPE_STRING)
              ? g_variant_get_string (license, NULL) : NULL);
  gtk_widget_set_visible (self->recipe_icon,
                          gtk_list_box_row_get_activatable (GTK_LIST_BOX_ROW (self->recipe_row)));
  gtk_widget_set_visible (self->license_icon,
                          gtk_list_box_row_get_activatable (GTK_LIST_BOX_ROW (self->license_row)));

  /* Quantized weights' docs speak of “the unquantized weights listed
   * below”: list them, as a row that chooses them. */
  if (unquantized != NULL && g_variant_is_of_type (unquantized, G_VARIANT_TYPE_STRING) &&
      tvw_get_weight (g_variant_get_string (unquantized, NULL), NULL) != NULL)
    {
      adw_action_row_set_subtitle (self->unquantized_row, g_variant_get_string (unquantized, NULL));
      gtk_actionable_set_action_target_value (GTK_ACTIONABLE (self->unquantized_row), unquantized);
      gtk_actionable_set_action_name (GTK_ACTIONABLE (self->unquantized_row), "win.choose-weights");
      gtk_widget_set_visible (GTK_WIDGET (self->unquantized_row), TRUE);
    }
  else
    gtk_widget_set_visible (GTK_WIDGET (self->unquantized_row), FALSE);

  if (docs != NULL && g_variant_is_of_type (docs, G_VARIANT_TYPE_STRING))
    {
      g_autofree char *markup = tvw_viewer_rst_to_markup (g_variant_get_string (docs, NULL));

      gtk_label_set_markup (self->docs_label, markup);
      gtk_widget_set_visible (GTK_WIDGET (self->docs_group), markup != NULL && *markup != '\0');
    }
  else
    gtk_widget_set_visible (GTK_WIDGET (self->docs_group), FALSE);
}

/* The size of the checkpoint: the catalog's, else the file's on disk. */
static char *
describe_file_size (TvwWeights *weights,
                    const char *path)
{
  g_autoptr(GVariant) file_size = tvw_weights_lookup_meta (weights, "_file_size");
  GStatBuf st;

  if (file_size != NULL && g_variant_is_of_type (file_size, G_VARIANT_TYPE_DOUBLE))
    return tvw_viewer_format_megabytes (g_variant_get_double (file_size));

  if (path != NULL && g_stat (path, &st) == 0)
    return tvw_viewer_format_megabytes (st.st_size / (1024.0 * 1024.0));

  return NULL;
}

void
tvw_viewer_weights_panel_update_cache (TvwViewerWeightsPanel *self)
{
  g_autofree char *path = NULL;
  TvwViewerAvailability availability;
  gboolean verified;
  const char *title;
  const char *icon;
  const char *url;

  g_return_if_fail (TVW_VIEWER_IS_WEIGHTS_PANEL (self));

  if (self->weights == NULL)
    return;

  availability = tvw_viewer_weights_get_availability (self->weights, &path, &verified);
  switch (availability)
    {
    case TVW_VIEWER_AVAILABILITY_LOCAL:
      if (path != NULL && g_str_has_prefix (path, "resource:"))
        {
          title = _("Built into libtvw, always available");
          g_clear_pointer (&path, g_free);
        }
      else
        title = _("Local file");
      icon = "emblem-ok-symbolic";
      break;

    case TVW_VIEWER_AVAILABILITY_CACHED:
      title = verified ? _("Downloaded and verified") : _("Downloaded, checked on first use");
      icon = "emblem-ok-symbolic";
      break;

    case TVW_VIEWER_AVAILABILITY_PARTIAL:
      title = _("Partly downloaded, the download resumes");
      icon = "folder-download-symbolic";
      break;

    case TVW_VIEWER_AVAILABILITY_REMOTE:
    default:
      title = _("Not downloaded");
      icon = "folder-download-symbolic";
      break;
    }

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self->cache_row), title);
  adw_action_row_set_subtitle (self->cache_row, path != NULL ? path : "");
  gtk_image_set_from_icon_name (self->cache_icon, icon);

  url = tvw_weights_get_url (self->weights);
  gtk_widget_set_visible (GTK_WIDGET (self->source_row), url != NULL);
  adw_action_row_set_subtitle (self->source_row, url != NULL ? url : "");

  take_value (self->size_row, describe_file_size (self->weights, path));
}

static void
tvw_viewer_weights_panel_dispose (GObject *object)
{
  TvwViewerWeightsPanel *self = (TvwViewerWeightsPanel *)object;

  gtk_widget_dispose_template (GTK_WIDGET (self), TVW_VIEWER_TYPE_WEIGHTS_PANEL);
  g_clear_object (&self->weights);

  G_OBJECT_CLASS (tvw_viewer_weights_panel_parent_class)->dispose (object);
}

static void
tvw_viewer_weights_panel_finalize (GObject *object)
{
  TvwViewerWeightsPanel *self = (TvwViewerWeightsPanel *)object;

  g_clear_pointer (&self->accuracy_rows, g_ptr_array_unref);
  g_clear_object (&self->categories_filtered);

  G_OBJECT_CLASS (tvw_viewer_weights_panel_parent_class)->finalize (object);
}

static void
tvw_viewer_weights_panel_get_property (GObject    *object,
                                       guint       prop_id,
                                       GValue     *value,
                                       GParamSpec *pspec)
{
  TvwViewerWeightsPanel *self = TVW_VIEWER_WEIGHTS_PANEL (object);

  switch (prop_id)
    {
    case PROP_WEIGHTS:
      g_value_set_object (value, self->weights);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
tvw_viewer_weights_panel_set_property (GObject      *object,
                                       guint         prop_id,
                                       const GValue *value,
                                       GParamSpec   *pspec)
{
  TvwViewerWeightsPanel *self = TVW_VIEWER_WEIGHTS_PANEL (object);

  switch (prop_id)
    {
    case PROP_WEIGHTS:
      tvw_viewer_weights_panel_set_weights (self, g_value_get_object (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
tvw_viewer_weights_panel_class_init (TvwViewerWeightsPanelClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = tvw_viewer_weights_panel_dispose;
  object_class->finalize = tvw_viewer_weights_panel_finalize;
  object_class->get_property = tvw_viewer_weights_panel_get_property;
  object_class->set_property = tvw_viewer_weights_panel_set_property;

  props[PROP_WEIGHTS] =
    g_param_spec_object ("weights", NULL, NULL,
                         TVW_TYPE_WEIGHTS,
                         G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  g_object_class_install_properties (object_class, N_PROPS, props);

  gtk_widget_class_set_template_from_resource (widget_class, "/org/gnome/Tvw/Viewer/tvw-viewer-weights-panel.ui");
  gtk_widget_class_bind_template_child (widget_class, TvwViewerWeightsPanel, accuracy_group);
  gtk_widget_class_bind_template_child (widget_class, TvwViewerWeightsPanel, details_group);
  gtk_widget_class_bind_template_child (widget_class, TvwViewerWeightsPanel, categories_row);
  gtk_widget_class_bind_template_child (widget_class, TvwViewerWeightsPanel, categories_search);
  gtk_widget_class_bind_template_child (widget_class, TvwViewerWeightsPanel, categories_view);
  gtk_widget_class_bind_template_child (widget_class, TvwViewerWeightsPanel, categories_empty);
  gtk_widget_class_bind_template_child (widget_class, TvwViewerWeightsPanel, params_row);
  gtk_widget_class_bind_template_child (widget_class, TvwViewerWeightsPanel, ops_row);
  gtk_widget_class_bind_template_child (widget_class, TvwViewerWeightsPanel, size_row);
  gtk_widget_class_bind_template_child (widget_class, TvwViewerWeightsPanel, min_size_row);
  gtk_widget_class_bind_template_child (widget_class, TvwViewerWeightsPanel, recipe_row);
  gtk_widget_class_bind_template_child (widget_class, TvwViewerWeightsPanel, recipe_icon);
  gtk_widget_class_bind_template_child (widget_class, TvwViewerWeightsPanel, license_row);
  gtk_widget_class_bind_template_child (widget_class, TvwViewerWeightsPanel, license_icon);
  gtk_widget_class_bind_template_child (widget_class, TvwViewerWeightsPanel, preprocessing_group);
  gtk_widget_class_bind_template_child (widget_class, TvwViewerWeightsPanel, resize_row);
  gtk_widget_class_bind_template_child (widget_class, TvwViewerWeightsPanel, crop_row);
  gtk_widget_class_bind_template_child (widget_class, TvwViewerWeightsPanel, mean_row);
  gtk_widget_class_bind_template_child (widget_class, TvwViewerWeightsPanel, std_row);
  gtk_widget_class_bind_template_child (widget_class, TvwViewerWeightsPanel, docs_group);
  gtk_widget_class_bind_template_child (widget_class, TvwViewerWeightsPanel, docs_label);
  gtk_widget_class_bind_template_child (widget_class, TvwViewerWeightsPanel, checkpoint_group);
  gtk_widget_class_bind_template_child (widget_class, TvwViewerWeightsPanel, cache_row);
  gtk_widget_class_bind_template_child (widget_class, TvwViewerWeightsPanel, cache_icon);
  gtk_widget_class_bind_template_child (widget_class, TvwViewerWeightsPanel, source_row);
  gtk_widget_class_bind_template_child (widget_class, TvwViewerWeightsPanel, unquantized_row);
  gtk_widget_class_bind_template_callback (widget_class, categories_search_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, link_row_activated_cb);
}

static void
tvw_viewer_weights_panel_init (TvwViewerWeightsPanel *self)
{
  g_autoptr(GtkListItemFactory) factory = NULL;
  g_autoptr(GtkNoSelection) selection = NULL;
  GtkExpression *expression;

  gtk_widget_init_template (GTK_WIDGET (self));

  self->accuracy_rows = g_ptr_array_new ();

  self->categories = gtk_string_list_new (NULL);
  expression = gtk_property_expression_new (GTK_TYPE_STRING_OBJECT, NULL, "string");
  self->categories_filter = gtk_string_filter_new (expression);
  gtk_string_filter_set_match_mode (self->categories_filter, GTK_STRING_FILTER_MATCH_MODE_SUBSTRING);
  gtk_string_filter_set_ignore_case (self->categories_filter, TRUE);
  self->categories_filtered = gtk_filter_list_model_new (G_LIST_MODEL (self->categories),
                                                         GTK_FILTER (self->categories_filter));

  factory = gtk_signal_list_item_factory_new ();
  g_signal_connect (factory, "setup", G_CALLBACK (category_setup_cb), NULL);
  g_signal_connect (factory, "bind", G_CALLBACK (category_bind_cb), NULL);
  gtk_list_view_set_factory (self->categories_view, factory);
  selection = gtk_no_selection_new (g_object_ref (G_LIST_MODEL (self->categories_filtered)));
  gtk_list_view_set_model (self->categories_view, GTK_SELECTION_MODEL (selection));
}

void
tvw_viewer_weights_panel_set_weights (TvwViewerWeightsPanel *self,
                                      TvwWeights            *weights)
{
  g_return_if_fail (TVW_VIEWER_IS_WEIGHTS_PANEL (self));
  g_return_if_fail (weights == NULL || TVW_IS_WEIGHTS (weights));

  if (!g_set_object (&self->weights, weights))
    return;

  gtk_widget_set_visible (GTK_WIDGET (self), weights != NULL);
  if (weights != NULL)
    {
      update_accuracy (self);
      update_categories (self);
      update_details (self);
      update_preprocessing (self);
      tvw_viewer_weights_panel_update_cache (self);
    }

  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_WEIGHTS]);
}
