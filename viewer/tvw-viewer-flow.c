/* tvw-viewer-flow.c — optical flow between two frames in an image's row
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The frames go through the weights' OpticalFlow preset and RAFT
 * (tvw_model_forward_inputs (), as `tvw flow` does); the final flow is
 * shown in torchvision's flow_to_image colours (tvw_flow_to_image ())
 * beside the first frame, with its mean and largest displacement.
 */

#include "config.h"

#include <glib/gi18n.h>
#include <math.h>

#include "tvw-viewer-flow.h"
#include "tvw-viewer-util.h"

/* The smallest sizes of the pictures: both fit beside each other in a
 * card of a 360-pixel-wide window; they grow to the frames' size. */
#define FIRST_WIDTH 96
#define FIRST_HEIGHT 72
#define FLOW_WIDTH 160
#define FLOW_HEIGHT 120

void
tvw_viewer_flow_result_free (TvwViewerFlowResult *result)
{
  g_clear_object (&result->image);
  g_free (result);
}

/* A still image's pixels as libtvw's decoder gives them to the model (the
 * OpticalFlow preset neither resizes nor crops). */
GdkPixbuf *
tvw_viewer_flow_read_frame (TvwTransform  *transform,
                            GFile         *file,
                            GCancellable  *cancellable,
                            GError       **error)
{
  g_autoptr(TvwTensor) input = NULL;
  g_autoptr(GdkPixbuf) pixels = NULL;

  input = tvw_transform_apply_file_full (transform, file, &pixels, cancellable, error);
  if (input == NULL)
    return NULL;

  return g_steal_pointer (&pixels);
}

/* A video's first two frames, the pair `tvw flow VIDEO` uses by default;
 * the first is also the video's poster. */
gboolean
tvw_viewer_flow_read_video_pair (GFile         *file,
                                 GdkPixbuf    **first,
                                 GdkPixbuf    **second,
                                 GCancellable  *cancellable,
                                 GError       **error)
{
  static const gint64 indices[2] = { 0, 1 };
  g_autoptr(TvwTensor) frames = NULL;

  frames = tvw_video_read_frames (file, indices, 2, cancellable, error);
  if (frames == NULL)
    return FALSE;

  *first = tvw_viewer_frame_to_pixbuf (frames, 0, error);
  if (*first == NULL)
    return FALSE;
  *second = tvw_viewer_frame_to_pixbuf (frames, 1, error);
  if (*second == NULL)
    {
      g_clear_object (first);
      return FALSE;
    }

  return TRUE;
}

/* The size RAFT sees: at most TVW_VIEWER_FLOW_MAX_SIDE on the longer
 * side, or enlarged to the model's smallest size (RAFT's correlation
 * pyramid needs 128 pixels each way), both sides multiples of 8 as RAFT
 * needs. */
static void
model_size (int  width,
            int  height,
            int  min_size,
            int *model_width,
            int *model_height)
{
  double scale = MIN (1.0, (double) TVW_VIEWER_FLOW_MAX_SIDE / MAX (width, height));

  if (MIN (width, height) * scale < min_size)
    scale = (double) min_size / MIN (width, height);

  *model_width = MAX (min_size, (int) (width * scale + 0.5) / 8 * 8);
  *model_height = MAX (min_size, (int) (height * scale + 0.5) / 8 * 8);
}

