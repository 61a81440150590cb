/* fuzz-legacy.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The legacy (pre-1.6) torch.save format: five pickles in a row, then the
 * raw storages.  Inputs that the format detection would send to another
 * reader are skipped, so that the fuzzer stays on this one.
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
  /* Protocol 2+ pickles start with PROTO; protocols 0 and 1 with the
   * magic number as a text LONG. */
  if (size == 0 || (data[0] != 0x80 && data[0] != 'L'))
    return 0;

  fuzz_checkpoint (data, size);
  return 0;
}
