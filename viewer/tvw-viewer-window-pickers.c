/* tvw-viewer-window-pickers.c — the model and weights pickers
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Two GtkDropDowns over the library's list models: the models (sorted,
 * those that run first) and the chosen model's weights entries.
 */

#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include <tvw.h>

#include "tvw-viewer-util.h"
#include "tvw-viewer-window-private.h"

/* The fewest characters of a name the pickers' buttons show: the sidebar
 * keeps one width whatever the names. */
#define BUTTON_MIN_CHARS 10

/* An item's second line: why it cannot run (dimmed), else @text. */
static void
show_subtitle (GtkWidget  *box,
               GtkWidget  *subtitle,
               const char *reason,
               const char *text)
{
  gtk_label_set_label (GTK_LABEL (subtitle), reason != NULL ? reason : text != NULL ? text : "");
  if (reason != NULL)
    gtk_widget_add_css_class (box, "unrunnable");
  else
    gtk_widget_remove_css_class (box, "unrunnable");
}

static void
enum_setup_cb (GtkSignalListItemFactory *factory,
               GtkListItem              *item,
               gpointer                  user_data)
{
  gboolean in_list = GPOINTER_TO_INT (user_data);
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 2);
  GtkWidget *title = gtk_label_new (NULL);
  GtkWidget *subtitle = gtk_label_new (NULL);

  gtk_label_set_xalign (GTK_LABEL (title), 0.0f);
  gtk_label_set_ellipsize (GTK_LABEL (title), PANGO_ELLIPSIZE_END);
  gtk_label_set_xalign (GTK_LABEL (subtitle), 0.0f);
  gtk_label_set_ellipsize (GTK_LABEL (subtitle), PANGO_ELLIPSIZE_END);
  gtk_widget_add_css_class (subtitle, "caption");
  gtk_widget_add_css_class (subtitle, "dim-label");
  gtk_widget_set_visible (subtitle, in_list);
  if (!in_list)
    {
      gtk_label_set_max_width_chars (GTK_LABEL (title), 18);
      gtk_widget_set_valign (box, GTK_ALIGN_CENTER);
    }
  else
    gtk_label_set_width_chars (GTK_LABEL (title), 26);
  gtk_box_append (GTK_BOX (box), title);
  gtk_box_append (GTK_BOX (box), subtitle);
  gtk_list_item_set_child (item, box);
}

static void
enum_bind_cb (GtkSignalListItemFactory *factory,
              GtkListItem              *item,
              gpointer                  user_data)
{
  TvwWeightsEnum *weights_enum = gtk_list_item_get_item (item);
  GtkWidget *box = gtk_list_item_get_child (item);
  GtkWidget *title = gtk_widget_get_first_child (box);
  GtkWidget *subtitle = gtk_widget_get_next_sibling (title);
  TvwWeights *def = tvw_weights_enum_get_default (weights_enum);
  guint n = g_list_model_get_n_items (G_LIST_MODEL (weights_enum));
  const char *reason = NULL;
  g_autofree char *count = NULL;
  g_autofree char *name = NULL;

  if (def == NULL && n > 0)
    {
      g_autoptr(TvwWeights) first = g_list_model_get_item (G_LIST_MODEL (weights_enum), 0);

      reason = tvw_viewer_weights_get_unrunnable_reason (first);
    }
  else if (def != NULL)
    reason = tvw_viewer_weights_get_unrunnable_reason (def);

  name = tvw_viewer_weights_enum_get_display_name (weights_enum);
  gtk_label_set_label (GTK_LABEL (title), name);
  /* In the button: short names whole; long ones whole when there is room
   * (natural width) but never making the sidebar wider (minimum width). */
  if (!gtk_widget_get_visible (subtitle))
    gtk_label_set_width_chars (GTK_LABEL (title), MIN ((int) g_utf8_strlen (name, -1), BUTTON_MIN_CHARS));

  if (reason == NULL)
    /* Translators: a builder and how many sets of weights it has, e.g. “resnet50 · 2 sets of weights” */
    count = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%s · %u set of weights", "%s · %u sets of weights", n),
                             tvw_weights_enum_get_builder (weights_enum), n);
  show_subtitle (box, subtitle, reason, count);
}

/* What the model picker's search matches (GtkDropDown matches prefixes):
 * the builder's name, then the readable one. */
static char *
enum_search_text (TvwWeightsEnum *weights_enum)
{
  g_autofree char *name = tvw_viewer_weights_enum_get_display_name (weights_enum);

  return g_strconcat (tvw_weights_enum_get_builder (weights_enum), " ", name, NULL);
}

static int
compare_enums_cb (gconstpointer a,
                  gconstpointer b,
                  gpointer      user_data)
{
  return tvw_viewer_compare_weights_enums ((TvwWeightsEnum *) a, (TvwWeightsEnum *) b);
}

