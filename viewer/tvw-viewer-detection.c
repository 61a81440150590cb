/* tvw-viewer-detection.c — the objects a detection model found in an
 * image's row
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The image with the objects drawn over it (tvw_detection_render()), a
 * score threshold that redraws without running the model again, and the
 * list of the objects shown; selecting one dims everything but its box.
 */

#include "config.h"

#include <glib/gi18n.h>
#include <math.h>

#include "tvw-viewer-detection.h"

#define PICTURE_WIDTH 320
#define PICTURE_HEIGHT 220
#define SWATCH_SIZE 12
#define LIST_HEIGHT 140
#define LIST_MIN_HEIGHT 96

struct _TvwViewerDetection
{
  GtkWidget     parent_instance;

  TvwDetection *detection;
  GdkPixbuf    *image;
  char        **categories;
  GdkTexture   *rendered;
  int           selected;     /* an object, or -1 */
  gboolean      filling;      /* the list is being rebuilt */

  GtkPicture   *picture;
  GtkScale     *threshold_scale;
  GtkLabel     *count_label;
  GtkListBox   *objects;
};

G_DEFINE_FINAL_TYPE (TvwViewerDetection, tvw_viewer_detection, GTK_TYPE_WIDGET)

char *
tvw_viewer_detection_object_name (TvwDetection       *detection,
                                  guint               index,
                                  const char * const *categories)
{
  guint label = tvw_detection_get_label (detection, index);

  if (categories != NULL && label < g_strv_length ((char **) categories) &&
      categories[label] != NULL && categories[label][0] != '\0' &&
      g_strcmp0 (categories[label], "N/A") != 0)
    return g_strdup (categories[label]);

  return g_strdup (tvw_detection_get_category (detection, index));
}

/* Dims everything of @pixbuf but @index's box, which gets a frame in its
 * colour. */
static void
highlight (GdkPixbuf    *pixbuf,
           GdkPixbuf    *drawn,
           TvwDetection *detection,
           guint         index)
{
  int width = gdk_pixbuf_get_width (pixbuf);
  int height = gdk_pixbuf_get_height (pixbuf);
  int stride = gdk_pixbuf_get_rowstride (pixbuf);
  int channels = gdk_pixbuf_get_n_channels (pixbuf);
  guint8 *pixels = gdk_pixbuf_get_pixels (pixbuf);
  guint32 color = tvw_detection_get_color (detection, index);
  int line = MAX (2, MIN (width, height) / 120);
  double bx1, by1, bx2, by2;
  int x1, y1, x2, y2;

  for (int y = 0; y < height; y++)
    for (int x = 0; x < width; x++)
      for (int c = 0; c < MIN (channels, 3); c++)
        pixels[y * stride + x * channels + c] = pixels[y * stride + x * channels + c] * 2 / 5;

  tvw_detection_get_box (detection, index, &bx1, &by1, &bx2, &by2);
  x1 = CLAMP ((int) floor (bx1), 0, width - 1);
  y1 = CLAMP ((int) floor (by1), 0, height - 1);
  x2 = CLAMP ((int) ceil (bx2), x1 + 1, width);
  y2 = CLAMP ((int) ceil (by2), y1 + 1, height);

  /* The box as drawn, undimmed. */
  gdk_pixbuf_copy_area (drawn, x1, y1, x2 - x1, y2 - y1, pixbuf, x1, y1);

  for (int y = MAX (0, y1 - line); y < MIN (height, y2 + line); y++)
    for (int x = MAX (0, x1 - line); x < MIN (width, x2 + line); x++)
      {
        guint8 *p;

        if (x >= x1 && x < x2 && y >= y1 && y < y2)
          continue;
        p = pixels + y * stride + x * channels;
        p[0] = (color >> 16) & 0xff;
        p[1] = (color >> 8) & 0xff;
        p[2] = color & 0xff;
      }
}

static void
render (TvwViewerDetection *self)
{
  g_autoptr(GdkPixbuf) pixbuf = NULL;
  g_autoptr(GError) error = NULL;
  double threshold = gtk_range_get_value (GTK_RANGE (self->threshold_scale));

  g_clear_object (&self->rendered);
  if (self->detection != NULL && self->image != NULL)
    {
      pixbuf = tvw_detection_render (self->detection, self->image, threshold, &error);
      if (pixbuf == NULL)
        g_warning ("No detections drawn: %s", error->message);
      else
        {
          if (self->selected >= 0)
            {
              g_autoptr(GdkPixbuf) drawn = gdk_pixbuf_copy (pixbuf);

              highlight (pixbuf, drawn, self->detection, (guint) self->selected);
            }
          self->rendered = gdk_texture_new_for_pixbuf (pixbuf);
        }
    }

  gtk_picture_set_paintable (self->picture, GDK_PAINTABLE (self->rendered));
}

