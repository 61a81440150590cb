/* test-hostile.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The hostile-input set: files built to attack a loader (code execution
 * through the unpickler, memory or time bombs, lying lengths, offsets and
 * sizes) must be refused with TVW_ERROR_INVALID_DATA and a message that
 * names the file and the problem, quickly and without memory proportional to
 * what the file claims.  tests/test-formats.c holds the cases torch itself
 * can write (fake tensors, os.system via __reduce__, compressed and
 * overlapping zip entries, …); this file adds hand-made pickles, zip64
 * records, legacy files, safetensors headers, weights cards, .npy arrays,
 * image headers and the model's input limit.
 *
 * Every case runs in its own process, which measures the one call that
 * reads the input: wall time, and growth of the peak resident set size
 * (getrusage).  A crash is that case's failure only.  Each case has a
 * control: the same construction without the lie loads.
 */

#include "config.h"

#include <glib/gstdio.h>
#include <fcntl.h>
#include <math.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tvw.h"
#include "tvw-checkpoint-private.h"
#include "tvw-model-private.h"
#include "fuzz/fuzz-zip.h"
#include "../cli/tvw-npy.h"

/* Generous bounds: every case takes milliseconds and a few MB here.  They
 * catch pathological behaviour (quadratic or exponential work, allocations
 * sized by a header), not small slowdowns. */
#if defined(__SANITIZE_ADDRESS__)
# define UNDER_SANITIZER 1
#elif defined(__has_feature)
# if __has_feature(address_sanitizer)
#  define UNDER_SANITIZER 1
# endif
#endif
#ifdef UNDER_SANITIZER
# define TIME_LIMIT_S  10.0
# define MEM_FACTOR    4
#else
# define TIME_LIMIT_S  1.0
# define MEM_FACTOR    1
#endif
/* Peak RSS growth allowed while reading an input of N bytes. */
#define MEM_LIMIT_KB(n) (MEM_FACTOR * (64 * 1024 + 16 * (gint64) (n) / 1024))
/* Peak address space growth allowed (without sanitizers, which reserve
 * their own): catches allocations sized by a header even when their pages
 * are never touched.  Thread stacks and loadable modules fit in it. */
#define VM_LIMIT_KB(n) (256 * 1024 + 16 * (gint64) (n) / 1024)

static char *work_dir;

/* ------------------------------------------------------------------------ */
/* Inputs */

typedef enum
{
  KIND_CHECKPOINT,
  KIND_CARD,
  KIND_NPY,
  KIND_IMAGE,
} Kind;

typedef struct
{
  const char  *path;          /* test path, also the file name */
  Kind         kind;
  GBytes    *(*build) (void);
  TvwError     code;
  const char  *reason;        /* must appear in the message */
  /* A bug found here and not fixed yet: the case is reported as a TODO
   * (an expected failure) until it passes. */
  const char  *known_bug;
} HostileCase;

static GBytes *
bytes_from_array (GByteArray *array)
{
  return g_byte_array_free_to_bytes (array);
}

#define LITERAL(s) g_bytes_new_static (s, sizeof s - 1)

/* --- Pickles, stored as data.pkl of a zip with eight 64-byte storages --- */

/* A 4×4 float32 tensor over storage "0" (16 elements), pickled the way
 * torch.save does it. */
#define STR1(c) "X\x01\0\0\0" c
#define FLOAT_STORAGE_PID(key, numel) \
  "(X\x07\0\0\0" "storage" "ctorch\nFloatStorage\n" key "X\x03\0\0\0" "cpu" numel "t"
#define TENSOR_V2(pid) \
  "ctorch._utils\n_rebuild_tensor_v2\n" \
  "(" pid "Q" "K\x00" "K\x04K\x04\x86" "K\x04K\x01\x86" "\x89" \
  "ccollections\nOrderedDict\n)R" "tR"
#define TENSOR0 TENSOR_V2 (FLOAT_STORAGE_PID (STR1 ("0"), "K\x10"))

static GBytes *
wrap (const char *pickle,
      gsize       len)
{
  return bytes_from_array (fuzz_zip_wrap_pickle ((const guint8 *) pickle, len));
}

#define WRAP(s) wrap (s, sizeof s - 1)

static GBytes *
pk_control (void)
{
  return WRAP ("\x80\x02}q\x00" STR1 ("w") TENSOR0 "s.");
}

static GBytes *
pk_os_system (void)
{
  return WRAP ("\x80\x02}" STR1 ("w") "cos\nsystem\nX\x02\0\0\0" "id" "\x85R" "s.");
}

static GBytes *
pk_builtins_getattr (void)
{
  return WRAP ("\x80\x02}" STR1 ("w") "cbuiltins\ngetattr\n" TENSOR0 "X\x07\0\0\0" "__del__"
               "\x86R" "s.");
}

static GBytes *
pk_copyreg_reconstructor (void)
{
  return WRAP ("\x80\x02}" STR1 ("w") "ccopyreg\n_reconstructor\n"
               "(ccollections\nOrderedDict\nc__builtin__\nobject\nNtR" "s.");
}

static GBytes *
pk_load_from_bytes (void)
{
  return WRAP ("\x80\x02}" STR1 ("w") "ctorch.storage\n_load_from_bytes\n"
               "C\x04" "abcd" "\x85R" "s.");
}

static GBytes *
pk_stack_global_import (void)
{
  return WRAP ("\x80\x04\x95\x20\0\0\0\0\0\0\0" "}\x94\x8c\x01w\x94"
               "\x8c\x08" "builtins" "\x94\x8c\x0a" "__import__" "\x94\x93"
               "\x8c\x02" "os" "\x85R" "s.");
}

static GBytes *
pk_extension_registry (void)
{
  return WRAP ("\x80\x02}" STR1 ("w") "\x82\x01" ")R" "s.");
}

static GBytes *
pk_reduce_not_callable (void)
{
  return WRAP ("\x80\x02}" STR1 ("w") "K\x01)R" "s.");
}

static GBytes *
pk_reduce_args_not_tuple (void)
{
  return WRAP ("\x80\x02}" STR1 ("w") "ccollections\nOrderedDict\nK\x01R" "s.");
}

static GBytes *
pk_rebuild_tensor_string_storage (void)
{
  return WRAP ("\x80\x02}" STR1 ("w") "ctorch._utils\n_rebuild_tensor_v2\n"
               "(" STR1 ("0") "K\x00" "K\x04\x85" "K\x01\x85" "\x89"
               "ccollections\nOrderedDict\n)R" "tR" "s.");
}

static GBytes *
pk_rebuild_tensor_few_args (void)
{
  return WRAP ("\x80\x02}" STR1 ("w") "ctorch._utils\n_rebuild_tensor_v2\n"
               "(" FLOAT_STORAGE_PID (STR1 ("0"), "K\x10") "Q" "tR" "s.");
}

static GBytes *
pk_rebuild_parameter_not_tensor (void)
{
  return WRAP ("\x80\x02}" STR1 ("w") "ctorch._utils\n_rebuild_parameter\n"
               "(K\x01\x89" "ccollections\nOrderedDict\n)R" "tR" "s.");
}

static GBytes *
pk_build_on_class (void)
{
  /* pickle's BUILD is obj.__setstate__(state) or obj.__dict__.update(state):
   * here on the OrderedDict class itself. */
  return WRAP ("\x80\x02}" STR1 ("w") "ccollections\nOrderedDict\n"
               "}X\x08\0\0\0" "__call__" "K\x01" "s" "b" "s.");
}

static GBytes *
pk_newobj_storage (void)
{
  return WRAP ("\x80\x02}" STR1 ("w") "ctorch\nFloatStorage\n)\x81" "s.");
}

static GBytes *
pk_obj_opcode (void)
{
  return WRAP ("\x80\x02}" STR1 ("w") "(ccollections\nOrderedDict\no" "s.");
}

static GBytes *
pk_storage_key_traversal (void)
{
  return WRAP ("\x80\x02}" STR1 ("w")
               TENSOR_V2 (FLOAT_STORAGE_PID ("X\x13\0\0\0" "../../../etc/passwd", "K\x10"))
               "s.");
}

static GBytes *
pk_storage_type_not_storage (void)
{
  return WRAP ("\x80\x02}" STR1 ("w") "ctorch._utils\n_rebuild_tensor_v2\n"
               "((X\x07\0\0\0" "storage" "ccollections\nOrderedDict\n" STR1 ("0")
               "X\x03\0\0\0" "cpu" "K\x10" "tQ" "K\x00" "K\x04\x85" "K\x01\x85" "\x89"
               "ccollections\nOrderedDict\n)R" "tR" "s.");
}

static GBytes *
pk_text_persistent_id (void)
{
  return WRAP ("\x80\x02}" STR1 ("w") "P0\n" "s.");
}

static GBytes *
pk_storage_numel_lies (void)
{
  return WRAP ("\x80\x02}" STR1 ("w") TENSOR_V2 (FLOAT_STORAGE_PID (STR1 ("0"), "K\x11")) "s.");
}

static GBytes *
pk_dict_contains_itself (void)
{
  return WRAP ("\x80\x02}q\x00" STR1 ("a") "h\x00" "s.");
}

static GBytes *
pk_wrapper_contains_itself (void)
{
  return WRAP ("\x80\x02}q\x00X\x0a\0\0\0" "state_dict" "h\x00" "s.");
}

static GBytes *
pk_list_tuple_cycle (void)
{
  return WRAP ("\x80\x02]q\x00h\x00\x85" "a.");
}

#define N_NESTED 100000

static GBytes *
pk_nested_dicts (void)
{
  GByteArray *p = g_byte_array_new ();
  GBytes *out;

  g_byte_array_append (p, (const guint8 *) "\x80\x02}", 3);
  for (guint i = 0; i < N_NESTED; i++)
    g_byte_array_append (p, (const guint8 *) "X\x01\0\0\0k}", 7);
  for (guint i = 0; i < N_NESTED; i++)
    g_byte_array_append (p, (const guint8 *) "s", 1);
  g_byte_array_append (p, (const guint8 *) ".", 1);
  out = wrap ((const char *) p->data, p->len);
  g_byte_array_unref (p);
  return out;
}

/* 2^21 MEMOIZE opcodes on one list (protocol 4). */
static GBytes *
pk_memoize_bomb (void)
{
  GByteArray *p = g_byte_array_new ();
  GBytes *out;

  g_byte_array_append (p, (const guint8 *) "\x80\x04]", 3);
  for (guint i = 0; i < (1u << 21); i++)
    g_byte_array_append (p, (const guint8 *) "\x94", 1);
  g_byte_array_append (p, (const guint8 *) ".", 1);
  out = wrap ((const char *) p->data, p->len);
  g_byte_array_unref (p);
  return out;
}

