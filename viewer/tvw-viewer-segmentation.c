/* tvw-viewer-segmentation.c — a semantic segmentation in an image's row
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The image with its classes drawn over it in the VOC palette, an opacity
 * control, a legend of the classes present with their share of the
 * pixels, and the class under the pointer.
 */

#include "config.h"

#include <glib/gi18n.h>

#include "tvw-viewer-segmentation.h"

#define DEFAULT_OPACITY 0.6
#define OVERLAY_WIDTH 320
#define OVERLAY_HEIGHT 220
#define SWATCH_SIZE 12

struct _TvwViewerSegmentation
{
  GtkWidget        parent_instance;

  TvwSegmentation *segmentation;
  GdkPixbuf       *image;
  GdkTexture      *overlay;

  GtkPicture      *picture;
  GtkLabel        *hover_label;
  GtkScale        *opacity_scale;
  GtkFlowBox      *legend;
};

G_DEFINE_FINAL_TYPE (TvwViewerSegmentation, tvw_viewer_segmentation, GTK_TYPE_WIDGET)

char *
tvw_viewer_segmentation_class_name (TvwSegmentation *segmentation,
                                    guint            class_index)
{
  const char *category = tvw_segmentation_get_category (segmentation, class_index);

  if (category != NULL)
    return g_strdup (category);
  /* Translators: a class that has no name, by its index */
  return g_strdup_printf (_("Class %u"), class_index);
}

static void
render_overlay (TvwViewerSegmentation *self)
{
  g_autoptr(GdkPixbuf) pixbuf = NULL;
  g_autoptr(GError) error = NULL;

  g_clear_object (&self->overlay);
  if (self->segmentation != NULL && self->image != NULL)
    {
      pixbuf = tvw_segmentation_render_overlay (self->segmentation, self->image,
                                                gtk_range_get_value (GTK_RANGE (self->opacity_scale)),
                                                &error);
      if (pixbuf == NULL)
        g_warning ("No overlay: %s", error->message);
      else
        self->overlay = gdk_texture_new_for_pixbuf (pixbuf);
    }

  gtk_picture_set_paintable (self->picture, GDK_PAINTABLE (self->overlay));
}

static GtkWidget *
legend_item (TvwSegmentation *segmentation,
             guint            class_index)
{
  g_autoptr(GdkPixbuf) swatch = gdk_pixbuf_new (GDK_COLORSPACE_RGB, FALSE, 8, SWATCH_SIZE, SWATCH_SIZE);
  g_autoptr(GdkTexture) texture = NULL;
  g_autofree char *name = tvw_viewer_segmentation_class_name (segmentation, class_index);
  g_autofree char *text = NULL;
  GtkWidget *box, *image, *label;

  gdk_pixbuf_fill (swatch, (tvw_segmentation_palette_color (class_index) << 8) | 0xff);
  texture = gdk_texture_new_for_pixbuf (swatch);

  box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  image = gtk_image_new_from_paintable (GDK_PAINTABLE (texture));
  gtk_image_set_pixel_size (GTK_IMAGE (image), SWATCH_SIZE);
  gtk_widget_add_css_class (image, "legend-swatch");
  /* Translators: a class and its share of the image's pixels, e.g.
   * “person 12.5 %” */
  text = g_strdup_printf (_("%s %.1f %%"), name,
                          100.0 * tvw_segmentation_get_fraction (segmentation, class_index));
  label = gtk_label_new (text);
  gtk_widget_add_css_class (label, "legend-label");
  gtk_box_append (GTK_BOX (box), image);
  gtk_box_append (GTK_BOX (box), label);

  return box;
}

static void
fill_legend (TvwViewerSegmentation *self)
{
  GtkWidget *child;

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->legend))) != NULL)
    gtk_flow_box_remove (self->legend, child);

  if (self->segmentation != NULL)
    {
      g_autofree guint *present = NULL;
      guint n;

      present = tvw_segmentation_get_classes_present (self->segmentation, &n);
      for (guint i = 0; i < n; i++)
        gtk_flow_box_append (self->legend, legend_item (self->segmentation, present[i]));
    }
}

/* The class under (@x, @y) of the picture, which draws the image
 * contained and centred; %NULL outside the image.  The pointer's motion
 * shows it. */