static GtkWidget *
object_row (TvwViewerDetection *self,
            guint               index)
{
  g_autoptr(GdkPixbuf) swatch = gdk_pixbuf_new (GDK_COLORSPACE_RGB, FALSE, 8, SWATCH_SIZE, SWATCH_SIZE);
  g_autoptr(GdkTexture) texture = NULL;
  g_autofree char *name = tvw_viewer_detection_object_name (self->detection, index,
                                                            (const char * const *) self->categories);
  g_autofree char *score = NULL;
  g_autofree char *accessible = NULL;
  GtkWidget *row, *box, *image, *label;

  gdk_pixbuf_fill (swatch, (tvw_detection_get_color (self->detection, index) << 8) | 0xff);
  texture = gdk_texture_new_for_pixbuf (swatch);

  box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  image = gtk_image_new_from_paintable (GDK_PAINTABLE (texture));
  gtk_image_set_pixel_size (GTK_IMAGE (image), SWATCH_SIZE);
  gtk_widget_add_css_class (image, "legend-swatch");
  gtk_box_append (GTK_BOX (box), image);

  label = gtk_label_new (name);
  gtk_label_set_xalign (GTK_LABEL (label), 0.0f);
  gtk_label_set_ellipsize (GTK_LABEL (label), PANGO_ELLIPSIZE_END);
  gtk_widget_set_hexpand (label, TRUE);
  gtk_box_append (GTK_BOX (box), label);

  /* Translators: an object's score in percent, e.g. “87.5 %” */
  score = g_strdup_printf (_("%.1f %%"), 100.0 * tvw_detection_get_score (self->detection, index));
  label = gtk_label_new (score);
  gtk_widget_add_css_class (label, "numeric");
  gtk_widget_add_css_class (label, "dim-label");
  gtk_box_append (GTK_BOX (box), label);

  row = gtk_list_box_row_new ();
  gtk_list_box_row_set_child (GTK_LIST_BOX_ROW (row), box);
  g_object_set_data (G_OBJECT (row), "tvw-object", GUINT_TO_POINTER (index));
  /* Translators: an object found in an image and its score, e.g.
   * “person, score 87.5 %” */
  accessible = g_strdup_printf (_("%s, score %s"), name, score);
  gtk_accessible_update_property (GTK_ACCESSIBLE (row),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, accessible,
                                  -1);

  return row;
}

static void
fill_list (TvwViewerDetection *self)
{
  double threshold = gtk_range_get_value (GTK_RANGE (self->threshold_scale));
  GtkListBoxRow *keep = NULL;
  GtkWidget *child;
  guint n = 0;

  self->filling = TRUE;
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->objects))) != NULL)
    gtk_list_box_remove (self->objects, child);

  if (self->detection != NULL)
    for (guint i = 0; i < tvw_detection_get_n_objects (self->detection); i++)
      if (tvw_detection_get_score (self->detection, i) >= threshold)
        {
          GtkWidget *row = object_row (self, i);

          gtk_list_box_append (self->objects, row);
          if ((int) i == self->selected)
            keep = GTK_LIST_BOX_ROW (row);
          n++;
        }

  /* The selected object stays selected while it is shown. */
  if (keep != NULL)
    gtk_list_box_select_row (self->objects, keep);
  else
    self->selected = -1;
  self->filling = FALSE;

  {
    /* Translators: how many objects score at least the threshold */
    g_autofree char *count = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u object", "%u objects", n), n);

    gtk_label_set_label (self->count_label, count);
  }
  gtk_widget_set_visible (gtk_widget_get_ancestor (GTK_WIDGET (self->objects), GTK_TYPE_SCROLLED_WINDOW), n > 0);
}

static void
row_selected_cb (GtkListBox         *box,
                 GtkListBoxRow      *row,
                 TvwViewerDetection *self)
{
  int selected = row != NULL ? (int) GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (row), "tvw-object")) : -1;

  if (self->filling || selected == self->selected)
    return;

  self->selected = selected;
  render (self);
}

static void
threshold_changed_cb (TvwViewerDetection *self)
{
  fill_list (self);
  render (self);
}

static void
tvw_viewer_detection_dispose (GObject *object)
{
  TvwViewerDetection *self = (TvwViewerDetection *)object;
  GtkWidget *child;

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self))) != NULL)
    gtk_widget_unparent (child);

  g_clear_object (&self->detection);
  g_clear_object (&self->image);
  g_clear_pointer (&self->categories, g_strfreev);
  g_clear_object (&self->rendered);

  G_OBJECT_CLASS (tvw_viewer_detection_parent_class)->dispose (object);
}