static GBytes *
pk_memo_index_huge (void)
{
  return WRAP ("\x80\x02]r\xff\xff\xff\xff" ".");
}

/* A list holding two references to a list holding two references to …,
 * 60 levels: 2^60 items if anything walked it as a tree. */
static GBytes *
pk_dag_bomb (void)
{
  static const char head[] = "\x80\x02}" STR1 ("w") "]q\x00";
  GByteArray *p = g_byte_array_new ();
  GBytes *out;

  g_byte_array_append (p, (const guint8 *) head, sizeof head - 1);
  for (guint i = 1; i <= 60; i++)
    {
      /* POP the previous level (it stays in the memo), then build the next. */
      guint8 op[] = { '0', ']', '(', 'h', (guint8) (i - 1), 'h', (guint8) (i - 1), 'e', 'q', (guint8) i };

      g_byte_array_append (p, op, sizeof op);
    }
  g_byte_array_append (p, (const guint8 *) "s.", 2);
  out = wrap ((const char *) p->data, p->len);
  g_byte_array_unref (p);
  return out;
}

static GBytes *
pk_binunicode8_huge (void)
{
  return WRAP ("\x80\x04}\x8c\x01w\x8d\0\0\0\0\0\0\0\x80" "abc" "s.");
}

static GBytes *
pk_binbytes8_huge (void)
{
  return WRAP ("\x80\x04}\x8c\x01w\x8e\xff\xff\xff\xff\xff\xff\xff\xff" "abc" "s.");
}

static GBytes *
pk_long4_huge (void)
{
  return WRAP ("\x80\x02}" STR1 ("w") "\x8b\xff\xff\xff\x7f" "abc" "s.");
}

static GBytes *
pk_binstring_negative (void)
{
  return WRAP ("\x80\x02}" STR1 ("w") "T\xff\xff\xff\xff" "abc" "s.");
}

static GBytes *
pk_text_long_digits (void)
{
  GByteArray *p = g_byte_array_new ();
  GBytes *out;

  g_byte_array_append (p, (const guint8 *) "(dp0\nS'w'\np1\nL", 15);
  for (guint i = 0; i < (1u << 20); i++)
    g_byte_array_append (p, (const guint8 *) "9", 1);
  g_byte_array_append (p, (const guint8 *) "L\nsb.", 5);
  out = wrap ((const char *) p->data, p->len);
  g_byte_array_unref (p);
  return out;
}

static GBytes *
pk_text_int_digits (void)
{
  GByteArray *p = g_byte_array_new ();
  GBytes *out;

  g_byte_array_append (p, (const guint8 *) "(dp0\nS'w'\np1\nI", 15);
  for (guint i = 0; i < (1u << 20); i++)
    g_byte_array_append (p, (const guint8 *) "9", 1);
  g_byte_array_append (p, (const guint8 *) "\ns.", 3);
  out = wrap ((const char *) p->data, p->len);
  g_byte_array_unref (p);
  return out;
}

/* --- zip containers: a valid checkpoint, then one field lies --- */

static const char control_pickle[] = "\x80\x02}q\x00" STR1 ("w") TENSOR0 "s.";
static const guint8 storage0[64];

typedef void (*ZipLie) (GByteArray *zip, const FuzzZipLayout *layout);

static GBytes *
zip_with (gboolean  zip64,
          ZipLie    lie)
{
  const FuzzZipEntry entries[] = {
    { "archive/data.pkl", (const guint8 *) control_pickle, sizeof control_pickle - 1 },
    { "archive/data/0", storage0, sizeof storage0 },
    { "archive/version", (const guint8 *) "3\n", 2 },
  };
  FuzzZipLayout layout;
  GByteArray *zip = fuzz_zip_build (entries, G_N_ELEMENTS (entries), zip64, &layout);

  if (lie != NULL)
    lie (zip, &layout);
  return bytes_from_array (zip);
}

static GBytes *zip_control (void) { return zip_with (FALSE, NULL); }
static GBytes *zip64_control (void) { return zip_with (TRUE, NULL); }

static void
lie_locator_past_end (GByteArray *z, const FuzzZipLayout *l)
{
  fuzz_patch (z, l->zip64_locator + 8, G_GUINT64_CONSTANT (1) << 40, 8);
}
static GBytes *zip64_locator_past_end (void) { return zip_with (TRUE, lie_locator_past_end); }

static void
lie_entry_count (GByteArray *z, const FuzzZipLayout *l)
{
  fuzz_patch (z, l->zip64_eocd + 24, G_GUINT64_CONSTANT (1) << 62, 8);
  fuzz_patch (z, l->zip64_eocd + 32, G_GUINT64_CONSTANT (1) << 62, 8);
  fuzz_patch (z, l->eocd + 8, 0xffff, 2);
  fuzz_patch (z, l->eocd + 10, 0xffff, 2);
}
static GBytes *zip64_entry_count (void) { return zip_with (TRUE, lie_entry_count); }

static void
lie_cd_offset (GByteArray *z, const FuzzZipLayout *l)
{
  fuzz_patch (z, l->zip64_eocd + 48, G_GUINT64_CONSTANT (1) << 63, 8);
  fuzz_patch (z, l->eocd + 16, 0xffffffff, 4);
}
static GBytes *zip64_cd_offset (void) { return zip_with (TRUE, lie_cd_offset); }

static void
lie_cd_wraps (GByteArray *z, const FuzzZipLayout *l)
{
  /* offset + size overflows 64 bits and lands inside the file. */
  fuzz_patch (z, l->zip64_eocd + 40, 0x20, 8);
  fuzz_patch (z, l->zip64_eocd + 48, G_MAXUINT64 - 0xf, 8);
  fuzz_patch (z, l->eocd + 12, 0xffffffff, 4);
  fuzz_patch (z, l->eocd + 16, 0xffffffff, 4);
}
static GBytes *zip64_cd_wraps (void) { return zip_with (TRUE, lie_cd_wraps); }

static void
lie_records_disagree (GByteArray *z, const FuzzZipLayout *l)
{
  fuzz_patch (z, l->eocd + 8, 2, 2);
  fuzz_patch (z, l->eocd + 10, 2, 2);
}
static GBytes *zip64_records_disagree (void) { return zip_with (TRUE, lie_records_disagree); }

static void
lie_record_size (GByteArray *z, const FuzzZipLayout *l)
{
  fuzz_patch (z, l->zip64_eocd + 4, G_GUINT64_CONSTANT (1) << 60, 8);
}
static GBytes *zip64_record_size (void) { return zip_with (TRUE, lie_record_size); }

static void
lie_saturated_without_zip64 (GByteArray *z, const FuzzZipLayout *l)
{
  fuzz_patch (z, l->eocd + 8, 0xffff, 2);
  fuzz_patch (z, l->eocd + 10, 0xffff, 2);
}
static GBytes *zip_saturated_without_zip64 (void) { return zip_with (FALSE, lie_saturated_without_zip64); }

static void
lie_count_no_room (GByteArray *z, const FuzzZipLayout *l)
{
  fuzz_patch (z, l->eocd + 8, 0xfffe, 2);
  fuzz_patch (z, l->eocd + 10, 0xfffe, 2);
}
static GBytes *zip_count_no_room (void) { return zip_with (FALSE, lie_count_no_room); }

static void
lie_shared_local_header (GByteArray *z, const FuzzZipLayout *l)
{
  /* The storage's directory entry points at data.pkl's local header. */
  fuzz_patch (z, l->central[1] + 42, l->local[0], 4);
}
static GBytes *zip_shared_local_header (void) { return zip_with (FALSE, lie_shared_local_header); }

static void
lie_local_signature (GByteArray *z, const FuzzZipLayout *l)
{
  fuzz_patch (z, l->local[1], 0x04034b51, 4);
}
static GBytes *zip_local_signature (void) { return zip_with (FALSE, lie_local_signature); }

static void
lie_local_name_length (GByteArray *z, const FuzzZipLayout *l)
{
  fuzz_patch (z, l->local[2] + 26, 0xffff, 2);
}
static GBytes *zip_local_name_length (void) { return zip_with (FALSE, lie_local_name_length); }

static void
lie_encrypted (GByteArray *z, const FuzzZipLayout *l)
{
  fuzz_patch (z, l->central[1] + 8, 1, 2);
}
static GBytes *zip_encrypted (void) { return zip_with (FALSE, lie_encrypted); }

static void
lie_entry_into_directory (GByteArray *z, const FuzzZipLayout *l)
{
  /* version's data runs on into the central directory. */
  fuzz_patch (z, l->central[2] + 20, 2 + 100, 4);
  fuzz_patch (z, l->central[2] + 24, 2 + 100, 4);
}
static GBytes *zip_entry_into_directory (void) { return zip_with (FALSE, lie_entry_into_directory); }

static void
lie_comment_length (GByteArray *z, const FuzzZipLayout *l)
{
  fuzz_patch (z, l->eocd + 20, 100, 2);
}
static GBytes *zip_comment_length (void) { return zip_with (FALSE, lie_comment_length); }

static GBytes *
zip_duplicate_name (void)
{
  const FuzzZipEntry entries[] = {
    { "archive/data.pkl", (const guint8 *) control_pickle, sizeof control_pickle - 1 },
    { "archive/data/0", storage0, sizeof storage0 },
    { "archive/data/0", storage0, sizeof storage0 },
  };

  return bytes_from_array (fuzz_zip_build (entries, G_N_ELEMENTS (entries), FALSE, NULL));
}

static GBytes *
zip_name_not_utf8 (void)
{
  const FuzzZipEntry entries[] = {
    { "archive/data.pkl", (const guint8 *) control_pickle, sizeof control_pickle - 1 },
    { "archive/data/0", storage0, sizeof storage0 },
    { "archive/\xff\xfe", storage0, sizeof storage0 },
  };

  return bytes_from_array (fuzz_zip_build (entries, G_N_ELEMENTS (entries), FALSE, NULL));
}

static GBytes *
zip_torchscript (void)
{
  const FuzzZipEntry entries[] = {
    { "archive/constants.pkl", (const guint8 *) "\x80\x02)." , 4 },
    { "archive/code/__torch__.py", (const guint8 *) "import os\n", 10 },
  };

  return bytes_from_array (fuzz_zip_build (entries, G_N_ELEMENTS (entries), FALSE, NULL));
}

/* --- legacy torch.save files, assembled by hand --- */

typedef struct
{
  const char *view;       /* the persistent id's last field */
  gsize       view_len;
  const char *keys;       /* the storage key list pickle */
  gsize       keys_len;
  guint64     count;      /* the element count before the storage bytes */
  guint64     protocol;
} LegacyParams;

