/* fuzz-pth.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The torch.save zip reader and the restricted unpickler.
 *
 * An input that starts with "PK" is a whole .pth file: the fuzzer works on
 * the zip container.  Any other input is a pickle: the harness stores it as
 * archive/data.pkl (with its CRC) in a zip that also holds eight storages
 * archive/data/0 … 7 of 64 bytes each, so that mutations reach the VM and
 * the tensor checks instead of dying on the CRC.
 */

/* memfd_create() */
#define _GNU_SOURCE

#include "config.h"

#include "fuzz-ckpt.h"
#include "fuzz-zip.h"

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
  g_autoptr(GByteArray) zip = NULL;

  if (size >= 2 && data[0] == 'P' && data[1] == 'K')
    {
      fuzz_checkpoint (data, size);
      return 0;
    }
  /* A pickle larger than this only repeats what a smaller one does. */
  if (size > (1 << 20))
    return 0;

  zip = fuzz_zip_wrap_pickle (data, size);
  fuzz_checkpoint (zip->data, zip->len);
  return 0;
}