/* Runs RAFT on two frames of one size. */
TvwViewerFlowResult *
tvw_viewer_flow_compute (TvwModel      *model,
                         TvwTransform  *transform,
                         GdkPixbuf     *first,
                         GdkPixbuf     *second,
                         GCancellable  *cancellable,
                         GError       **error)
{
  g_autoptr(TvwViewerFlowResult) result = g_new0 (TvwViewerFlowResult, 1);
  g_autoptr(GListModel) outputs = NULL;
  g_autoptr(TvwTensor) flow = NULL;
  GdkPixbuf *frames[2] = { first, second };
  TvwTensor *pair[2] = { NULL, NULL };
  int width = gdk_pixbuf_get_width (first);
  int height = gdk_pixbuf_get_height (first);
  const float *data;
  gsize plane;
  double sum = 0.0;

  /* torchvision's RAFT takes two frames of one size, and so does
   * libtvw's: the viewer says so rather than guess how to match them. */
  if (gdk_pixbuf_get_width (second) != width || gdk_pixbuf_get_height (second) != height)
    {
      g_set_error (error, TVW_ERROR, TVW_ERROR_INVALID_ARGUMENT,
                   /* Translators: the sizes of two images in pixels */
                   _("The frames differ in size (%d × %d and %d × %d): optical flow needs two frames of the same size"),
                   width, height, gdk_pixbuf_get_width (second), gdk_pixbuf_get_height (second));
      return NULL;
    }

  model_size (width, height, (int) MAX (8, tvw_model_get_min_size (model)),
              &result->width, &result->height);
  result->scaled = result->width != width || result->height != height;

  for (int i = 0; i < 2; i++)
    {
      g_autoptr(GdkPixbuf) scaled = NULL;
      g_autoptr(TvwTensor) input = NULL;

      if (result->scaled)
        scaled = gdk_pixbuf_scale_simple (frames[i], result->width, result->height, GDK_INTERP_BILINEAR);
      input = tvw_transform_apply_pixbuf (transform, scaled != NULL ? scaled : frames[i], error);
      if (input == NULL)
        break;
      pair[i] = tvw_tensor_unsqueeze (input, 0);
    }

  if (pair[0] != NULL && pair[1] != NULL)
    outputs = tvw_model_forward_inputs (model, pair, 2, cancellable, error);
  g_clear_object (&pair[0]);
  g_clear_object (&pair[1]);
  if (outputs == NULL)
    return NULL;

  /* RAFT's one output is the last of torchvision's list of flows:
   * (1, 2, H, W), the displacement along x then y. */
  flow = g_list_model_get_item (outputs, 0);
  result->image = tvw_flow_to_image (flow, error);
  if (result->image == NULL)
    return NULL;

  data = tvw_tensor_get_data (flow);
  plane = tvw_tensor_get_n_elements (flow) / 2;
  for (gsize i = 0; i < plane; i++)
    {
      double length = hypot (data[i], data[plane + i]);

      sum += length;
      result->longest = MAX (result->longest, length);
    }
  result->mean = plane > 0 ? sum / plane : 0.0;

  return g_steal_pointer (&result);
}

/* One line for people: how far things moved. */
char *
tvw_viewer_flow_describe (double   mean,
                          double   longest,
                          int      width,
                          int      height,
                          gboolean scaled)
{
  if (scaled)
    /* Translators: distances in pixels, then the size the frames were scaled to,
     * e.g. “Mean motion 1.2 px, largest 8.5 px (frames scaled to 512 × 384)” */
    return g_strdup_printf (_("Mean motion %.1f px, largest %.1f px (frames scaled to %d × %d)"),
                            mean, longest, width, height);

  /* Translators: distances in pixels, e.g. “Mean motion 1.2 px, largest 8.5 px” */
  return g_strdup_printf (_("Mean motion %.1f px, largest %.1f px"), mean, longest);
}

/* The widget */

struct _TvwViewerFlow
{
  GtkWidget   parent_instance;

  GtkPicture *first_picture;
  GtkLabel   *first_label;
  GtkPicture *flow_picture;
  GtkLabel   *flow_label;
  GtkLabel   *summary_label;
};

G_DEFINE_FINAL_TYPE (TvwViewerFlow, tvw_viewer_flow, GTK_TYPE_WIDGET)

static void
tvw_viewer_flow_dispose (GObject *object)
{
  TvwViewerFlow *self = (TvwViewerFlow *)object;
  GtkWidget *child;

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self))) != NULL)
    gtk_widget_unparent (child);

  G_OBJECT_CLASS (tvw_viewer_flow_parent_class)->dispose (object);
}

static void
tvw_viewer_flow_class_init (TvwViewerFlowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = tvw_viewer_flow_dispose;

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BOX_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "flow");
}

/* A picture over its caption. */
static GtkWidget *
captioned (GtkPicture **picture,
           GtkLabel   **label,
           int          width,
           int          height)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);

  *picture = GTK_PICTURE (gtk_picture_new ());
  gtk_picture_set_can_shrink (*picture, TRUE);
  gtk_picture_set_content_fit (*picture, GTK_CONTENT_FIT_CONTAIN);
  gtk_widget_set_size_request (GTK_WIDGET (*picture), width, height);
  gtk_widget_add_css_class (GTK_WIDGET (*picture), "flow-picture");

  *label = GTK_LABEL (gtk_label_new (NULL));
  gtk_label_set_ellipsize (*label, PANGO_ELLIPSIZE_MIDDLE);
  gtk_label_set_max_width_chars (*label, 20);
  gtk_widget_add_css_class (GTK_WIDGET (*label), "caption");
  gtk_widget_add_css_class (GTK_WIDGET (*label), "dim-label");

  gtk_box_append (GTK_BOX (box), GTK_WIDGET (*picture));
  gtk_box_append (GTK_BOX (box), GTK_WIDGET (*label));
  gtk_widget_set_valign (box, GTK_ALIGN_START);

  return box;
}