static GBytes *
legacy_with (const LegacyParams *params)
{
  static const guint8 magic[] = {
    0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, '.',
  };
  static const guint8 data[8] = { 0, 0, 0xc0, 0x3f, 0, 0, 0x20, 0xc1 };
  GByteArray *out = g_byte_array_new ();
  g_autoptr(GString) main_pickle = g_string_new (NULL);
  guint8 proto[] = { 0x80, 0x02, 'J', 0, 0, 0, 0, '.' };
  guint8 count[8];

  for (guint i = 0; i < 4; i++)
    proto[3 + i] = (params->protocol >> (8 * i)) & 0xff;
  for (guint i = 0; i < 8; i++)
    count[i] = (params->count >> (8 * i)) & 0xff;

  g_byte_array_append (out, magic, sizeof magic);
  g_byte_array_append (out, proto, sizeof proto);
  g_byte_array_append (out, (const guint8 *) "\x80\x02}.", 4);

#define APPEND_LITERAL(s) g_string_append_len (main_pickle, s, sizeof s - 1)
  APPEND_LITERAL ("\x80\x02}q\x00" STR1 ("w") "ctorch._utils\n_rebuild_tensor_v2\n");
  APPEND_LITERAL ("((X\x07\0\0\0" "storage" "ctorch\nFloatStorage\n" STR1 ("k") "X\x03\0\0\0" "cpu" "K\x02");
  g_string_append_len (main_pickle, params->view, params->view_len);
  APPEND_LITERAL ("tQ" "K\x00" "K\x02\x85" "K\x01\x85" "\x89" "ccollections\nOrderedDict\n)R" "tR" "s.");
#undef APPEND_LITERAL
  g_byte_array_append (out, (const guint8 *) main_pickle->str, main_pickle->len);
  g_byte_array_append (out, (const guint8 *) params->keys, params->keys_len);
  g_byte_array_append (out, count, 8);
  g_byte_array_append (out, data, sizeof data);
  return bytes_from_array (out);
}

#define LEGACY_KEYS "\x80\x02]" STR1 ("k") "a."

/* Literals hold NUL bytes: keep their length. */
#define SET(field, literal) (field = literal, field##_len = sizeof literal - 1)

static LegacyParams
legacy_defaults (void)
{
  return (LegacyParams) { "N", 1, LEGACY_KEYS, sizeof LEGACY_KEYS - 1, 2, 1001 };
}

static GBytes *
legacy_control (void)
{
  LegacyParams p = legacy_defaults ();
  return legacy_with (&p);
}

static GBytes *
legacy_count_huge (void)
{
  LegacyParams p = legacy_defaults ();
  p.count = G_GUINT64_CONSTANT (1) << 63;
  return legacy_with (&p);
}

static GBytes *
legacy_listed_twice (void)
{
  LegacyParams p = legacy_defaults ();
  SET (p.keys, "\x80\x02]" "(" STR1 ("k") STR1 ("k") "e.");
  return legacy_with (&p);
}

static GBytes *
legacy_unknown_key (void)
{
  LegacyParams p = legacy_defaults ();
  SET (p.keys, "\x80\x02]" "(" STR1 ("k") STR1 ("z") "e.");
  return legacy_with (&p);
}

static GBytes *
legacy_view_past_root (void)
{
  LegacyParams p = legacy_defaults ();
  SET (p.view, STR1 ("v") "K\x01" "K\x02" "\x87");
  return legacy_with (&p);
}

static GBytes *
legacy_keys_not_list (void)
{
  LegacyParams p = legacy_defaults ();
  SET (p.keys, "\x80\x02}.");
  return legacy_with (&p);
}

static GBytes *
legacy_protocol (void)
{
  LegacyParams p = legacy_defaults ();
  p.protocol = 0x7fffffff;
  return legacy_with (&p);
}

/* --- safetensors --- */

static GBytes *
safetensors (const char   *header,
             guint64       header_len,
             const guint8 *data,
             gsize         data_len)
{
  GByteArray *out = g_byte_array_new ();
  gsize n = strlen (header);
  guint8 len[8];

  for (guint i = 0; i < 8; i++)
    len[i] = (header_len >> (8 * i)) & 0xff;
  g_byte_array_append (out, len, 8);
  g_byte_array_append (out, (const guint8 *) header, n);
  g_byte_array_append (out, data, data_len);
  return bytes_from_array (out);
}

#define ST(h) safetensors (h, strlen (h), storage0, 16)

static GBytes *
st_control (void)
{
  return ST ("{\"a\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]}}");
}

static GBytes *
st_header_len_max (void)
{
  const char *h = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]}}";

  return safetensors (h, G_MAXUINT64, storage0, 16);
}

static GBytes *
st_offsets_huge (void)
{
  return ST ("{\"a\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[9223372036854775791,9223372036854775807]}}");
}

static GBytes *
st_offsets_negative (void)
{
  return ST ("{\"a\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[-16,0]}}");
}

static GBytes *
st_shape_float (void)
{
  return ST ("{\"a\":{\"dtype\":\"F32\",\"shape\":[2.0,2],\"data_offsets\":[0,16]}}");
}

static GBytes *
st_shape_huge_number (void)
{
  return ST ("{\"a\":{\"dtype\":\"F32\",\"shape\":[1e30,0],\"data_offsets\":[0,0]}}");
}

static GBytes *
st_shape_overflow_to_zero_bytes (void)
{
  /* 2^33 · 2^33 · 2^2 = 2^68 elements: 0 in 64-bit arithmetic that wraps. */
  return ST ("{\"a\":{\"dtype\":\"F32\",\"shape\":[8589934592,8589934592,4],\"data_offsets\":[0,0]}}");
}

static GBytes *
st_nine_dims (void)
{
  return ST ("{\"a\":{\"dtype\":\"U8\",\"shape\":[1,1,1,1,1,1,1,1,1],\"data_offsets\":[0,1]}}");
}

static GBytes *
st_header_nul (void)
{
  static const char h[] = "{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}\0}";

  return safetensors (h, sizeof h - 1, storage0, 16);
}

static GBytes *
st_header_not_utf8 (void)
{
  return ST ("{\"\xff\xfe\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}");
}

static GBytes *
st_offsets_wrong_length (void)
{
  return ST ("{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,8,16]}}");
}

/* Four MB of "0," in the metadata, never closed: a JSON parser that builds
 * a node per value uses tens of bytes for each two of the file. */
#define JSON_BOMB_ITEMS (2 * 1024 * 1024)

static GBytes *
st_json_bomb (void)
{
  GString *h = g_string_sized_new (2 * JSON_BOMB_ITEMS + 64);
  GBytes *out;

  g_string_append (h, "{\"__metadata__\":{\"a\":[");
  for (guint i = 0; i < JSON_BOMB_ITEMS; i++)
    g_string_append (h, "0,");
  out = safetensors (h->str, h->len, NULL, 0);
  g_string_free (h, TRUE);
  return out;
}

/* --- weights cards --- */

#define CARD_HEAD "{\"enum\": \"Hostile_Weights\", \"builder\": \"resnet18\", \"entries\": [" \
                  "{\"name\": \"V1\", \"url\": \"https://example.org/w.pth\", "
#define CARD_TRANSFORMS "\"transforms\": {\"preset\": \"ImageClassification\", \"crop_size\": 224}"
#define CARD(fields) LITERAL (CARD_HEAD fields "}]}")

static GBytes *card_control (void) { return CARD (CARD_TRANSFORMS ", \"meta\": {\"a\": [[1]]}"); }

static GBytes *
card_deep_nesting (void)
{
  GString *s = g_string_new (CARD_HEAD CARD_TRANSFORMS ", \"meta\": {\"a\": ");

  for (guint i = 0; i < N_NESTED; i++)
    g_string_append_c (s, '[');
  for (guint i = 0; i < N_NESTED; i++)
    g_string_append_c (s, ']');
  g_string_append (s, "}}]}");
  return g_string_free_to_bytes (s);
}

static GBytes *
card_wide_array (void)
{
  GString *s = g_string_sized_new (2 * JSON_BOMB_ITEMS + 256);

  g_string_append (s, CARD_HEAD CARD_TRANSFORMS ", \"meta\": {\"a\": [0");
  for (guint i = 1; i < JSON_BOMB_ITEMS; i++)
    g_string_append (s, ",0");
  g_string_append (s, "]}}]}");
  return g_string_free_to_bytes (s);
}

/* 5000 entries: any pairwise work on them is 10^7 steps. */
#define N_CARD_ENTRIES 5000

static GBytes *
card_many_entries (void)
{
  GString *s = g_string_new ("{\"enum\": \"Hostile_Weights\", \"builder\": \"resnet18\", \"entries\": [");

  for (guint i = 0; i < N_CARD_ENTRIES; i++)
    g_string_append_printf (s, "%s{\"name\": \"V%u\", \"url\": \"https://example.org/w.pth\", "
                            CARD_TRANSFORMS "}", i > 0 ? "," : "", i);
  /* The last entry is broken, so that nothing is registered. */
  g_string_append (s, ", {\"name\": 3}]}");
  return g_string_free_to_bytes (s);
}

static GBytes *card_num_classes_huge (void) { return CARD (CARD_TRANSFORMS ", \"num_classes\": 1e300"); }
static GBytes *card_crop_huge (void)
{
  return CARD ("\"transforms\": {\"preset\": \"ImageClassification\", \"crop_size\": 2147483647}");
}
static GBytes *card_not_utf8 (void) { return CARD (CARD_TRANSFORMS ", \"meta\": {\"\xff\": 1}"); }
static GBytes *card_unknown_list (void) { return CARD (CARD_TRANSFORMS ", \"meta\": {\"categories\": {\"$list\": \"../../etc/passwd\"}}"); }

/* --- .npy --- */

static GBytes *
npy (const char *header,
     gsize       data_len)
{
  GByteArray *out = g_byte_array_new ();
  gsize len = strlen (header);
  guint8 preamble[10] = { 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, len & 0xff, len >> 8 };
  g_autofree guint8 *zeros = g_malloc0 (MAX (data_len, 1));

  g_byte_array_append (out, preamble, sizeof preamble);
  g_byte_array_append (out, (const guint8 *) header, len);
  g_byte_array_append (out, zeros, data_len);
  return bytes_from_array (out);
}

#define NPY_HEADER(shape) "{'descr': '<f4', 'fortran_order': False, 'shape': " shape ", }\n"

static GBytes *npy_control (void) { return npy (NPY_HEADER ("(2, 3)"), 24); }
static GBytes *npy_shape_overflow (void) { return npy (NPY_HEADER ("(2147483647, 2147483647, 2147483647, 2147483647)"), 24); }
static GBytes *npy_shape_wraps (void) { return npy (NPY_HEADER ("(1073741824, 1073741824, 16)"), 0); }
static GBytes *npy_shape_negative (void) { return npy (NPY_HEADER ("(-1, 3)"), 24); }
static GBytes *npy_shape_float (void) { return npy (NPY_HEADER ("(1e30,)"), 24); }
static GBytes *npy_nine_dims (void) { return npy (NPY_HEADER ("(1, 1, 1, 1, 1, 1, 1, 1, 1)"), 4); }
static GBytes *npy_data_short (void) { return npy (NPY_HEADER ("(1000, 1000)"), 24); }
static GBytes *npy_dtype (void) { return npy ("{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }\n", 24); }
static GBytes *npy_fortran (void) { return npy ("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }\n", 24); }

