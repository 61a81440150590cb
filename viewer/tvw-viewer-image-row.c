/* tvw-viewer-image-row.c — how one image looks in the list
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <glib/gi18n.h>

#include "tvw-viewer-image-row.h"
#include "tvw-viewer-detection.h"
#include "tvw-viewer-flow.h"
#include "tvw-viewer-segmentation.h"
#include "tvw-viewer-util.h"

struct _TvwViewerImageRow
{
  AdwBin          parent_instance;

  TvwViewerImage *image;
  gulong          notify_id;

  GtkWidget      *media_box;
  GtkWidget      *remove_button;
  GtkLabel       *source_label;
  gboolean        compact;

  GtkStack       *thumbnail_stack;
  GtkImage       *thumbnail;
  GtkImage       *thumbnail_icon;
  GtkWidget      *crop_box;
  GtkStack       *crop_stack;
  GtkImage       *crop;
  GtkLabel       *title;
  GtkLabel       *details;
  GtkStack       *status_stack;
  GtkSpinner     *spinner;
  GtkLabel       *busy_label;
  GtkWidget      *message_box;
  GtkImage       *message_icon;
  GtkInscription *message_label;
  GtkGrid        *predictions_grid;
  GtkWidget      *segmentation_view;
  GtkWidget      *detection_view;
  GtkWidget      *flow_view;

  GtkLabel       *category_labels[TVW_VIEWER_TOP_K];
  GtkLevelBar    *score_bars[TVW_VIEWER_TOP_K];
  GtkLabel       *score_labels[TVW_VIEWER_TOP_K];
};

G_DEFINE_FINAL_TYPE (TvwViewerImageRow, tvw_viewer_image_row, ADW_TYPE_BIN)

enum {
  PROP_0,
  PROP_IMAGE,
  N_PROPS
};

static GParamSpec *props[N_PROPS];

static void
show_message (TvwViewerImageRow *self,
              const char        *icon_name,
              const char        *css_class,
              const char        *text)
{
  gtk_image_set_from_icon_name (self->message_icon, icon_name);
  gtk_inscription_set_text (self->message_label, text);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->message_label), text);
  gtk_widget_remove_css_class (self->message_box, "error");
  gtk_widget_remove_css_class (self->message_box, "warning");
  gtk_widget_remove_css_class (self->message_box, "dim-label");
  gtk_widget_add_css_class (self->message_box, css_class);
  gtk_stack_set_visible_child_name (self->status_stack, "message");
}

static void
show_busy (TvwViewerImageRow *self,
           const char        *text)
{
  gtk_label_set_label (self->busy_label, text);
  gtk_spinner_set_spinning (self->spinner, TRUE);
  gtk_stack_set_visible_child_name (self->status_stack, "busy");
}

static void
show_predictions (TvwViewerImageRow *self,
                  GListModel        *predictions)
{
  guint n = predictions != NULL ? g_list_model_get_n_items (predictions) : 0;
  g_autofree char *source = tvw_viewer_describe_results_source (tvw_viewer_image_get_weights_name (self->image));

  /* Which weights said this, and what they know: results are kept when
   * other weights are chosen, until those can run. */
  gtk_label_set_label (self->source_label, source);
  gtk_widget_set_visible (GTK_WIDGET (self->source_label), source != NULL);

  for (guint i = 0; i < TVW_VIEWER_TOP_K; i++)
    {
      gboolean visible = i < n;

      gtk_widget_set_visible (GTK_WIDGET (self->category_labels[i]), visible);
      gtk_widget_set_visible (GTK_WIDGET (self->score_bars[i]), visible);
      gtk_widget_set_visible (GTK_WIDGET (self->score_labels[i]), visible);

      if (visible)
        {
          g_autoptr(TvwPrediction) p = g_list_model_get_item (predictions, i);
          g_autofree char *fallback = NULL;
          g_autofree char *percent = NULL;
          const char *category = tvw_prediction_get_category (p);
          double score = tvw_prediction_get_score (p);

          if (category == NULL)
            /* Translators: a class that has no name, by its index */
            category = fallback = g_strdup_printf (_("Class %u"), tvw_prediction_get_index (p));

          /* Translators: a probability in percent */
          percent = g_strdup_printf (_("%.1f %%"), 100.0 * score);

          gtk_label_set_label (self->category_labels[i], category);
          gtk_widget_set_tooltip_text (GTK_WIDGET (self->category_labels[i]), category);
          gtk_level_bar_set_value (self->score_bars[i], CLAMP (score, 0.0, 1.0));
          gtk_label_set_label (self->score_labels[i], percent);
          gtk_accessible_update_property (GTK_ACCESSIBLE (self->score_bars[i]),
                                          GTK_ACCESSIBLE_PROPERTY_LABEL, category,
                                          -1);
        }
    }

  gtk_spinner_set_spinning (self->spinner, FALSE);
  gtk_stack_set_visible_child_name (self->status_stack, "predictions");
}