static void
tvw_viewer_flow_init (TvwViewerFlow *self)
{
  GtkLayoutManager *layout = gtk_widget_get_layout_manager (GTK_WIDGET (self));
  GtkWidget *row, *arrow;

  gtk_orientable_set_orientation (GTK_ORIENTABLE (layout), GTK_ORIENTATION_VERTICAL);
  gtk_box_layout_set_spacing (GTK_BOX_LAYOUT (layout), 8);

  row = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  gtk_box_append (GTK_BOX (row), captioned (&self->first_picture, &self->first_label,
                                            FIRST_WIDTH, FIRST_HEIGHT));
  arrow = gtk_image_new_from_icon_name ("go-next-symbolic");
  gtk_widget_set_valign (arrow, GTK_ALIGN_START);
  gtk_widget_set_margin_top (arrow, FIRST_HEIGHT / 2 - 8);
  gtk_widget_add_css_class (arrow, "dim-label");
  gtk_accessible_update_state (GTK_ACCESSIBLE (arrow), GTK_ACCESSIBLE_STATE_HIDDEN, TRUE, -1);
  gtk_box_append (GTK_BOX (row), arrow);
  gtk_box_append (GTK_BOX (row), captioned (&self->flow_picture, &self->flow_label,
                                            FLOW_WIDTH, FLOW_HEIGHT));
  gtk_label_set_label (self->flow_label, _("Optical flow"));
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->flow_picture),
                               _("The colour says where each pixel moved, its strength how far"));
  gtk_widget_set_parent (row, GTK_WIDGET (self));

  self->summary_label = GTK_LABEL (gtk_label_new (NULL));
  gtk_label_set_xalign (self->summary_label, 0.0f);
  gtk_label_set_wrap (self->summary_label, TRUE);
  gtk_label_set_selectable (self->summary_label, FALSE);
  gtk_widget_add_css_class (GTK_WIDGET (self->summary_label), "numeric");
  gtk_widget_set_parent (GTK_WIDGET (self->summary_label), GTK_WIDGET (self));
}

GtkWidget *
tvw_viewer_flow_new (void)
{
  return g_object_new (TVW_VIEWER_TYPE_FLOW, NULL);
}

/* Shows the flow from @first_title (its picture @first_frame) to
 * @second_title; all %NULL clears. */
void
tvw_viewer_flow_set_flow (TvwViewerFlow *self,
                          GdkTexture    *first_frame,
                          const char    *first_title,
                          const char    *second_title,
                          GdkTexture    *flow,
                          const char    *summary)
{
  g_autofree char *first_name = NULL;
  g_autofree char *flow_name = NULL;

  g_return_if_fail (TVW_VIEWER_IS_FLOW (self));

  gtk_picture_set_paintable (self->first_picture, GDK_PAINTABLE (first_frame));
  gtk_picture_set_paintable (self->flow_picture, GDK_PAINTABLE (flow));
  gtk_label_set_label (self->first_label, first_title);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->first_label), first_title);
  gtk_label_set_label (self->summary_label, summary);

  if (first_title == NULL || second_title == NULL)
    return;

  /* Translators: the picture of the first of two frames, e.g. “First frame: “a.png”” */
  first_name = g_strdup_printf (_("First frame: “%s”"), first_title);
  /* Translators: e.g. “Optical flow from “a.png” to “b.png”” */
  flow_name = g_strdup_printf (_("Optical flow from “%s” to “%s”"), first_title, second_title);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->first_picture),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, first_name,
                                  -1);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->flow_picture),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, flow_name,
                                  GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, summary,
                                  -1);
}

/* The flow picture shown (for tests). */
GdkTexture *
tvw_viewer_flow_get_shown_flow (TvwViewerFlow *self)
{
  g_return_val_if_fail (TVW_VIEWER_IS_FLOW (self), NULL);

  return GDK_TEXTURE (gtk_picture_get_paintable (self->flow_picture));
}

/* What the view says, as text: the first frame's caption, then the
 * summary. */
char *
tvw_viewer_flow_get_text (TvwViewerFlow *self)
{
  g_return_val_if_fail (TVW_VIEWER_IS_FLOW (self), NULL);

  return g_strdup_printf ("%s\n%s\n", gtk_label_get_label (self->first_label),
                          gtk_label_get_label (self->summary_label));
}