static GBytes *
npy_header_past_end (void)
{
  GBytes *b = npy (NPY_HEADER ("(2, 3)"), 0);
  g_autofree guint8 *copy = g_memdup2 (g_bytes_get_data (b, NULL), g_bytes_get_size (b));
  gsize size = g_bytes_get_size (b);

  g_bytes_unref (b);
  copy[8] = 0xff;
  copy[9] = 0xff;
  return g_bytes_new (copy, size);
}

/* --- images: headers that claim more pixels than libtvw decodes --- */

static void
png_chunk (GByteArray   *out,
           const char   *type,
           const guint8 *data,
           guint32       len)
{
  g_autoptr(GByteArray) crc_input = g_byte_array_new ();
  guint8 be[4] = { len >> 24, (len >> 16) & 0xff, (len >> 8) & 0xff, len & 0xff };
  guint32 crc;

  g_byte_array_append (out, be, 4);
  g_byte_array_append (crc_input, (const guint8 *) type, 4);
  g_byte_array_append (crc_input, data, len);
  g_byte_array_append (out, crc_input->data, crc_input->len);
  crc = tvw_crc32 (crc_input->data, crc_input->len);
  be[0] = crc >> 24;
  be[1] = (crc >> 16) & 0xff;
  be[2] = (crc >> 8) & 0xff;
  be[3] = crc & 0xff;
  g_byte_array_append (out, be, 4);
}

/* A PNG with the given header and one IDAT of @idat (compressed already). */
static GBytes *
png (guint32       width,
     guint32       height,
     guint8        depth,
     guint8        color_type,
     const guint8 *idat,
     gsize         idat_len)
{
  GByteArray *out = g_byte_array_new ();
  guint8 ihdr[13] = {
    width >> 24, (width >> 16) & 0xff, (width >> 8) & 0xff, width & 0xff,
    height >> 24, (height >> 16) & 0xff, (height >> 8) & 0xff, height & 0xff,
    depth, color_type, 0, 0, 0,
  };

  g_byte_array_append (out, (const guint8 *) "\x89PNG\r\n\x1a\n", 8);
  png_chunk (out, "IHDR", ihdr, sizeof ihdr);
  png_chunk (out, "IDAT", idat, idat_len);
  png_chunk (out, "IEND", NULL, 0);
  return bytes_from_array (out);
}

/* zlib of one 2×2 RGB8 image: filter byte + 6 bytes per row. */
static GBytes *
png_control (void)
{
  static const guint8 raw[14] = { 0, 255, 0, 0, 0, 255, 0, 0, 0, 0, 255, 9, 9, 9 };
  g_autoptr(GZlibCompressor) z = g_zlib_compressor_new (G_ZLIB_COMPRESSOR_FORMAT_ZLIB, 9);
  guint8 out[128];
  gsize read = 0, written = 0;

  g_converter_convert (G_CONVERTER (z), raw, sizeof raw, out, sizeof out,
                       G_CONVERTER_INPUT_AT_END, &read, &written, NULL);
  return png (2, 2, 8, 2, out, written);
}

static const guint8 tiny_idat[] = { 0x78, 0x9c, 0x63, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01 };

static GBytes *png_huge (void) { return png (100000, 100000, 8, 2, tiny_idat, sizeof tiny_idat); }
static GBytes *png_gray16_huge (void) { return png (100000, 100000, 16, 0, tiny_idat, sizeof tiny_idat); }
/* libpng's own limit is 10^6 pixels a side: this one gets past it. */
static GBytes *png_wide (void) { return png (1000000, 269, 8, 6, tiny_idat, sizeof tiny_idat); }
/* Inside the limit (2^28 pixels) but with almost no data: our own 16-bit
 * decoder must not touch memory for pixels that never come. */
static GBytes *png_gray16_no_data (void) { return png (16384, 16384, 16, 0, tiny_idat, sizeof tiny_idat); }

static GBytes *
saved_image (const char *type)
{
  g_autoptr(GdkPixbuf) pixbuf = gdk_pixbuf_new (GDK_COLORSPACE_RGB, FALSE, 8, 4, 4);
  g_autoptr(GError) error = NULL;
  char *buffer = NULL;
  gsize size = 0;

  gdk_pixbuf_fill (pixbuf, 0x336699ff);
  if (!gdk_pixbuf_save_to_buffer (pixbuf, &buffer, &size, type, &error, NULL))
    g_error ("cannot write a %s image: %s", type, error->message);
  return g_bytes_new_take (buffer, size);
}

static GBytes *jpeg_control (void) { return saved_image ("jpeg"); }

static GBytes *
jpeg_huge (void)
{
  GBytes *jpeg = saved_image ("jpeg");
  gsize size;
  guint8 *data = g_memdup2 (g_bytes_get_data (jpeg, &size), g_bytes_get_size (jpeg));

  g_bytes_unref (jpeg);
  /* Baseline frame header: FF C0, length, precision, height, width. */
  for (gsize i = 0; i + 9 < size; i++)
    if (data[i] == 0xff && data[i + 1] == 0xc0)
      {
        data[i + 5] = data[i + 7] = 0xff;
        data[i + 6] = data[i + 8] = 0xdc;    /* 65500 × 65500 */
        return g_bytes_new_take (data, size);
      }
  g_error ("no SOF0 marker in the JPEG gdk-pixbuf wrote");
}

/* A 1×1 GIF89a, then with a 65535 × 65535 screen and frame. */
static const guint8 gif[] = {
  'G', 'I', 'F', '8', '9', 'a', 1, 0, 1, 0, 0x80, 0, 0, 0xff, 0xff, 0xff, 0, 0, 0,
  0x2c, 0, 0, 0, 0, 1, 0, 1, 0, 0, 2, 2, 0x44, 0x01, 0, 0x3b,
};

static GBytes *gif_control (void) { return g_bytes_new_static (gif, sizeof gif); }

static GBytes *
gif_huge (void)
{
  guint8 *data = g_memdup2 (gif, sizeof gif);

  data[6] = data[7] = data[8] = data[9] = 0xff;
  data[24] = data[25] = data[26] = data[27] = 0xff;
  return g_bytes_new_take (data, sizeof gif);
}

/* A frame 0 pixels wide: gdk-pixbuf's GIF loader would fail a precondition
 * (a critical, which the test suite makes fatal) allocating it. */
static GBytes *
gif_empty_frame (void)
{
  guint8 *data = g_memdup2 (gif, sizeof gif);

  data[24] = 0;
  return g_bytes_new_take (data, sizeof gif);
}

/* A good frame, a graphic control extension, then a frame 0 pixels high
 * with a local colour table: the check follows the blocks to it. */
static GBytes *
gif_second_frame_empty (void)
{
  static const guint8 rest[] = {
    0x21, 0xf9, 4, 0, 10, 0, 0, 0,
    0x2c, 0, 0, 0, 0, 1, 0, 0, 0, 0x80, 0, 0, 0, 0xff, 0xff, 0xff,
    2, 2, 0x44, 0x01, 0, 0x3b,
  };
  GByteArray *data = g_byte_array_new ();

  g_byte_array_append (data, gif, sizeof gif - 1);    /* without its trailer */
  g_byte_array_append (data, rest, sizeof rest);
  return g_byte_array_free_to_bytes (data);
}

static GBytes *bmp_control (void) { return saved_image ("bmp"); }

static GBytes *
bmp_huge (void)
{
  GBytes *bmp = saved_image ("bmp");
  gsize size = g_bytes_get_size (bmp);
  guint8 *data = g_memdup2 (g_bytes_get_data (bmp, NULL), size);

  g_bytes_unref (bmp);
  /* BITMAPINFOHEADER width and height, little-endian int32: 100 000. */
  data[18] = data[22] = 0xa0;
  data[19] = data[23] = 0x86;
  data[20] = data[24] = 0x01;
  data[21] = data[25] = 0x00;
  return g_bytes_new_take (data, size);
}

/* A valid 4×4 BMP whose pixel data offset says 512 MB.  fuzz-image found
 * the same with the info header size (3.7 GB); this is enough to show it. */
static GBytes *
bmp_data_offset (void)
{
  GBytes *bmp = saved_image ("bmp");
  gsize size = g_bytes_get_size (bmp);
  guint8 *data = g_memdup2 (g_bytes_get_data (bmp, NULL), size);

  g_bytes_unref (bmp);
  data[10] = data[11] = data[12] = 0x00;
  data[13] = 0x20;
  return g_bytes_new_take (data, size);
}

/* --- round 2: what got past the checks above --- */

/* Names that all share one g_str_hash() value: "Az" and "BY" hash alike
 * (65·33 + 122 = 66·33 + 89), so every string of n such blocks does. */
static char *
colliding_name (const char *prefix,
                guint       i,
                guint       n_blocks)
{
  GString *s = g_string_new (prefix);

  for (guint b = 0; b < n_blocks; b++)
    g_string_append (s, (i >> b) & 1 ? "BY" : "Az");
  return g_string_free (s, FALSE);
}

#define N_COLLIDING 60000

/* json-glib 1.6 also reads single quotes and comments: a quote inside them
 * must not hide what follows from the checks. */
static GBytes *
card_quote_then_nesting (const char *token)
{
  GString *s = g_string_new (CARD_HEAD CARD_TRANSFORMS ", \"meta\": {\"q\": ");

  g_string_append (s, token);
  g_string_append (s, ", \"a\": ");
  for (guint i = 0; i < 200000; i++)
    g_string_append_c (s, '[');
  for (guint i = 0; i < 200000; i++)
    g_string_append_c (s, ']');
  g_string_append (s, "}}]}");
  return g_string_free_to_bytes (s);
}

static GBytes *card_single_quote_nesting (void) { return card_quote_then_nesting ("'\"'"); }
static GBytes *card_comment_nesting (void) { return card_quote_then_nesting ("1 /* \" */"); }

static GBytes *
st_quote_then (const char *token,
               const char *item,
               guint       n)
{
  GString *h = g_string_new ("{\"__metadata__\": {\"q\": ");
  GBytes *out;

  g_string_append (h, token);
  g_string_append (h, ", \"a\": [");
  for (guint i = 0; i < n; i++)
    g_string_append (h, item);
  g_string_append (h, "0]}}");
  out = safetensors (h->str, h->len, NULL, 0);
  g_string_free (h, TRUE);
  return out;
}

