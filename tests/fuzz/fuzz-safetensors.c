/* fuzz-safetensors.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * .safetensors.  An input that starts with '{' is a header and a data area
 * separated by the first NUL byte; the harness writes the 8-byte header
 * length in front, so that mutations of the JSON keep a consistent file.
 * Any other input is the whole file, header length included, so that lying
 * lengths are tried too.
 */

/* memfd_create() */
#define _GNU_SOURCE

#include "config.h"

#include "fuzz-ckpt.h"

int
LLVMFuzzerInitialize (int    *argc,
                      char ***argv)
{
  fuzz_setup (TRUE);
  return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autoptr(GByteArray) file = NULL;
  const uint8_t *nul;
  guint64 header_len;
  guint8 len_le[8];

  if (size == 0 || data[0] != '{')
    {
      if (size >= 9 && data[8] == '{')
        fuzz_checkpoint (data, size);
      return 0;
    }

  nul = memchr (data, 0, size);
  header_len = nul != NULL ? (guint64) (nul - data) : size;
  for (guint i = 0; i < 8; i++)
    len_le[i] = (header_len >> (8 * i)) & 0xff;

  file = g_byte_array_sized_new (size + 8);
  g_byte_array_append (file, len_le, 8);
  g_byte_array_append (file, data, header_len);
  if (nul != NULL)
    g_byte_array_append (file, nul + 1, size - header_len - 1);
  fuzz_checkpoint (file->data, file->len);
  return 0;
}