static GtkWidget *
make_tag (const char *text,
          const char *css_class)
{
  GtkWidget *tag = gtk_label_new (text);

  gtk_widget_add_css_class (tag, "tag");
  gtk_widget_add_css_class (tag, css_class);
  gtk_widget_set_valign (tag, GTK_ALIGN_CENTER);

  return tag;
}

static void
weights_setup_cb (GtkSignalListItemFactory *factory,
                  GtkListItem              *item,
                  gpointer                  user_data)
{
  gboolean in_list = GPOINTER_TO_INT (user_data);
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  GtkWidget *texts = gtk_box_new (GTK_ORIENTATION_VERTICAL, 2);
  GtkWidget *title = gtk_label_new (NULL);
  GtkWidget *subtitle = gtk_label_new (NULL);
  GtkWidget *default_tag = make_tag (_("Default"), "default");
  GtkWidget *offline_tag = make_tag (_("Offline"), "offline");

  gtk_label_set_xalign (GTK_LABEL (title), 0.0f);
  /* The whole name in the list; the button ends it with “…” when long. */
  if (in_list)
    {
      gtk_label_set_wrap (GTK_LABEL (title), TRUE);
      gtk_label_set_wrap_mode (GTK_LABEL (title), PANGO_WRAP_WORD_CHAR);
    }
  else
    gtk_label_set_ellipsize (GTK_LABEL (title), PANGO_ELLIPSIZE_END);
  gtk_label_set_xalign (GTK_LABEL (subtitle), 0.0f);
  gtk_label_set_ellipsize (GTK_LABEL (subtitle), PANGO_ELLIPSIZE_END);
  gtk_widget_add_css_class (subtitle, "caption");
  gtk_widget_add_css_class (subtitle, "dim-label");
  gtk_widget_set_visible (subtitle, in_list);
  gtk_widget_set_hexpand (texts, TRUE);
  gtk_widget_set_valign (texts, GTK_ALIGN_CENTER);
  if (!in_list)
    gtk_label_set_max_width_chars (GTK_LABEL (title), 18);
  else
    gtk_label_set_width_chars (GTK_LABEL (title), 24);

  gtk_widget_set_tooltip_text (offline_tag, _("Works offline: the checkpoint is on this computer"));
  gtk_widget_set_tooltip_text (default_tag, _("DEFAULT stands for this entry"));

  gtk_box_append (GTK_BOX (texts), title);
  gtk_box_append (GTK_BOX (texts), subtitle);
  gtk_box_append (GTK_BOX (box), texts);
  gtk_box_append (GTK_BOX (box), default_tag);
  gtk_box_append (GTK_BOX (box), offline_tag);
  if (in_list)
    g_object_set_data (G_OBJECT (box), "in-list", GINT_TO_POINTER (TRUE));
  gtk_list_item_set_child (item, box);
}

static void
weights_bind_cb (GtkSignalListItemFactory *factory,
                 GtkListItem              *item,
                 gpointer                  user_data)
{
  TvwWeights *weights = gtk_list_item_get_item (item);
  GtkWidget *box = gtk_list_item_get_child (item);
  GtkWidget *texts = gtk_widget_get_first_child (box);
  GtkWidget *title = gtk_widget_get_first_child (texts);
  GtkWidget *subtitle = gtk_widget_get_next_sibling (title);
  GtkWidget *default_tag = gtk_widget_get_next_sibling (texts);
  GtkWidget *offline_tag = gtk_widget_get_next_sibling (default_tag);
  const char *reason = tvw_viewer_weights_get_unrunnable_reason (weights);
  g_autofree char *accuracy = NULL;

  gtk_label_set_label (GTK_LABEL (title), tvw_weights_get_name (weights));
  /* In the button, as in the model's. */
  if (g_object_get_data (G_OBJECT (box), "in-list") == NULL)
    gtk_label_set_width_chars (GTK_LABEL (title), MIN ((int) strlen (tvw_weights_get_name (weights)), BUTTON_MIN_CHARS));
  gtk_widget_set_visible (default_tag, tvw_weights_is_default (weights));
  /* The button is narrow: whether the entry works offline shows in the
   * status row under it, and in the list. */
  gtk_widget_set_visible (offline_tag, g_object_get_data (G_OBJECT (box), "in-list") != NULL &&
                                       reason == NULL && tvw_viewer_weights_is_offline (weights));

  if (reason == NULL)
    accuracy = tvw_viewer_weights_describe_accuracy (weights);
  show_subtitle (box, subtitle, reason, accuracy);
}

static void
show_weights_enum (TvwViewerWindow *self,
                   TvwWeightsEnum  *weights_enum)
{
  if (!g_set_object (&self->weights_enum, weights_enum))
    return;

  gtk_drop_down_set_model (self->weights_dropdown, G_LIST_MODEL (weights_enum));
}