static GBytes *st_single_quote_nesting (void) { return st_quote_then ("'\"'", "[", 200000); }
/* 4 MB of values the old count could not see. */
static GBytes *st_comment_values (void) { return st_quote_then ("/* \" */ 1", "0,", JSON_BOMB_ITEMS); }

static GBytes *
st_colliding_names (void)
{
  GString *h = g_string_new ("{");
  GBytes *out;

  /* Fewer than the 16384 members an object may have. */
  for (guint i = 0; i < 16000; i++)
    {
      g_autofree char *name = colliding_name ("t", i, 16);

      g_string_append_printf (h, "%s\"%s\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[0,0]}",
                              i > 0 ? "," : "", name);
    }
  g_string_append (h, "}");
  out = safetensors (h->str, h->len, NULL, 0);
  g_string_free (h, TRUE);
  return out;
}

/* 8000 names, then the last one 8000 times again: json-glib looks each
 * repeat up in the list of names, from the start. */
static GBytes *
st_repeated_name (void)
{
  GString *h = g_string_new ("{\"__metadata__\": {");
  GBytes *out;

  for (guint i = 0; i < 16000; i++)
    g_string_append_printf (h, "%s\"k%u\":\"v\"", i > 0 ? "," : "", MIN (i, 7999));
  g_string_append (h, "}}");
  out = safetensors (h->str, h->len, NULL, 0);
  g_string_free (h, TRUE);
  return out;
}

static GBytes *
card_repeated_name (void)
{
  return CARD (CARD_TRANSFORMS ", \"meta\": {\"a\": 1, \"a\": 2}");
}

/* A 2 MB builder name: the "did you mean" edit distance must not see it
 * whole. */
static GBytes *
card_long_builder (void)
{
  GString *s = g_string_new ("{\"enum\": \"Hostile_Weights\", \"builder\": \"");

  for (guint i = 0; i < 2 * 1024 * 1024; i++)
    g_string_append_c (s, "resnet"[i % 6]);
  g_string_append (s, "\", \"entries\": [{\"name\": \"V1\", \"url\": \"https://example.org/w.pth\", "
                   CARD_TRANSFORMS "}]}");
  return g_string_free_to_bytes (s);
}

/* A checkpoint whose 30 000 tensors have names sharing one g_str_hash():
 * 4.5 · 10^8 string comparisons in an unseeded table. */
static GBytes *
pk_colliding_names (void)
{
  static const char head[] = "\x80\x02}q\x00" STR1 ("w") TENSOR0 "q\x01" "s";
  GByteArray *p = g_byte_array_new ();
  GBytes *out;

  g_byte_array_append (p, (const guint8 *) head, sizeof head - 1);
  for (guint i = 0; i < N_COLLIDING / 2; i++)
    {
      g_autofree char *name = colliding_name ("features.10.block.2.fc1.weight.", i, 16);
      guint8 len[4] = { (guint8) strlen (name), 0, 0, 0 };

      g_byte_array_append (p, (const guint8 *) "X", 1);
      g_byte_array_append (p, len, 4);
      g_byte_array_append (p, (const guint8 *) name, strlen (name));
      g_byte_array_append (p, (const guint8 *) "h\x01s", 3);
    }
  g_byte_array_append (p, (const guint8 *) ".", 1);
  out = wrap ((const char *) p->data, p->len);
  g_byte_array_unref (p);
  return out;
}

/* A 1 MiB key set 131 072 times, through a second, equal string, and a
 * third that differs in its last byte: compared in full each time, that is
 * hundreds of gigabytes. */
#define BIG_KEY (1 << 20)
#define N_RESET (1 << 17)

static GBytes *
pk_big_key_reset (void)
{
  GByteArray *p = g_byte_array_new ();
  g_autofree char *key = g_malloc (BIG_KEY);
  guint8 len[4] = { BIG_KEY & 0xff, (BIG_KEY >> 8) & 0xff, (BIG_KEY >> 16) & 0xff, 0 };
  GBytes *out;

  memset (key, 'k', BIG_KEY);
  g_byte_array_append (p, (const guint8 *) "\x80\x02}", 3);
  g_byte_array_append (p, (const guint8 *) TENSOR0 "q\x01" "0", sizeof (TENSOR0 "q\x01" "0") - 1);
  for (guint k = 0; k < 3; k++)
    {
      guint8 put[] = { 'q', (guint8) (2 + k) };

      if (k == 2)
        key[BIG_KEY - 1] = 'z';
      g_byte_array_append (p, (const guint8 *) "X", 1);
      g_byte_array_append (p, len, 4);
      g_byte_array_append (p, (const guint8 *) key, BIG_KEY);
      g_byte_array_append (p, put, 2);
      g_byte_array_append (p, (const guint8 *) "h\x01s", 3);
    }
  for (guint i = 0; i < N_RESET; i++)
    {
      guint8 op[] = { 'h', (guint8) (2 + i % 3), 'h', 1, 's' };

      g_byte_array_append (p, op, sizeof op);
    }
  g_byte_array_append (p, (const guint8 *) ".", 1);
  out = wrap ((const char *) p->data, p->len);
  g_byte_array_unref (p);
  return out;
}

static GBytes *
zip_colliding_names (void)
{
  FuzzZipEntry *entries = g_new0 (FuzzZipEntry, N_COLLIDING + 3);
  GPtrArray *names = g_ptr_array_new_with_free_func (g_free);
  GBytes *out;

  entries[0] = (FuzzZipEntry) { "archive/data.pkl", (const guint8 *) control_pickle, sizeof control_pickle - 1 };
  entries[1] = (FuzzZipEntry) { "archive/data/0", storage0, sizeof storage0 };
  entries[2] = (FuzzZipEntry) { "archive/version", (const guint8 *) "3\n", 2 };
  for (guint i = 0; i < N_COLLIDING; i++)
    {
      char *name = colliding_name ("archive/extra/", i, 16);

      g_ptr_array_add (names, name);
      entries[3 + i] = (FuzzZipEntry) { name, storage0, 0 };
    }
  out = bytes_from_array (fuzz_zip_build (entries, N_COLLIDING + 3, FALSE, NULL));
  g_ptr_array_unref (names);
  g_free (entries);
  return out;
}

/* 32×32 RGB with an IDAT for 4 rows, then IEND. */
static GBytes *
png_short_idat (void)
{
  guint8 raw[4 * (1 + 32 * 3)] = { 0, };
  g_autoptr(GZlibCompressor) z = g_zlib_compressor_new (G_ZLIB_COMPRESSOR_FORMAT_ZLIB, 9);
  guint8 out[512];
  gsize read = 0, written = 0;

  g_converter_convert (G_CONVERTER (z), raw, sizeof raw, out, sizeof out,
                       G_CONVERTER_INPUT_AT_END, &read, &written, NULL);
  return png (32, 32, 8, 2, out, written);
}

/* 69 bytes, 16384 × 16384 RGB (inside the pixel limit): 0.8 GB decoded. */
static GBytes *png_tiny_huge (void) { return png (16384, 16384, 8, 2, tiny_idat, sizeof tiny_idat); }

static GBytes *
pnm (gsize data_len)
{
  GByteArray *out = g_byte_array_new ();
  static const char head[] = "P6\n# comment\n10 10\n255\n";

  g_byte_array_append (out, (const guint8 *) head, sizeof head - 1);
  for (gsize i = 0; i < data_len; i++)
    g_byte_array_append (out, (const guint8 *) "\x80", 1);
  return bytes_from_array (out);
}

static GBytes *pnm_control (void) { return pnm (300); }
static GBytes *pnm_truncated (void) { return pnm (150); }

static GBytes *
svg_blur (void)
{
  return LITERAL ("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"9000\" height=\"9000\">"
                  "<filter id=\"f\"><feGaussianBlur stdDeviation=\"900\"/></filter>"
                  "<rect width=\"9000\" height=\"9000\" filter=\"url(#f)\"/></svg>");
}

/* ------------------------------------------------------------------------ */
/* The set */

#define SYS_REASON "is not allowed"
#define IMAGE_TOO_BIG "more than the 268435456"