static void
sync_image (TvwViewerImageRow *self)
{
  TvwViewerImage *image = self->image;
  GdkTexture *thumbnail;
  GdkTexture *crop;

  if (self->segmentation_view != NULL &&
      (image == NULL || tvw_viewer_image_get_segmentation (image) == NULL))
    tvw_viewer_segmentation_set_segmentation (TVW_VIEWER_SEGMENTATION (self->segmentation_view),
                                              NULL, NULL);
  if (self->detection_view != NULL &&
      (image == NULL || tvw_viewer_image_get_detection (image) == NULL))
    tvw_viewer_detection_set_detection (TVW_VIEWER_DETECTION (self->detection_view), NULL, NULL, NULL);
  if (self->flow_view != NULL &&
      (image == NULL || tvw_viewer_image_get_flow (image) == NULL))
    tvw_viewer_flow_set_flow (TVW_VIEWER_FLOW (self->flow_view), NULL, NULL, NULL, NULL, NULL);

  if (image == NULL)
    {
      gtk_label_set_label (self->title, NULL);
      gtk_label_set_label (self->details, NULL);
      gtk_image_set_from_paintable (self->thumbnail, NULL);
      gtk_image_set_from_paintable (self->crop, NULL);
      gtk_spinner_set_spinning (self->spinner, FALSE);
      return;
    }

  gtk_label_set_label (self->title, tvw_viewer_image_get_title (image));
  if (tvw_viewer_image_get_file (image) != NULL)
    {
      g_autofree char *parse_name = g_file_get_parse_name (tvw_viewer_image_get_file (image));

      gtk_widget_set_tooltip_text (GTK_WIDGET (self->title), parse_name);
    }
  gtk_label_set_label (self->details, tvw_viewer_image_get_details (image));
  gtk_widget_set_visible (GTK_WIDGET (self->details), tvw_viewer_image_get_details (image) != NULL);

  gtk_accessible_update_property (GTK_ACCESSIBLE (self->thumbnail),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, tvw_viewer_image_get_title (image),
                                  -1);
  {
    /* Translators: the remove button of an image, e.g. “Remove “cat.jpg”” */
    g_autofree char *remove = g_strdup_printf (_("Remove “%s”"), tvw_viewer_image_get_title (image));
    /* Translators: the list of classes of an image, e.g. “Most likely classes of “cat.jpg”” */
    g_autofree char *classes = g_strdup_printf (_("Most likely classes of “%s”"), tvw_viewer_image_get_title (image));

    gtk_widget_set_tooltip_text (self->remove_button, remove);
    gtk_accessible_update_property (GTK_ACCESSIBLE (self->remove_button),
                                    GTK_ACCESSIBLE_PROPERTY_LABEL, remove,
                                    -1);
    gtk_accessible_update_property (GTK_ACCESSIBLE (self->predictions_grid),
                                    GTK_ACCESSIBLE_PROPERTY_LABEL, classes,
                                    -1);
  }

  thumbnail = tvw_viewer_image_get_thumbnail (image);
  gtk_image_set_from_paintable (self->thumbnail, GDK_PAINTABLE (thumbnail));
  if (thumbnail != NULL)
    gtk_stack_set_visible_child_name (self->thumbnail_stack, "picture");
  else
    {
      gtk_image_set_from_icon_name (self->thumbnail_icon,
                                    tvw_viewer_image_get_state (image) == TVW_VIEWER_IMAGE_STATE_FAILED
                                      ? "image-missing-symbolic" : "image-x-generic-symbolic");
      gtk_stack_set_visible_child_name (self->thumbnail_stack, "icon");
    }

  crop = tvw_viewer_image_get_crop (image);
  gtk_image_set_from_paintable (self->crop, GDK_PAINTABLE (crop));
  gtk_stack_set_visible_child_name (self->crop_stack, crop != NULL ? "picture" : "empty");
  /* Optical flow shows both frames and the flow in the results instead. */
  gtk_widget_set_visible (self->crop_box, tvw_viewer_image_is_readable (image) &&
                                          !tvw_viewer_image_is_flow_task (image));

  gtk_widget_remove_css_class (GTK_WIDGET (self), "failed");

  switch (tvw_viewer_image_get_state (image))
    {
    case TVW_VIEWER_IMAGE_STATE_LOADING:
      show_busy (self, _("Reading…"));
      break;

    case TVW_VIEWER_IMAGE_STATE_CLASSIFYING:
      show_busy (self, tvw_viewer_image_is_flow_task (image) ? _("Estimating the motion…") : _("Classifying…"));
      break;

    case TVW_VIEWER_IMAGE_STATE_WAITING:
      gtk_spinner_set_spinning (self->spinner, FALSE);
      /* Dots only while something is under way; otherwise the user has
       * to act, and the card says so. */
      show_message (self,
                    tvw_viewer_image_is_waiting_busy (image) ? "content-loading-symbolic" : "dialog-information-symbolic",
                    "dim-label",
                    tvw_viewer_image_get_message (image) != NULL
                      ? tvw_viewer_image_get_message (image)
                      : _("Waiting for weights that can run"));
      break;

    case TVW_VIEWER_IMAGE_STATE_FAILED:
      gtk_spinner_set_spinning (self->spinner, FALSE);
      gtk_widget_add_css_class (GTK_WIDGET (self), "failed");
      show_message (self, "dialog-error-symbolic", "error", tvw_viewer_image_get_message (image));
      break;

    case TVW_VIEWER_IMAGE_STATE_NOT_CLASSIFIED:
      gtk_spinner_set_spinning (self->spinner, FALSE);
      show_message (self, "dialog-warning-symbolic", "warning", tvw_viewer_image_get_message (image));
      break;

    case TVW_VIEWER_IMAGE_STATE_CLASSIFIED:
      if (tvw_viewer_image_get_segmentation (image) != NULL)
        {
          /* Made the first time: rows of classifiers never pay for it. */
          if (self->segmentation_view == NULL)
            {
              self->segmentation_view = tvw_viewer_segmentation_new ();
              gtk_stack_add_named (self->status_stack, self->segmentation_view, "segmentation");
            }
          tvw_viewer_segmentation_set_segmentation (TVW_VIEWER_SEGMENTATION (self->segmentation_view),
                                                    tvw_viewer_image_get_segmentation (image),
                                                    tvw_viewer_image_get_model_pixbuf (image));
          gtk_spinner_set_spinning (self->spinner, FALSE);
          gtk_stack_set_visible_child_name (self->status_stack, "segmentation");
        }
      else if (tvw_viewer_image_get_flow (image) != NULL)
        {
          if (self->flow_view == NULL)
            {
              self->flow_view = tvw_viewer_flow_new ();
              gtk_stack_add_named (self->status_stack, self->flow_view, "flow");
            }
          tvw_viewer_flow_set_flow (TVW_VIEWER_FLOW (self->flow_view),
                                    tvw_viewer_image_get_flow_first_frame (image),
                                    tvw_viewer_image_get_flow_first_title (image),
                                    tvw_viewer_image_get_title (image),
                                    tvw_viewer_image_get_flow (image),
                                    tvw_viewer_image_get_flow_summary (image));
          gtk_spinner_set_spinning (self->spinner, FALSE);
          gtk_stack_set_visible_child_name (self->status_stack, "flow");
        }
      else if (tvw_viewer_image_get_detection (image) != NULL)
        {
          const char *name = tvw_viewer_image_get_weights_name (image);
          TvwWeights *weights = name != NULL ? tvw_get_weight (name, NULL) : NULL;

          if (self->detection_view == NULL)
            {
              self->detection_view = tvw_viewer_detection_new ();
              gtk_stack_add_named (self->status_stack, self->detection_view, "detection");
            }
          tvw_viewer_detection_set_detection (TVW_VIEWER_DETECTION (self->detection_view),
                                              tvw_viewer_image_get_detection (image),
                                              tvw_viewer_image_get_model_pixbuf (image),
                                              weights != NULL ? tvw_weights_get_categories (weights) : NULL);
          gtk_spinner_set_spinning (self->spinner, FALSE);
          gtk_stack_set_visible_child_name (self->status_stack, "detection");
        }
      else
        show_predictions (self, tvw_viewer_image_get_predictions (image));
      break;

    default:
      g_assert_not_reached ();
    }
}

