/* tvw-json.c — bounds on JSON text before json-glib parses it
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "tvw-json-private.h"

gboolean
tvw_json_check_bounds (const char   *text,
                       gsize         length,
                       guint         max_depth,
                       gsize         max_values,
                       const char  **problem)
{
  gboolean in_string = FALSE, started = FALSE, done = FALSE;
  gsize values = 1;
  guint depth = 0;

  for (gsize i = 0; i < length; i++)
    {
      char c = text[i];

      if (in_string)
        {
          if (c == '\\')
            i++;
          else if (c == '"')
            {
              in_string = FALSE;
              done = depth == 0;
            }
          continue;
        }

      if (c == ' ' || c == '\t' || c == '\n' || c == '\r')
        continue;

      if (done)
        {
          *problem = "there is more after the JSON value";
          return FALSE;
        }
      started = TRUE;

      switch (c)
        {
        case '"':
          in_string = TRUE;
          break;

        case '{':
        case '[':
          if (++depth > max_depth)
            {
              *problem = "the JSON nests more than allowed";
              return FALSE;
            }
          break;

        case '}':
        case ']':
          if (depth == 0)
            {
              *problem = "the JSON has an unmatched bracket";
              return FALSE;
            }
          done = --depth == 0;
          break;

        case ',':
        case ':':
          if (++values > max_values)
            {
              *problem = "the JSON has too many values";
              return FALSE;
            }
          break;

        default:
          break;
        }
    }

  if (!started)
    {
      *problem = "the JSON text is empty";
      return FALSE;
    }

  return TRUE;
}