static const HostileCase cases[] = {
  /* Pickles: code execution. */
  { "/tvw/hostile/pickle/reduce-os-system", KIND_CHECKPOINT, pk_os_system, TVW_ERROR_INVALID_DATA, "'os.system' " SYS_REASON },
  { "/tvw/hostile/pickle/builtins-getattr", KIND_CHECKPOINT, pk_builtins_getattr, TVW_ERROR_INVALID_DATA, "'builtins.getattr' " SYS_REASON },
  { "/tvw/hostile/pickle/copyreg-reconstructor", KIND_CHECKPOINT, pk_copyreg_reconstructor, TVW_ERROR_INVALID_DATA, "'copyreg._reconstructor' " SYS_REASON },
  { "/tvw/hostile/pickle/torch-load-from-bytes", KIND_CHECKPOINT, pk_load_from_bytes, TVW_ERROR_INVALID_DATA, "'torch.storage._load_from_bytes' " SYS_REASON },
  { "/tvw/hostile/pickle/stack-global-import", KIND_CHECKPOINT, pk_stack_global_import, TVW_ERROR_INVALID_DATA, "'builtins.__import__' " SYS_REASON },
  { "/tvw/hostile/pickle/extension-registry", KIND_CHECKPOINT, pk_extension_registry, TVW_ERROR_INVALID_DATA, "extension registry" },
  { "/tvw/hostile/pickle/build-on-a-class", KIND_CHECKPOINT, pk_build_on_class, TVW_ERROR_INVALID_DATA, "BUILD" },
  { "/tvw/hostile/pickle/newobj-storage", KIND_CHECKPOINT, pk_newobj_storage, TVW_ERROR_INVALID_DATA, "NEWOBJ" },
  { "/tvw/hostile/pickle/obj-opcode", KIND_CHECKPOINT, pk_obj_opcode, TVW_ERROR_INVALID_DATA, "class instantiation" },
  /* Pickles: __reduce__ with allowed callables and wrong arguments. */
  { "/tvw/hostile/pickle/reduce-not-callable", KIND_CHECKPOINT, pk_reduce_not_callable, TVW_ERROR_INVALID_DATA, "not callable" },
  { "/tvw/hostile/pickle/reduce-arguments-not-tuple", KIND_CHECKPOINT, pk_reduce_args_not_tuple, TVW_ERROR_INVALID_DATA, "tuple" },
  { "/tvw/hostile/pickle/rebuild-tensor-from-string", KIND_CHECKPOINT, pk_rebuild_tensor_string_storage, TVW_ERROR_INVALID_DATA, "storage" },
  { "/tvw/hostile/pickle/rebuild-tensor-few-arguments", KIND_CHECKPOINT, pk_rebuild_tensor_few_args, TVW_ERROR_INVALID_DATA, "_rebuild_tensor_v2" },
  { "/tvw/hostile/pickle/rebuild-parameter-not-tensor", KIND_CHECKPOINT, pk_rebuild_parameter_not_tensor, TVW_ERROR_INVALID_DATA, "_rebuild_parameter" },
  { "/tvw/hostile/pickle/storage-key-path-traversal", KIND_CHECKPOINT, pk_storage_key_traversal, TVW_ERROR_INVALID_DATA, "has no zip entry 'archive/data/../../../etc/passwd'" },
  { "/tvw/hostile/pickle/storage-type-not-storage", KIND_CHECKPOINT, pk_storage_type_not_storage, TVW_ERROR_INVALID_DATA, "not a torch storage class" },
  { "/tvw/hostile/pickle/text-persistent-id", KIND_CHECKPOINT, pk_text_persistent_id, TVW_ERROR_INVALID_DATA, "not a tuple" },
  { "/tvw/hostile/pickle/storage-numel-lies", KIND_CHECKPOINT, pk_storage_numel_lies, TVW_ERROR_INVALID_DATA, "needs 68" },
  /* Pickles: self-reference, nesting, memo and length bombs. */
  { "/tvw/hostile/pickle/dict-contains-itself", KIND_CHECKPOINT, pk_dict_contains_itself, TVW_ERROR_INVALID_DATA, "'a' is a dict, not a tensor" },
  { "/tvw/hostile/pickle/wrapper-contains-itself", KIND_CHECKPOINT, pk_wrapper_contains_itself, TVW_ERROR_INVALID_DATA, "'state_dict' is a dict, not a tensor" },
  { "/tvw/hostile/pickle/list-tuple-cycle", KIND_CHECKPOINT, pk_list_tuple_cycle, TVW_ERROR_INVALID_DATA, "not a state_dict" },
  { "/tvw/hostile/pickle/nested-dicts", KIND_CHECKPOINT, pk_nested_dicts, TVW_ERROR_INVALID_DATA, "nested more than" },
  { "/tvw/hostile/pickle/memoize-bomb", KIND_CHECKPOINT, pk_memoize_bomb, TVW_ERROR_INVALID_DATA, "memo entries" },
  { "/tvw/hostile/pickle/memo-index-huge", KIND_CHECKPOINT, pk_memo_index_huge, TVW_ERROR_INVALID_DATA, "memo entries" },
  { "/tvw/hostile/pickle/shared-reference-bomb", KIND_CHECKPOINT, pk_dag_bomb, TVW_ERROR_INVALID_DATA, "'w' is a list, not a tensor" },
  { "/tvw/hostile/pickle/binunicode8-length", KIND_CHECKPOINT, pk_binunicode8_huge, TVW_ERROR_INVALID_DATA, "truncated" },
  { "/tvw/hostile/pickle/binbytes8-length", KIND_CHECKPOINT, pk_binbytes8_huge, TVW_ERROR_INVALID_DATA, "truncated" },
  { "/tvw/hostile/pickle/long4-length", KIND_CHECKPOINT, pk_long4_huge, TVW_ERROR_INVALID_DATA, "truncated" },
  { "/tvw/hostile/pickle/binstring-negative-length", KIND_CHECKPOINT, pk_binstring_negative, TVW_ERROR_INVALID_DATA, "" },
  { "/tvw/hostile/pickle/text-long-million-digits", KIND_CHECKPOINT, pk_text_long_digits, TVW_ERROR_INVALID_DATA, "bad integer literal" },
  { "/tvw/hostile/pickle/text-int-million-digits", KIND_CHECKPOINT, pk_text_int_digits, TVW_ERROR_INVALID_DATA, "bad integer literal" },
  /* zip containers. */
  { "/tvw/hostile/zip/zip64-locator-past-end", KIND_CHECKPOINT, zip64_locator_past_end, TVW_ERROR_INVALID_DATA, "lies outside the file" },
  { "/tvw/hostile/zip/zip64-entry-count", KIND_CHECKPOINT, zip64_entry_count, TVW_ERROR_INVALID_DATA, "more than it can hold" },
  { "/tvw/hostile/zip/zip64-directory-offset", KIND_CHECKPOINT, zip64_cd_offset, TVW_ERROR_INVALID_DATA, "central directory lies outside the file" },
  { "/tvw/hostile/zip/zip64-directory-wraps-around", KIND_CHECKPOINT, zip64_cd_wraps, TVW_ERROR_INVALID_DATA, "central directory lies outside the file" },
  { "/tvw/hostile/zip/zip64-records-disagree", KIND_CHECKPOINT, zip64_records_disagree, TVW_ERROR_INVALID_DATA, "disagree" },
  { "/tvw/hostile/zip/zip64-record-size", KIND_CHECKPOINT, zip64_record_size, TVW_ERROR_INVALID_DATA, "bad zip64 end of central directory record" },
  { "/tvw/hostile/zip/saturated-without-zip64", KIND_CHECKPOINT, zip_saturated_without_zip64, TVW_ERROR_INVALID_DATA, "without a zip64" },
  { "/tvw/hostile/zip/entry-count-no-room", KIND_CHECKPOINT, zip_count_no_room, TVW_ERROR_INVALID_DATA, "more than it can hold" },
  { "/tvw/hostile/zip/shared-local-header", KIND_CHECKPOINT, zip_shared_local_header, TVW_ERROR_INVALID_DATA, "different name in its local header" },
  { "/tvw/hostile/zip/local-signature", KIND_CHECKPOINT, zip_local_signature, TVW_ERROR_INVALID_DATA, "bad local header signature" },
  { "/tvw/hostile/zip/local-name-length", KIND_CHECKPOINT, zip_local_name_length, TVW_ERROR_INVALID_DATA, "lies outside the file" },
  { "/tvw/hostile/zip/encrypted", KIND_CHECKPOINT, zip_encrypted, TVW_ERROR_INVALID_DATA, "encrypted" },
  { "/tvw/hostile/zip/entry-into-directory", KIND_CHECKPOINT, zip_entry_into_directory, TVW_ERROR_INVALID_DATA, "extends past the end" },
  { "/tvw/hostile/zip/comment-length", KIND_CHECKPOINT, zip_comment_length, TVW_ERROR_INVALID_DATA, "end of central directory record not found" },
  { "/tvw/hostile/zip/duplicate-name", KIND_CHECKPOINT, zip_duplicate_name, TVW_ERROR_INVALID_DATA, "appears twice" },
  { "/tvw/hostile/zip/name-not-utf8", KIND_CHECKPOINT, zip_name_not_utf8, TVW_ERROR_INVALID_DATA, "invalid name" },
  { "/tvw/hostile/zip/torchscript-archive", KIND_CHECKPOINT, zip_torchscript, TVW_ERROR_INVALID_DATA, "TorchScript" },
  /* Legacy files. */
  { "/tvw/hostile/legacy/storage-count-huge", KIND_CHECKPOINT, legacy_count_huge, TVW_ERROR_INVALID_DATA, "elements in the file" },
  { "/tvw/hostile/legacy/storage-listed-twice", KIND_CHECKPOINT, legacy_listed_twice, TVW_ERROR_INVALID_DATA, "listed twice" },
  { "/tvw/hostile/legacy/storage-unknown-key", KIND_CHECKPOINT, legacy_unknown_key, TVW_ERROR_INVALID_DATA, "no tensor uses it" },
  { "/tvw/hostile/legacy/view-past-root", KIND_CHECKPOINT, legacy_view_past_root, TVW_ERROR_INVALID_DATA, "lies outside storage" },
  { "/tvw/hostile/legacy/keys-not-a-list", KIND_CHECKPOINT, legacy_keys_not_list, TVW_ERROR_INVALID_DATA, "not a list" },
  { "/tvw/hostile/legacy/protocol-version", KIND_CHECKPOINT, legacy_protocol, TVW_ERROR_INVALID_DATA, "protocol version" },
  /* safetensors. */
  { "/tvw/hostile/safetensors/header-length-max", KIND_CHECKPOINT, st_header_len_max, TVW_ERROR_INVALID_DATA, "larger than the file" },
  { "/tvw/hostile/safetensors/offsets-huge", KIND_CHECKPOINT, st_offsets_huge, TVW_ERROR_INVALID_DATA, "outside the data area" },
  { "/tvw/hostile/safetensors/offsets-negative", KIND_CHECKPOINT, st_offsets_negative, TVW_ERROR_INVALID_DATA, "outside the data area" },
  { "/tvw/hostile/safetensors/shape-float", KIND_CHECKPOINT, st_shape_float, TVW_ERROR_INVALID_DATA, "non-integer size" },
  { "/tvw/hostile/safetensors/shape-huge-number", KIND_CHECKPOINT, st_shape_huge_number, TVW_ERROR_INVALID_DATA, "non-integer size" },
  { "/tvw/hostile/safetensors/shape-wraps-to-zero", KIND_CHECKPOINT, st_shape_overflow_to_zero_bytes, TVW_ERROR_INVALID_DATA, "too many elements" },
  { "/tvw/hostile/safetensors/nine-dims", KIND_CHECKPOINT, st_nine_dims, TVW_ERROR_INVALID_DATA, "9 dimensions" },
  { "/tvw/hostile/safetensors/header-nul", KIND_CHECKPOINT, st_header_nul, TVW_ERROR_INVALID_DATA, "not valid UTF-8" },
  { "/tvw/hostile/safetensors/header-not-utf8", KIND_CHECKPOINT, st_header_not_utf8, TVW_ERROR_INVALID_DATA, "not valid UTF-8" },
  { "/tvw/hostile/safetensors/offsets-wrong-length", KIND_CHECKPOINT, st_offsets_wrong_length, TVW_ERROR_INVALID_DATA, "no valid data_offsets" },
  { "/tvw/hostile/safetensors/json-bomb", KIND_CHECKPOINT, st_json_bomb, TVW_ERROR_INVALID_DATA, "safetensors header" },
  /* Weights cards. */
  { "/tvw/hostile/card/deep-nesting", KIND_CARD, card_deep_nesting, TVW_ERROR_INVALID_DATA, "nest" },
  { "/tvw/hostile/card/wide-array", KIND_CARD, card_wide_array, TVW_ERROR_INVALID_DATA, "" },
  { "/tvw/hostile/card/many-entries", KIND_CARD, card_many_entries, TVW_ERROR_INVALID_DATA, "entries[5000].name" },
  { "/tvw/hostile/card/num-classes-huge", KIND_CARD, card_num_classes_huge, TVW_ERROR_INVALID_DATA, "num_classes" },
  { "/tvw/hostile/card/crop-size-huge", KIND_CARD, card_crop_huge, TVW_ERROR_INVALID_DATA, "crop_size" },
  { "/tvw/hostile/card/not-utf8", KIND_CARD, card_not_utf8, TVW_ERROR_INVALID_DATA, "not valid JSON" },
  { "/tvw/hostile/card/unknown-list", KIND_CARD, card_unknown_list, TVW_ERROR_INVALID_DATA, "unknown list" },
  /* .npy (tvw forward --input). */
  { "/tvw/hostile/npy/shape-overflow", KIND_NPY, npy_shape_overflow, TVW_ERROR_INVALID_DATA, "too large" },
  { "/tvw/hostile/npy/shape-wraps-to-zero", KIND_NPY, npy_shape_wraps, TVW_ERROR_INVALID_DATA, "too large" },
  { "/tvw/hostile/npy/shape-negative", KIND_NPY, npy_shape_negative, TVW_ERROR_INVALID_DATA, "bad shape" },
  { "/tvw/hostile/npy/shape-float", KIND_NPY, npy_shape_float, TVW_ERROR_INVALID_DATA, "bad shape" },
  { "/tvw/hostile/npy/nine-dims", KIND_NPY, npy_nine_dims, TVW_ERROR_INVALID_DATA, "bad shape" },
  { "/tvw/hostile/npy/data-short", KIND_NPY, npy_data_short, TVW_ERROR_INVALID_DATA, "does not match" },
  { "/tvw/hostile/npy/header-past-end", KIND_NPY, npy_header_past_end, TVW_ERROR_INVALID_DATA, "truncated header" },
  { "/tvw/hostile/npy/float64", KIND_NPY, npy_dtype, TVW_ERROR_INVALID_DATA, "'<f4'" },
  { "/tvw/hostile/npy/fortran-order", KIND_NPY, npy_fortran, TVW_ERROR_INVALID_DATA, "Fortran" },
  /* Images: refused from the header, before the pixels are allocated
   * (TVW_ERROR_INVALID_ARGUMENT, as tvw-image-private.h documents for a
   * size out of range), or refused as truncated. */
  { "/tvw/hostile/image/png-100000x100000", KIND_IMAGE, png_huge, TVW_ERROR_INVALID_ARGUMENT, IMAGE_TOO_BIG },
  { "/tvw/hostile/image/png-gray16-100000x100000", KIND_IMAGE, png_gray16_huge, TVW_ERROR_INVALID_ARGUMENT, IMAGE_TOO_BIG },
  { "/tvw/hostile/image/png-1000000x269", KIND_IMAGE, png_wide, TVW_ERROR_INVALID_ARGUMENT, IMAGE_TOO_BIG },
  { "/tvw/hostile/image/png-gray16-no-pixel-data", KIND_IMAGE, png_gray16_no_data, TVW_ERROR_INVALID_DATA, "truncated" },
  { "/tvw/hostile/image/jpeg-65500x65500", KIND_IMAGE, jpeg_huge, TVW_ERROR_INVALID_ARGUMENT, IMAGE_TOO_BIG },
  { "/tvw/hostile/image/gif-65535x65535", KIND_IMAGE, gif_huge, TVW_ERROR_INVALID_ARGUMENT, IMAGE_TOO_BIG },
  { "/tvw/hostile/image/gif-frame-0-wide", KIND_IMAGE, gif_empty_frame, TVW_ERROR_INVALID_DATA, "GIF frame is 0 pixels" },
  { "/tvw/hostile/image/gif-second-frame-0-high", KIND_IMAGE, gif_second_frame_empty, TVW_ERROR_INVALID_DATA, "GIF frame is 0 pixels" },
  { "/tvw/hostile/image/bmp-100000x100000", KIND_IMAGE, bmp_huge, TVW_ERROR_INVALID_ARGUMENT, IMAGE_TOO_BIG },
  { "/tvw/hostile/image/bmp-data-offset-512mb", KIND_IMAGE, bmp_data_offset, TVW_ERROR_INVALID_DATA, "" },
  /* Round 2: JSON that is not strict JSON, names made to collide, repeated
   * and huge keys, a huge builder name, short images, formats Pillow does
   * not read. */
  { "/tvw/hostile/card/single-quote-then-nesting", KIND_CARD, card_single_quote_nesting, TVW_ERROR_INVALID_DATA, "single quote" },
  { "/tvw/hostile/card/comment-then-nesting", KIND_CARD, card_comment_nesting, TVW_ERROR_INVALID_DATA, "comment" },
  { "/tvw/hostile/card/repeated-member-name", KIND_CARD, card_repeated_name, TVW_ERROR_INVALID_DATA, "“a” appears twice" },
  { "/tvw/hostile/card/builder-name-2mb", KIND_CARD, card_long_builder, TVW_ERROR_INVALID_DATA, "unknown model" },
  { "/tvw/hostile/safetensors/single-quote-then-nesting", KIND_CHECKPOINT, st_single_quote_nesting, TVW_ERROR_INVALID_DATA, "single quote" },
  { "/tvw/hostile/safetensors/comment-hides-values", KIND_CHECKPOINT, st_comment_values, TVW_ERROR_INVALID_DATA, "comment" },
  { "/tvw/hostile/safetensors/colliding-names", KIND_CHECKPOINT, st_colliding_names, TVW_ERROR_INVALID_DATA, "same hash value" },
  { "/tvw/hostile/safetensors/repeated-name", KIND_CHECKPOINT, st_repeated_name, TVW_ERROR_INVALID_DATA, "“k7999” appears twice" },
  { "/tvw/hostile/image/png-short-pixel-data-with-iend", KIND_IMAGE, png_short_idat, TVW_ERROR_INVALID_DATA, "image file is truncated" },
  { "/tvw/hostile/image/png-69-bytes-16384x16384", KIND_IMAGE, png_tiny_huge, TVW_ERROR_INVALID_DATA, "image file is truncated" },
  { "/tvw/hostile/image/pnm-truncated", KIND_IMAGE, pnm_truncated, TVW_ERROR_INVALID_DATA, "image file is truncated" },
  { "/tvw/hostile/image/svg-blur", KIND_IMAGE, svg_blur, TVW_ERROR_INVALID_DATA, "not an image in a format libtvw reads" },
};