static void
remove_clicked_cb (TvwViewerImageRow *self)
{
  if (self->image != NULL)
    gtk_widget_activate_action (GTK_WIDGET (self), "win.remove-image", "u",
                                tvw_viewer_image_get_id (self->image));
}

static void
tvw_viewer_image_row_dispose (GObject *object)
{
  TvwViewerImageRow *self = (TvwViewerImageRow *)object;

  tvw_viewer_image_row_set_image (self, NULL);
  gtk_widget_dispose_template (GTK_WIDGET (self), TVW_VIEWER_TYPE_IMAGE_ROW);

  G_OBJECT_CLASS (tvw_viewer_image_row_parent_class)->dispose (object);
}

static void
tvw_viewer_image_row_get_property (GObject    *object,
                                   guint       prop_id,
                                   GValue     *value,
                                   GParamSpec *pspec)
{
  TvwViewerImageRow *self = TVW_VIEWER_IMAGE_ROW (object);

  switch (prop_id)
    {
    case PROP_IMAGE:
      g_value_set_object (value, self->image);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
tvw_viewer_image_row_set_property (GObject      *object,
                                   guint         prop_id,
                                   const GValue *value,
                                   GParamSpec   *pspec)
{
  TvwViewerImageRow *self = TVW_VIEWER_IMAGE_ROW (object);

  switch (prop_id)
    {
    case PROP_IMAGE:
      tvw_viewer_image_row_set_image (self, g_value_get_object (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
tvw_viewer_image_row_class_init (TvwViewerImageRowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = tvw_viewer_image_row_dispose;
  object_class->get_property = tvw_viewer_image_row_get_property;
  object_class->set_property = tvw_viewer_image_row_set_property;

  props[PROP_IMAGE] =
    g_param_spec_object ("image", NULL, NULL,
                         TVW_VIEWER_TYPE_IMAGE,
                         G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  g_object_class_install_properties (object_class, N_PROPS, props);

  gtk_widget_class_set_template_from_resource (widget_class, "/org/gnome/Tvw/Viewer/tvw-viewer-image-row.ui");
  gtk_widget_class_bind_template_child (widget_class, TvwViewerImageRow, media_box);
  gtk_widget_class_bind_template_child (widget_class, TvwViewerImageRow, remove_button);
  gtk_widget_class_bind_template_child (widget_class, TvwViewerImageRow, source_label);
  gtk_widget_class_bind_template_child (widget_class, TvwViewerImageRow, thumbnail_stack);
  gtk_widget_class_bind_template_child (widget_class, TvwViewerImageRow, thumbnail);
  gtk_widget_class_bind_template_child (widget_class, TvwViewerImageRow, thumbnail_icon);
  gtk_widget_class_bind_template_child (widget_class, TvwViewerImageRow, crop_box);
  gtk_widget_class_bind_template_child (widget_class, TvwViewerImageRow, crop_stack);
  gtk_widget_class_bind_template_child (widget_class, TvwViewerImageRow, crop);
  gtk_widget_class_bind_template_child (widget_class, TvwViewerImageRow, title);
  gtk_widget_class_bind_template_child (widget_class, TvwViewerImageRow, details);
  gtk_widget_class_bind_template_child (widget_class, TvwViewerImageRow, status_stack);
  gtk_widget_class_bind_template_child (widget_class, TvwViewerImageRow, spinner);
  gtk_widget_class_bind_template_child (widget_class, TvwViewerImageRow, busy_label);
  gtk_widget_class_bind_template_child (widget_class, TvwViewerImageRow, message_box);
  gtk_widget_class_bind_template_child (widget_class, TvwViewerImageRow, message_icon);
  gtk_widget_class_bind_template_child (widget_class, TvwViewerImageRow, message_label);
  gtk_widget_class_bind_template_child (widget_class, TvwViewerImageRow, predictions_grid);
  gtk_widget_class_bind_template_callback (widget_class, remove_clicked_cb);

  gtk_widget_class_set_css_name (widget_class, "imagerow");
}

static void
tvw_viewer_image_row_init (TvwViewerImageRow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

  for (guint i = 0; i < TVW_VIEWER_TOP_K; i++)
    {
      GtkWidget *category = gtk_label_new (NULL);
      GtkWidget *bar = gtk_level_bar_new_for_interval (0.0, 1.0);
      GtkWidget *score = gtk_label_new (NULL);

      gtk_label_set_xalign (GTK_LABEL (category), 0.0f);
      gtk_label_set_ellipsize (GTK_LABEL (category), PANGO_ELLIPSIZE_END);
      /* The same width in every row, so that the bars line up. */
      gtk_label_set_width_chars (GTK_LABEL (category), 16);
      gtk_label_set_max_width_chars (GTK_LABEL (category), 16);
      gtk_widget_add_css_class (category, "category");

      /* One accent colour for every score, not the traffic lights of the
       * default offsets. */
      gtk_level_bar_remove_offset_value (GTK_LEVEL_BAR (bar), GTK_LEVEL_BAR_OFFSET_LOW);
      gtk_level_bar_remove_offset_value (GTK_LEVEL_BAR (bar), GTK_LEVEL_BAR_OFFSET_HIGH);
      gtk_level_bar_remove_offset_value (GTK_LEVEL_BAR (bar), GTK_LEVEL_BAR_OFFSET_FULL);
      gtk_widget_set_hexpand (bar, TRUE);
      gtk_widget_set_size_request (bar, 60, -1);
      gtk_widget_set_valign (bar, GTK_ALIGN_CENTER);
      gtk_widget_add_css_class (bar, "score");

      gtk_label_set_xalign (GTK_LABEL (score), 1.0f);
      gtk_label_set_width_chars (GTK_LABEL (score), 7);
      gtk_widget_add_css_class (score, "numeric");
      gtk_widget_add_css_class (score, "score-label");

      if (i == 0)
        {
          gtk_widget_add_css_class (category, "top");
          gtk_widget_add_css_class (bar, "top");
          gtk_widget_add_css_class (score, "top");
        }

      gtk_grid_attach (self->predictions_grid, category, 0, i, 1, 1);
      gtk_grid_attach (self->predictions_grid, bar, 1, i, 1, 1);
      gtk_grid_attach (self->predictions_grid, score, 2, i, 1, 1);

      self->category_labels[i] = GTK_LABEL (category);
      self->score_bars[i] = GTK_LEVEL_BAR (bar);
      self->score_labels[i] = GTK_LABEL (score);
    }
}

/* Pictures above the results instead of beside them, for narrow
 * windows. */
void
tvw_viewer_image_row_set_compact (TvwViewerImageRow *self,
                                  gboolean           compact)
{
  g_return_if_fail (TVW_VIEWER_IS_IMAGE_ROW (self));

  compact = !!compact;
  if (self->compact == compact)
    return;

  self->compact = compact;
  /* The card is the AdwBin's child (AdwBin unparents it itself). */
  gtk_orientable_set_orientation (GTK_ORIENTABLE (adw_bin_get_child (ADW_BIN (self))),
                                  compact ? GTK_ORIENTATION_VERTICAL : GTK_ORIENTATION_HORIZONTAL);
  gtk_widget_set_halign (self->media_box, compact ? GTK_ALIGN_CENTER : GTK_ALIGN_FILL);
  gtk_image_set_pixel_size (self->thumbnail, compact ? 96 : 120);
  gtk_widget_set_size_request (GTK_WIDGET (self->thumbnail_icon), compact ? 96 : 120, compact ? 96 : 120);
}

gboolean
tvw_viewer_image_row_get_compact (TvwViewerImageRow *self)
{
  g_return_val_if_fail (TVW_VIEWER_IS_IMAGE_ROW (self), FALSE);

  return self->compact;
}

GtkWidget *
tvw_viewer_image_row_get_remove_button (TvwViewerImageRow *self)
{
  g_return_val_if_fail (TVW_VIEWER_IS_IMAGE_ROW (self), NULL);

  return self->remove_button;
}

GtkWidget *
tvw_viewer_image_row_new (void)
{
  return g_object_new (TVW_VIEWER_TYPE_IMAGE_ROW, NULL);
}

TvwViewerImage *
tvw_viewer_image_row_get_image (TvwViewerImageRow *self)
{
  g_return_val_if_fail (TVW_VIEWER_IS_IMAGE_ROW (self), NULL);

  return self->image;
}

void
tvw_viewer_image_row_set_image (TvwViewerImageRow *self,
                                TvwViewerImage    *image)
{
  g_return_if_fail (TVW_VIEWER_IS_IMAGE_ROW (self));
  g_return_if_fail (image == NULL || TVW_VIEWER_IS_IMAGE (image));

  if (self->image == image)
    return;

  if (self->image != NULL)
    g_clear_signal_handler (&self->notify_id, self->image);
  g_set_object (&self->image, image);
  if (image != NULL)
    self->notify_id = g_signal_connect_object (image, "notify", G_CALLBACK (sync_image),
                                               self, G_CONNECT_SWAPPED);

  sync_image (self);
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_IMAGE]);
}

/* What the row shows, as text: the title, then either the status message,
 * one "category<TAB>percent" line per prediction or detected object, or
 * a segmentation's legend, one "category percent" line per class.  Tests
 * read it. */
/* The segmentation view, shown for segmentation models (%NULL before the
 * row showed a segmentation). */
GtkWidget *
tvw_viewer_image_row_get_segmentation_view (TvwViewerImageRow *self)
{
  g_return_val_if_fail (TVW_VIEWER_IS_IMAGE_ROW (self), NULL);

  return self->segmentation_view;
}

/* The detection view, shown for detection models (%NULL before the row
 * showed a detection). */
GtkWidget *
tvw_viewer_image_row_get_detection_view (TvwViewerImageRow *self)
{
  g_return_val_if_fail (TVW_VIEWER_IS_IMAGE_ROW (self), NULL);

  return self->detection_view;
}

/* The optical flow view, shown for RAFT weights (%NULL before the row
 * showed a flow). */
GtkWidget *
tvw_viewer_image_row_get_flow_view (TvwViewerImageRow *self)
{
  g_return_val_if_fail (TVW_VIEWER_IS_IMAGE_ROW (self), NULL);

  return self->flow_view;
}

char *
tvw_viewer_image_row_get_shown_text (TvwViewerImageRow *self)
{
  GString *out;
  const char *page;

  g_return_val_if_fail (TVW_VIEWER_IS_IMAGE_ROW (self), NULL);

  out = g_string_new (gtk_label_get_label (self->title));
  g_string_append_c (out, '\n');

  page = gtk_stack_get_visible_child_name (self->status_stack);
  if (g_strcmp0 (page, "predictions") == 0)
    {
      for (guint i = 0; i < TVW_VIEWER_TOP_K; i++)
        if (gtk_widget_get_visible (GTK_WIDGET (self->category_labels[i])))
          g_string_append_printf (out, "%s\t%s\n",
                                  gtk_label_get_label (self->category_labels[i]),
                                  gtk_label_get_label (self->score_labels[i]));
      if (gtk_widget_get_visible (GTK_WIDGET (self->source_label)))
        g_string_append_printf (out, "%s\n", gtk_label_get_label (self->source_label));
    }
  else if (g_strcmp0 (page, "segmentation") == 0)
    {
      g_autofree char *legend = NULL;

      legend = tvw_viewer_segmentation_get_legend_text (TVW_VIEWER_SEGMENTATION (self->segmentation_view));
      g_string_append (out, legend);
    }
  else if (g_strcmp0 (page, "detection") == 0)
    {
      g_autofree char *objects = NULL;

      objects = tvw_viewer_detection_get_list_text (TVW_VIEWER_DETECTION (self->detection_view));
      g_string_append (out, objects);
    }
  else if (g_strcmp0 (page, "flow") == 0)
    {
      g_autofree char *flow = tvw_viewer_flow_get_text (TVW_VIEWER_FLOW (self->flow_view));

      g_string_append (out, flow);
    }
  else if (g_strcmp0 (page, "busy") == 0)
    g_string_append_printf (out, "%s\n", gtk_label_get_label (self->busy_label));
  else
    g_string_append_printf (out, "%s\n", gtk_inscription_get_text (self->message_label));

  return g_string_free (out, FALSE);
}