char *
tvw_viewer_segmentation_describe_point (TvwViewerSegmentation *self,
                                        double                 x,
                                        double                 y)
{
  double width, height, iw, ih, scale, ox, oy;
  double px, py;

  g_return_val_if_fail (TVW_VIEWER_IS_SEGMENTATION (self), NULL);

  if (self->segmentation == NULL)
    return NULL;

  width = gtk_widget_get_width (GTK_WIDGET (self->picture));
  height = gtk_widget_get_height (GTK_WIDGET (self->picture));
  iw = tvw_segmentation_get_width (self->segmentation);
  ih = tvw_segmentation_get_height (self->segmentation);
  if (width <= 0 || height <= 0)
    return NULL;

  scale = MIN (width / iw, height / ih);
  ox = (width - iw * scale) / 2;
  oy = (height - ih * scale) / 2;
  px = (x - ox) / scale;
  py = (y - oy) / scale;
  if (px < 0 || py < 0 || px >= iw || py >= ih)
    return NULL;

  return tvw_viewer_segmentation_class_name (self->segmentation,
                                             tvw_segmentation_get_class_at (self->segmentation,
                                                                            (guint) px, (guint) py));
}

static void
show_hover (TvwViewerSegmentation *self,
            const char            *name)
{
  gtk_label_set_label (self->hover_label, name != NULL ? name : "");
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->picture), name);
}

static void
motion_cb (GtkEventControllerMotion *controller,
           double                    x,
           double                    y,
           TvwViewerSegmentation    *self)
{
  g_autofree char *name = tvw_viewer_segmentation_describe_point (self, x, y);

  show_hover (self, name);
}

static void
leave_cb (GtkEventControllerMotion *controller,
          TvwViewerSegmentation    *self)
{
  show_hover (self, NULL);
}

static void
opacity_changed_cb (TvwViewerSegmentation *self)
{
  render_overlay (self);
}

static void
tvw_viewer_segmentation_dispose (GObject *object)
{
  TvwViewerSegmentation *self = (TvwViewerSegmentation *)object;
  GtkWidget *child;

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self))) != NULL)
    gtk_widget_unparent (child);

  g_clear_object (&self->segmentation);
  g_clear_object (&self->image);
  g_clear_object (&self->overlay);

  G_OBJECT_CLASS (tvw_viewer_segmentation_parent_class)->dispose (object);
}

static void
tvw_viewer_segmentation_class_init (TvwViewerSegmentationClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = tvw_viewer_segmentation_dispose;

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BOX_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "segmentation");
}

static void
tvw_viewer_segmentation_init (TvwViewerSegmentation *self)
{
  GtkLayoutManager *layout = gtk_widget_get_layout_manager (GTK_WIDGET (self));
  GtkEventController *motion = gtk_event_controller_motion_new ();
  GtkWidget *row, *label;

  gtk_orientable_set_orientation (GTK_ORIENTABLE (layout), GTK_ORIENTATION_VERTICAL);
  gtk_box_layout_set_spacing (GTK_BOX_LAYOUT (layout), 6);

  self->picture = GTK_PICTURE (gtk_picture_new ());
  gtk_picture_set_can_shrink (self->picture, TRUE);
  gtk_picture_set_content_fit (self->picture, GTK_CONTENT_FIT_CONTAIN);
  gtk_widget_set_size_request (GTK_WIDGET (self->picture), OVERLAY_WIDTH, OVERLAY_HEIGHT);
  gtk_widget_set_halign (GTK_WIDGET (self->picture), GTK_ALIGN_START);
  gtk_widget_add_css_class (GTK_WIDGET (self->picture), "overlay");
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->picture),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, _("The image with its classes drawn over it"),
                                  -1);
  g_signal_connect (motion, "motion", G_CALLBACK (motion_cb), self);
  g_signal_connect (motion, "leave", G_CALLBACK (leave_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self->picture), motion);
  gtk_widget_set_parent (GTK_WIDGET (self->picture), GTK_WIDGET (self));

  self->hover_label = GTK_LABEL (gtk_label_new (NULL));
  gtk_label_set_xalign (self->hover_label, 0.0f);
  gtk_widget_add_css_class (GTK_WIDGET (self->hover_label), "caption");
  gtk_widget_set_parent (GTK_WIDGET (self->hover_label), GTK_WIDGET (self));

  row = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 8);
  label = gtk_label_new (_("Opacity"));
  gtk_widget_add_css_class (label, "dim-label");
  self->opacity_scale = GTK_SCALE (gtk_scale_new_with_range (GTK_ORIENTATION_HORIZONTAL, 0.0, 1.0, 0.05));
  gtk_range_set_value (GTK_RANGE (self->opacity_scale), DEFAULT_OPACITY);
  gtk_widget_set_hexpand (GTK_WIDGET (self->opacity_scale), TRUE);
  gtk_widget_set_size_request (GTK_WIDGET (self->opacity_scale), 160, -1);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->opacity_scale),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, _("Opacity of the classes"),
                                  -1);
  g_signal_connect_swapped (self->opacity_scale, "value-changed", G_CALLBACK (opacity_changed_cb), self);
  gtk_box_append (GTK_BOX (row), label);
  gtk_box_append (GTK_BOX (row), GTK_WIDGET (self->opacity_scale));
  gtk_widget_set_parent (row, GTK_WIDGET (self));

  self->legend = GTK_FLOW_BOX (gtk_flow_box_new ());
  gtk_flow_box_set_selection_mode (self->legend, GTK_SELECTION_NONE);
  gtk_flow_box_set_max_children_per_line (self->legend, 4);
  gtk_flow_box_set_column_spacing (self->legend, 12);
  gtk_widget_add_css_class (GTK_WIDGET (self->legend), "legend");
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->legend),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, _("Classes present"),
                                  -1);
  gtk_widget_set_parent (GTK_WIDGET (self->legend), GTK_WIDGET (self));
}