/* Each construction without its lie loads. */
static const HostileCase controls[] = {
  { "/tvw/hostile/control/pickle", KIND_CHECKPOINT, pk_control, 0, NULL },
  { "/tvw/hostile/control/zip", KIND_CHECKPOINT, zip_control, 0, NULL },
  { "/tvw/hostile/control/zip64", KIND_CHECKPOINT, zip64_control, 0, NULL },
  { "/tvw/hostile/control/legacy", KIND_CHECKPOINT, legacy_control, 0, NULL },
  { "/tvw/hostile/control/safetensors", KIND_CHECKPOINT, st_control, 0, NULL },
  { "/tvw/hostile/control/card", KIND_CARD, card_control, 0, NULL },
  { "/tvw/hostile/control/npy", KIND_NPY, npy_control, 0, NULL },
  { "/tvw/hostile/control/png", KIND_IMAGE, png_control, 0, NULL },
  { "/tvw/hostile/control/jpeg", KIND_IMAGE, jpeg_control, 0, NULL },
  { "/tvw/hostile/control/gif", KIND_IMAGE, gif_control, 0, NULL },
  { "/tvw/hostile/control/bmp", KIND_IMAGE, bmp_control, 0, NULL },
  { "/tvw/hostile/control/pnm", KIND_IMAGE, pnm_control, 0, NULL },
  /* These load, in bounded time: the names, keys and entries that would
   * make them quadratic are harmless. */
  { "/tvw/hostile/control/pickle-colliding-tensor-names", KIND_CHECKPOINT, pk_colliding_names, 0, NULL },
  { "/tvw/hostile/control/pickle-big-key-set-again", KIND_CHECKPOINT, pk_big_key_reset, 0, NULL },
  { "/tvw/hostile/control/zip-colliding-entry-names", KIND_CHECKPOINT, zip_colliding_names, 0, NULL },
};

/* ------------------------------------------------------------------------ */
/* Running a case */

/* CPU time of this process, in seconds: the work a case costs, which a
 * busy machine does not inflate the way it does wall time. */
