/* fuzz-lsan-json.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * LeakSanitizer settings for the harnesses that parse JSON (cards,
 * safetensors headers), linked into them only.
 *
 * json-glib 1.6 leaks the first value of a document followed by more
 * content ("{}{}": json_parser_load_from_data() fails and never frees the
 * node it built); libtvw cannot free it.  The suppression needs the full
 * allocation stack, hence the slow unwinder: json-glib and GLib are not
 * built with frame pointers.
 */

const char *__lsan_default_suppressions (void);
const char *__asan_default_options (void);

const char *
__lsan_default_suppressions (void)
{
  return "leak:json_parser_load_from_data\n";
}

const char *
__asan_default_options (void)
{
  return "fast_unwind_on_malloc=0";
}