static void
tvw_viewer_detection_class_init (TvwViewerDetectionClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = tvw_viewer_detection_dispose;

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BOX_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "detection");
}

static void
tvw_viewer_detection_init (TvwViewerDetection *self)
{
  GtkLayoutManager *layout = gtk_widget_get_layout_manager (GTK_WIDGET (self));
  GtkWidget *row, *label, *scrolled;

  self->selected = -1;

  gtk_orientable_set_orientation (GTK_ORIENTABLE (layout), GTK_ORIENTATION_VERTICAL);
  gtk_box_layout_set_spacing (GTK_BOX_LAYOUT (layout), 6);

  self->picture = GTK_PICTURE (gtk_picture_new ());
  gtk_picture_set_can_shrink (self->picture, TRUE);
  gtk_picture_set_content_fit (self->picture, GTK_CONTENT_FIT_CONTAIN);
  gtk_widget_set_size_request (GTK_WIDGET (self->picture), PICTURE_WIDTH, PICTURE_HEIGHT);
  gtk_widget_set_halign (GTK_WIDGET (self->picture), GTK_ALIGN_START);
  gtk_widget_add_css_class (GTK_WIDGET (self->picture), "overlay");
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->picture),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, _("The image with the objects found drawn over it"),
                                  -1);
  gtk_widget_set_parent (GTK_WIDGET (self->picture), GTK_WIDGET (self));

  row = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 8);
  label = gtk_label_new (_("Lowest score"));
  gtk_widget_add_css_class (label, "dim-label");
  self->threshold_scale = GTK_SCALE (gtk_scale_new_with_range (GTK_ORIENTATION_HORIZONTAL, 0.0, 1.0, 0.05));
  gtk_range_set_value (GTK_RANGE (self->threshold_scale), TVW_VIEWER_DETECTION_DEFAULT_THRESHOLD);
  gtk_scale_set_digits (self->threshold_scale, 2);
  gtk_scale_set_draw_value (self->threshold_scale, TRUE);
  gtk_widget_set_hexpand (GTK_WIDGET (self->threshold_scale), TRUE);
  gtk_widget_set_size_request (GTK_WIDGET (self->threshold_scale), 160, -1);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->threshold_scale),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, _("Lowest score of the objects shown"),
                                  -1);
  g_signal_connect_swapped (self->threshold_scale, "value-changed", G_CALLBACK (threshold_changed_cb), self);
  self->count_label = GTK_LABEL (gtk_label_new (NULL));
  gtk_widget_add_css_class (GTK_WIDGET (self->count_label), "caption");
  gtk_box_append (GTK_BOX (row), label);
  gtk_box_append (GTK_BOX (row), GTK_WIDGET (self->threshold_scale));
  gtk_box_append (GTK_BOX (row), GTK_WIDGET (self->count_label));
  gtk_widget_set_parent (row, GTK_WIDGET (self));

  self->objects = GTK_LIST_BOX (gtk_list_box_new ());
  gtk_list_box_set_selection_mode (self->objects, GTK_SELECTION_SINGLE);
  gtk_widget_add_css_class (GTK_WIDGET (self->objects), "boxed-list");
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->objects),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, _("Objects found"),
                                  -1);
  g_signal_connect (self->objects, "row-selected", G_CALLBACK (row_selected_cb), self);

  scrolled = gtk_scrolled_window_new ();
  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (scrolled), GTK_POLICY_NEVER, GTK_POLICY_AUTOMATIC);
  gtk_scrolled_window_set_min_content_height (GTK_SCROLLED_WINDOW (scrolled), LIST_MIN_HEIGHT);
  gtk_scrolled_window_set_max_content_height (GTK_SCROLLED_WINDOW (scrolled), LIST_HEIGHT);
  gtk_scrolled_window_set_propagate_natural_height (GTK_SCROLLED_WINDOW (scrolled), TRUE);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scrolled), GTK_WIDGET (self->objects));
  gtk_widget_set_parent (scrolled, GTK_WIDGET (self));
}

GtkWidget *
tvw_viewer_detection_new (void)
{
  return g_object_new (TVW_VIEWER_TYPE_DETECTION, NULL);
}

/* Shows @detection over @image (the pixels it was found in, of its size),
 * its objects named with @categories (the weights', for models built
 * without them); %NULL clears. */