GtkWidget *
tvw_viewer_segmentation_new (void)
{
  return g_object_new (TVW_VIEWER_TYPE_SEGMENTATION, NULL);
}

/* Shows @segmentation over @image (the pixels it was made from, of its
 * size); %NULL clears. */
void
tvw_viewer_segmentation_set_segmentation (TvwViewerSegmentation *self,
                                          TvwSegmentation       *segmentation,
                                          GdkPixbuf             *image)
{
  g_return_if_fail (TVW_VIEWER_IS_SEGMENTATION (self));

  if (self->segmentation == segmentation && self->image == image)
    return;

  g_set_object (&self->segmentation, segmentation);
  g_set_object (&self->image, image);
  render_overlay (self);
  fill_legend (self);
  show_hover (self, NULL);
}

TvwSegmentation *
tvw_viewer_segmentation_get_segmentation (TvwViewerSegmentation *self)
{
  g_return_val_if_fail (TVW_VIEWER_IS_SEGMENTATION (self), NULL);

  return self->segmentation;
}

double
tvw_viewer_segmentation_get_opacity (TvwViewerSegmentation *self)
{
  g_return_val_if_fail (TVW_VIEWER_IS_SEGMENTATION (self), 0.0);

  return gtk_range_get_value (GTK_RANGE (self->opacity_scale));
}

void
tvw_viewer_segmentation_set_opacity (TvwViewerSegmentation *self,
                                     double                 opacity)
{
  g_return_if_fail (TVW_VIEWER_IS_SEGMENTATION (self));

  gtk_range_set_value (GTK_RANGE (self->opacity_scale), opacity);
}

GdkTexture *
tvw_viewer_segmentation_get_overlay (TvwViewerSegmentation *self)
{
  g_return_val_if_fail (TVW_VIEWER_IS_SEGMENTATION (self), NULL);

  return self->overlay;
}

const char *
tvw_viewer_segmentation_get_hover_text (TvwViewerSegmentation *self)
{
  g_return_val_if_fail (TVW_VIEWER_IS_SEGMENTATION (self), NULL);

  return gtk_label_get_label (self->hover_label);
}

/* The legend as text, one “label” line per class, as shown.  Tests read
 * it. */
char *
tvw_viewer_segmentation_get_legend_text (TvwViewerSegmentation *self)
{
  GString *out = g_string_new (NULL);

  g_return_val_if_fail (TVW_VIEWER_IS_SEGMENTATION (self), NULL);

  for (GtkWidget *child = gtk_widget_get_first_child (GTK_WIDGET (self->legend));
       child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      /* GtkFlowBoxChild → box → swatch, label */
      GtkWidget *box = gtk_flow_box_child_get_child (GTK_FLOW_BOX_CHILD (child));
      GtkWidget *label = gtk_widget_get_last_child (box);

      g_string_append_printf (out, "%s\n", gtk_label_get_label (GTK_LABEL (label)));
    }

  return g_string_free (out, FALSE);
}