static double
cpu_seconds (void)
{
  struct rusage usage;

  getrusage (RUSAGE_SELF, &usage);
  return usage.ru_utime.tv_sec + usage.ru_stime.tv_sec +
         (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

static gint64
peak_rss_kb (void)
{
  struct rusage usage;

  getrusage (RUSAGE_SELF, &usage);
  return usage.ru_maxrss;
}

/* VmPeak of /proc/self/status, 0 where there is none. */
static gint64
peak_vm_kb (void)
{
  g_autofree char *status = NULL;
  const char *line;

  if (!g_file_get_contents ("/proc/self/status", &status, NULL, NULL) ||
      (line = strstr (status, "VmPeak:")) == NULL)
    return 0;
  return g_ascii_strtoll (line + strlen ("VmPeak:"), NULL, 10);
}

/* Reads @path the way an application would; TRUE if it loaded. */
static gboolean
load (Kind          kind,
      const char   *path,
      GError      **error)
{
  switch (kind)
    {
    case KIND_CHECKPOINT:
      {
        g_autoptr(TvwCheckpoint) ckpt = tvw_checkpoint_open (path, error);

        return ckpt != NULL;
      }
    case KIND_CARD:
      {
        g_autoptr(GFile) file = g_file_new_for_path (path);

        return tvw_register_weights_from_file (file, error);
      }
    case KIND_NPY:
      {
        g_autoptr(TvwTensor) tensor = tvw_npy_load (path, error);

        return tensor != NULL;
      }
    case KIND_IMAGE:
      {
        g_autoptr(TvwTransform) transform = tvw_transform_new (TVW_PRESET_IMAGE_CLASSIFICATION);
        g_autoptr(GFile) file = g_file_new_for_path (path);
        g_autoptr(TvwTensor) tensor = tvw_transform_apply_file (transform, file, NULL, error);

        return tensor != NULL;
      }
    default:
      g_assert_not_reached ();
    }
}

static char *
case_file (const HostileCase *c)
{
  g_autofree char *base = g_strdelimit (g_strdup (c->path + strlen ("/tvw/hostile/")), "/", '-');
  static const char * const ext[] = { ".pth", ".json", ".npy", ".img" };

  return g_strconcat (work_dir, G_DIR_SEPARATOR_S, base, ext[c->kind], NULL);
}

static void
run_case (const HostileCase *c)
{
  g_autoptr(GBytes) input = c->build ();
  g_autofree char *path = case_file (c);
  g_autoptr(GError) error = NULL;
  gsize size = g_bytes_get_size (input);
  gint64 rss_before, rss_growth, vm_before, vm_growth, start;
  double elapsed, cpu_start, cpu;
  gboolean loaded;

  g_assert_true (g_file_set_contents (path, g_bytes_get_data (input, NULL), size, NULL));

  rss_before = peak_rss_kb ();
  vm_before = peak_vm_kb ();
  start = g_get_monotonic_time ();
  cpu_start = cpu_seconds ();
  loaded = load (c->kind, path, &error);
  cpu = cpu_seconds () - cpu_start;
  elapsed = (g_get_monotonic_time () - start) / 1e6;
  rss_growth = peak_rss_kb () - rss_before;
  vm_growth = peak_vm_kb () - vm_before;

  /* Seen in the test log (stderr is passed through). */
  g_printerr ("# %s: %" G_GSIZE_FORMAT " bytes, %.2f ms (CPU %.2f ms), peak RSS +%" G_GINT64_FORMAT
              " kB, peak VM +%" G_GINT64_FORMAT " kB: %s\n",
              c->path, size, elapsed * 1e3, cpu * 1e3, rss_growth, vm_growth,
              error != NULL ? error->message : "loaded");

  if (c->reason == NULL)
    {
      g_assert_no_error (error);
      g_assert_true (loaded);
    }
  else
    {
      g_assert_false (loaded);
      g_assert_error (error, TVW_ERROR, (gint) c->code);
      if (strstr (error->message, path) == NULL || strstr (error->message, c->reason) == NULL)
        g_error ("message \"%s\" should name %s and say \"%s\"", error->message, path, c->reason);
    }
  /* The work, in CPU time; wall time only catches a wait (a FIFO, …),
   * with room for a machine shared with other jobs. */
  g_assert_cmpfloat (cpu, <, TIME_LIMIT_S);
  g_assert_cmpfloat (elapsed, <, 10 * TIME_LIMIT_S);
  g_assert_cmpint (rss_growth, <, MEM_LIMIT_KB (size));
#ifndef UNDER_SANITIZER
  g_assert_cmpint (vm_growth, <, VM_LIMIT_KB (size));
#endif
}

static void
test_case (gconstpointer data)
{
  const HostileCase *c = data;

  if (g_test_subprocess ())
    {
      run_case (c);
      return;
    }
  g_test_trap_subprocess (NULL, 120 * G_USEC_PER_SEC,
                          G_TEST_SUBPROCESS_INHERIT_STDERR);
  /* Not g_test_trap_assert_passed(): the other cases still run. */
  if (g_test_trap_has_passed ())
    return;
  if (c->known_bug != NULL)
    g_test_incomplete_printf ("known bug: %s", c->known_bug);
  else
    g_test_fail_printf ("%s: the case failed or crashed (see its output above)", c->path);
}

/* ------------------------------------------------------------------------ */
/* Cards that are not regular files, or too large to read */

typedef enum
{
  SPECIAL_DEV_ZERO,     /* a symlink to /dev/zero */
  SPECIAL_FIFO,         /* a FIFO nobody writes to */
  SPECIAL_SPARSE,       /* a 1.5 GB file (sparse: costs no disk) */
} SpecialCard;

static void
special_card (SpecialCard kind,
              const char *reason)
{
  g_autofree char *path = g_strdup_printf ("%s/special-card-%d.json", work_dir, kind);
  g_autoptr(GFile) file = g_file_new_for_path (path);
  g_autoptr(GError) error = NULL;
  gint64 rss_before, start;
  double elapsed;
  gboolean ok;

  switch (kind)
    {
    case SPECIAL_DEV_ZERO:
      g_assert_cmpint (symlink ("/dev/zero", path), ==, 0);
      break;
    case SPECIAL_FIFO:
      g_assert_cmpint (mkfifo (path, 0600), ==, 0);
      break;
    case SPECIAL_SPARSE:
      {
        int fd = g_open (path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

        g_assert_cmpint (fd, >=, 0);
        g_assert_cmpint (ftruncate (fd, G_GINT64_CONSTANT (1536) << 20), ==, 0);
        close (fd);
      }
      break;
    default:
      g_assert_not_reached ();
    }

  rss_before = peak_rss_kb ();
  start = g_get_monotonic_time ();
  ok = tvw_register_weights_from_file (file, &error);
  elapsed = (g_get_monotonic_time () - start) / 1e6;
  g_printerr ("# card %s: %.2f ms, peak RSS +%" G_GINT64_FORMAT " kB: %s\n", path, elapsed * 1e3,
              peak_rss_kb () - rss_before, error != NULL ? error->message : "registered");
  g_assert_false (ok);
  g_assert_error (error, TVW_ERROR, TVW_ERROR_INVALID_DATA);
  g_assert_nonnull (strstr (error->message, reason));
  g_assert_nonnull (strstr (error->message, path));
  g_assert_cmpfloat (elapsed, <, 10 * TIME_LIMIT_S);
  g_assert_cmpint (peak_rss_kb () - rss_before, <, MEM_LIMIT_KB (0));
  g_unlink (path);
}

static void
test_special_card (gconstpointer data)
{
  static const char * const reasons[] = { "not a regular file", "not a regular file", "larger than 16 MiB" };
  SpecialCard kind = GPOINTER_TO_INT (data);

  if (g_test_subprocess ())
    {
      special_card (kind, reasons[kind]);
      return;
    }
  /* A FIFO read would block forever: the subprocess has 30 s. */
  g_test_trap_subprocess (NULL, 30 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_test_trap_assert_passed ();
}

/* ------------------------------------------------------------------------ */
/* The model's input limit */

/* @n_bytes of address space that reads as zeros and costs nothing until it
 * is touched: an input as large as the limit without allocating it. */
typedef struct
{
  void  *data;
  gsize  size;
} Mapping;

static void
unmap_cb (gpointer data)
{
  Mapping *m = data;

  munmap (m->data, m->size);
  g_free (m);
}

static GBytes *
untouched_bytes (gsize n_bytes)
{
  Mapping *m = g_new (Mapping, 1);

  m->size = n_bytes;
  m->data = mmap (NULL, n_bytes, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  g_assert_true (m->data != MAP_FAILED);
  return g_bytes_new_with_free_func (m->data, n_bytes, unmap_cb, m);
}

static void
forward_shape (const gint64 *shape,
               TvwError      expected,
               const char   *reason)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TvwModel) model = tvw_model_new ("resnet18", 1000, NULL, &error);
  gsize n = 1;
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(TvwTensor) input = NULL;
  g_autoptr(TvwTensor) output = NULL;
  gint64 rss_before, rss_growth, start;
  double elapsed;

  g_assert_no_error (error);
  for (guint d = 0; d < 4; d++)
    n *= (gsize) shape[d];
  bytes = reason != NULL ? untouched_bytes (n * sizeof (float)) : g_bytes_new_take (g_malloc0 (n * 4), n * 4);
  input = tvw_tensor_new_from_bytes (TVW_DTYPE_FLOAT32, shape, 4, bytes, &error);
  g_assert_no_error (error);

  rss_before = peak_rss_kb ();
  start = g_get_monotonic_time ();
  output = tvw_model_forward (model, input, NULL, &error);
  elapsed = (g_get_monotonic_time () - start) / 1e6;
  rss_growth = peak_rss_kb () - rss_before;
  g_printerr ("# forward %" G_GINT64_FORMAT "×%" G_GINT64_FORMAT "×%" G_GINT64_FORMAT "×%" G_GINT64_FORMAT
              ": %.2f ms, peak RSS +%" G_GINT64_FORMAT " kB: %s\n",
              shape[0], shape[1], shape[2], shape[3], elapsed * 1e3, rss_growth,
              error != NULL ? error->message : "ran");

  if (reason == NULL)
    {
      g_assert_no_error (error);
      g_assert_nonnull (output);
      return;
    }
  g_assert_null (output);
  g_assert_error (error, TVW_ERROR, (gint) expected);
  g_assert_nonnull (strstr (error->message, reason));
  g_assert_cmpfloat (elapsed, <, TIME_LIMIT_S);
  g_assert_cmpint (rss_growth, <, MEM_LIMIT_KB (0));
}

static void
test_model_input_limits (void)
{
  static const gint64 control[] = { 1, 3, 32, 32 };
  /* Each side at most TVW_MODEL_MAX_INPUT_SIZE … */
  static const gint64 too_tall[] = { 1, 3, TVW_MODEL_MAX_INPUT_SIZE + 1, 32 };
  /* … and at most TVW_MODEL_MAX_INPUT_PIXELS in a batch: 2 × 8192² is 2^27. */
  static const gint64 too_many[] = { 2, 3, TVW_MODEL_MAX_INPUT_SIZE, TVW_MODEL_MAX_INPUT_SIZE };

  if (g_test_subprocess ())
    {
      forward_shape (control, 0, NULL);
      forward_shape (too_tall, TVW_ERROR_INVALID_ARGUMENT, "8192");
      forward_shape (too_many, TVW_ERROR_INVALID_ARGUMENT, "67108864 pixels");
      return;
    }
  g_test_trap_subprocess (NULL, 300 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_test_trap_assert_passed ();
}

/* ------------------------------------------------------------------------ */

static void
remove_tree (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      if (g_file_test (child, G_FILE_TEST_IS_DIR))
        remove_tree (child);
      else
        g_unlink (child);
    }
  g_rmdir (path);
}

int
main (int   argc,
      char *argv[])
{
  int ret;

  g_test_init (&argc, &argv, NULL);

  /* The parent makes the work directory; subprocesses inherit it.  User
   * cards and caches stay out of the way. */
  if (!g_test_subprocess ())
    {
      g_autofree char *dir = g_dir_make_tmp ("tvw-hostile-XXXXXX", NULL);

      g_assert_nonnull (dir);
      g_setenv ("TVW_HOSTILE_DIR", dir, TRUE);
      /* Not XDG_DATA_DIRS: gdk-pixbuf finds image types through the
       * shared MIME database there. */
      g_setenv ("XDG_DATA_HOME", dir, TRUE);
      g_setenv ("TVW_CACHE_DIR", dir, TRUE);
      g_setenv ("TVW_OFFLINE", "1", TRUE);
    }
  work_dir = g_strdup (g_getenv ("TVW_HOSTILE_DIR"));

  for (guint i = 0; i < G_N_ELEMENTS (controls); i++)
    g_test_add_data_func (controls[i].path, &controls[i], test_case);
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    g_test_add_data_func (cases[i].path, &cases[i], test_case);
  g_test_add_func ("/tvw/hostile/model/input-limits", test_model_input_limits);
  g_test_add_data_func ("/tvw/hostile/card/symlink-to-dev-zero", GINT_TO_POINTER (SPECIAL_DEV_ZERO), test_special_card);
  g_test_add_data_func ("/tvw/hostile/card/fifo", GINT_TO_POINTER (SPECIAL_FIFO), test_special_card);
  g_test_add_data_func ("/tvw/hostile/card/sparse-1.5gb", GINT_TO_POINTER (SPECIAL_SPARSE), test_special_card);

  ret = g_test_run ();

  if (!g_test_subprocess ())
    remove_tree (work_dir);
  g_free (work_dir);
  return ret;
}