static void
model_selected_cb (TvwViewerWindow *self)
{
  TvwWeightsEnum *weights_enum = gtk_drop_down_get_selected_item (self->model_dropdown);
  g_autoptr(TvwWeights) first = NULL;
  TvwWeights *weights;

  if (self->syncing_pickers || weights_enum == NULL || weights_enum == self->weights_enum)
    return;

  self->syncing_pickers = TRUE;
  show_weights_enum (self, weights_enum);
  weights = tvw_weights_enum_get_default (weights_enum);
  if (weights == NULL && g_list_model_get_n_items (G_LIST_MODEL (weights_enum)) > 0)
    weights = first = g_list_model_get_item (G_LIST_MODEL (weights_enum), 0);
  gtk_drop_down_set_selected (self->weights_dropdown,
                              weights != NULL ? tvw_viewer_list_model_find (G_LIST_MODEL (weights_enum), weights) : 0);
  self->syncing_pickers = FALSE;

  _tvw_viewer_window_select_weights (self, weights);
}

static void
weights_selected_cb (TvwViewerWindow *self)
{
  TvwWeights *weights = gtk_drop_down_get_selected_item (self->weights_dropdown);

  if (self->syncing_pickers || weights == NULL)
    return;

  _tvw_viewer_window_select_weights (self, weights);
}

/* Shows @weights in the pickers without reacting to it. */
void
_tvw_viewer_window_sync_pickers (TvwViewerWindow *self)
{
  TvwWeightsEnum *weights_enum;

  if (self->weights == NULL)
    return;

  weights_enum = tvw_weights_get_enum (self->weights);

  self->syncing_pickers = TRUE;
  gtk_drop_down_set_selected (self->model_dropdown,
                              tvw_viewer_list_model_find (G_LIST_MODEL (self->sorted_enums), weights_enum));
  show_weights_enum (self, weights_enum);
  gtk_drop_down_set_selected (self->weights_dropdown,
                              tvw_viewer_list_model_find (G_LIST_MODEL (weights_enum), self->weights));
  self->syncing_pickers = FALSE;
}

void
_tvw_viewer_window_pickers_init (TvwViewerWindow *self)
{
  g_autoptr(GtkListItemFactory) factory = NULL;
  g_autoptr(GtkListItemFactory) list_factory = NULL;

  /* The model picker: every torchvision builder, searchable by name. */
  factory = gtk_signal_list_item_factory_new ();
  g_signal_connect (factory, "setup", G_CALLBACK (enum_setup_cb), GINT_TO_POINTER (FALSE));
  g_signal_connect (factory, "bind", G_CALLBACK (enum_bind_cb), NULL);
  list_factory = gtk_signal_list_item_factory_new ();
  g_signal_connect (list_factory, "setup", G_CALLBACK (enum_setup_cb), GINT_TO_POINTER (TRUE));
  g_signal_connect (list_factory, "bind", G_CALLBACK (enum_bind_cb), NULL);
  gtk_drop_down_set_factory (self->model_dropdown, factory);
  gtk_drop_down_set_list_factory (self->model_dropdown, list_factory);
  gtk_drop_down_set_expression (self->model_dropdown,
                                gtk_cclosure_expression_new (G_TYPE_STRING, NULL, 0, NULL,
                                                             G_CALLBACK (enum_search_text), NULL, NULL));
  self->sorted_enums = gtk_sort_list_model_new (g_object_ref (tvw_get_weights_enums ()),
                                                GTK_SORTER (gtk_custom_sorter_new (compare_enums_cb, NULL, NULL)));
  gtk_drop_down_set_model (self->model_dropdown, G_LIST_MODEL (self->sorted_enums));
  g_signal_connect_object (self->model_dropdown, "notify::selected",
                           G_CALLBACK (model_selected_cb), self, G_CONNECT_SWAPPED);
  g_clear_object (&factory);
  g_clear_object (&list_factory);

  /* The weights picker: the chosen model's TvwWeightsEnum. */
  factory = gtk_signal_list_item_factory_new ();
  g_signal_connect (factory, "setup", G_CALLBACK (weights_setup_cb), GINT_TO_POINTER (FALSE));
  g_signal_connect (factory, "bind", G_CALLBACK (weights_bind_cb), NULL);
  list_factory = gtk_signal_list_item_factory_new ();
  g_signal_connect (list_factory, "setup", G_CALLBACK (weights_setup_cb), GINT_TO_POINTER (TRUE));
  g_signal_connect (list_factory, "bind", G_CALLBACK (weights_bind_cb), NULL);
  gtk_drop_down_set_factory (self->weights_dropdown, factory);
  gtk_drop_down_set_list_factory (self->weights_dropdown, list_factory);
  gtk_drop_down_set_expression (self->weights_dropdown,
                                gtk_property_expression_new (TVW_TYPE_WEIGHTS, NULL, "name"));
  g_signal_connect_object (self->weights_dropdown, "notify::selected",
                           G_CALLBACK (weights_selected_cb), self, G_CONNECT_SWAPPED);
}
