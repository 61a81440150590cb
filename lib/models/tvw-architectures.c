/* tvw-architectures.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include "tvw-architectures-private.h"

static const TvwArchitecture *families[] = {
  tvw_resnet_architectures,
  tvw_regnet_architectures,
  tvw_efficientnet_architectures,
  tvw_mobilenet_architectures,
};

const TvwArchitecture *
tvw_architecture_lookup (const char *name)
{
  g_return_val_if_fail (name != NULL, NULL);

  for (gsize f = 0; f < G_N_ELEMENTS (families); f++)
    for (const TvwArchitecture *a = families[f]; a->name != NULL; a++)
      if (strcmp (a->name, name) == 0)
        return a;

  return NULL;
}

gboolean
tvw_architecture_is_implemented (const char *name)
{
  return tvw_architecture_lookup (name) != NULL;
}

static int
compare_names (gconstpointer a,
               gconstpointer b)
{
  return strcmp (*(const char * const *) a, *(const char * const *) b);
}

const char * const *
tvw_architecture_list (void)
{
  static gsize names;

  if (g_once_init_enter (&names))
    {
      GPtrArray *list = g_ptr_array_new ();

      for (gsize f = 0; f < G_N_ELEMENTS (families); f++)
        for (const TvwArchitecture *a = families[f]; a->name != NULL; a++)
          g_ptr_array_add (list, (gpointer) a->name);
      g_ptr_array_sort (list, compare_names);
      g_ptr_array_add (list, NULL);

      g_once_init_leave (&names, (gsize) g_ptr_array_free (list, FALSE));
    }

  return (const char * const *) names;
}