void
tvw_viewer_detection_set_detection (TvwViewerDetection *self,
                                    TvwDetection       *detection,
                                    GdkPixbuf          *image,
                                    const char * const *categories)
{
  g_return_if_fail (TVW_VIEWER_IS_DETECTION (self));

  if (self->detection == detection && self->image == image)
    return;

  g_set_object (&self->detection, detection);
  g_set_object (&self->image, image);
  g_clear_pointer (&self->categories, g_strfreev);
  self->categories = g_strdupv ((char **) categories);
  self->selected = -1;
  fill_list (self);
  render (self);
}

TvwDetection *
tvw_viewer_detection_get_detection (TvwViewerDetection *self)
{
  g_return_val_if_fail (TVW_VIEWER_IS_DETECTION (self), NULL);

  return self->detection;
}

double
tvw_viewer_detection_get_threshold (TvwViewerDetection *self)
{
  g_return_val_if_fail (TVW_VIEWER_IS_DETECTION (self), 0.0);

  return gtk_range_get_value (GTK_RANGE (self->threshold_scale));
}

void
tvw_viewer_detection_set_threshold (TvwViewerDetection *self,
                                    double              threshold)
{
  g_return_if_fail (TVW_VIEWER_IS_DETECTION (self));

  gtk_range_set_value (GTK_RANGE (self->threshold_scale), threshold);
}

GtkWidget *
tvw_viewer_detection_get_threshold_scale (TvwViewerDetection *self)
{
  g_return_val_if_fail (TVW_VIEWER_IS_DETECTION (self), NULL);

  return GTK_WIDGET (self->threshold_scale);
}

GtkListBox *
tvw_viewer_detection_get_list (TvwViewerDetection *self)
{
  g_return_val_if_fail (TVW_VIEWER_IS_DETECTION (self), NULL);

  return self->objects;
}

/* How many objects the list shows. */
guint
tvw_viewer_detection_get_n_listed (TvwViewerDetection *self)
{
  guint n = 0;

  g_return_val_if_fail (TVW_VIEWER_IS_DETECTION (self), 0);

  for (GtkWidget *child = gtk_widget_get_first_child (GTK_WIDGET (self->objects));
       child != NULL;
       child = gtk_widget_get_next_sibling (child))
    n++;

  return n;
}

/* The object the list shows at @position, or -1 past its end. */
int
tvw_viewer_detection_get_listed_object (TvwViewerDetection *self,
                                        guint               position)
{
  GtkListBoxRow *row;

  g_return_val_if_fail (TVW_VIEWER_IS_DETECTION (self), -1);

  row = gtk_list_box_get_row_at_index (self->objects, (int) position);
  if (row == NULL)
    return -1;

  return (int) GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (row), "tvw-object"));
}

int
tvw_viewer_detection_get_selected_object (TvwViewerDetection *self)
{
  g_return_val_if_fail (TVW_VIEWER_IS_DETECTION (self), -1);

  return self->selected;
}

/* Selects the list's row of object @index, as a click does; an object not
 * listed (or -1) clears the selection. */
void
tvw_viewer_detection_select_object (TvwViewerDetection *self,
                                    int                 index)
{
  g_return_if_fail (TVW_VIEWER_IS_DETECTION (self));

  for (GtkWidget *child = gtk_widget_get_first_child (GTK_WIDGET (self->objects));
       child != NULL;
       child = gtk_widget_get_next_sibling (child))
    if (index >= 0 && GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (child), "tvw-object")) == (guint) index)
      {
        gtk_list_box_select_row (self->objects, GTK_LIST_BOX_ROW (child));
        return;
      }

  gtk_list_box_unselect_all (self->objects);
}

/* What the picture shows. */
GdkTexture *
tvw_viewer_detection_get_rendered (TvwViewerDetection *self)
{
  g_return_val_if_fail (TVW_VIEWER_IS_DETECTION (self), NULL);

  return self->rendered;
}

/* The list as text, one “category<TAB>score” line per object, as shown.
 * Tests read it. */
char *
tvw_viewer_detection_get_list_text (TvwViewerDetection *self)
{
  GString *out = g_string_new (NULL);

  g_return_val_if_fail (TVW_VIEWER_IS_DETECTION (self), NULL);

  for (GtkWidget *child = gtk_widget_get_first_child (GTK_WIDGET (self->objects));
       child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      /* row → box → swatch, name, score */
      GtkWidget *box = gtk_list_box_row_get_child (GTK_LIST_BOX_ROW (child));
      GtkWidget *name = gtk_widget_get_next_sibling (gtk_widget_get_first_child (box));

      g_string_append_printf (out, "%s\t%s\n",
                              gtk_label_get_label (GTK_LABEL (name)),
                              gtk_label_get_label (GTK_LABEL (gtk_widget_get_next_sibling (name))));
    }

  return g_string_free (out, FALSE);
}
