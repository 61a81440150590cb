/* tvw-cli.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib/gi18n.h>
#include <json-glib/json-glib.h>
#include <tvw.h>

G_BEGIN_DECLS

/* Each command parses its own options and returns the exit status. */
typedef int (*TvwCommandFunc) (int argc, char **argv);

typedef struct
{
  const char     *name;
  const char     *summary;
  TvwCommandFunc  run;
} TvwCommand;

/* Prints "tvw COMMAND: message" on stderr and returns EXIT_FAILURE. */
int      tvw_cli_fail          (const char   *command,
                                const GError *error);
/* Prints the JSON value @builder built, indented, and a newline. */
void     tvw_cli_print_json    (JsonBuilder  *builder);
/* Begins the JSON object of image @file in @out; with @error (the image
 * failed) also prints “tvw COMMAND: message” on stderr and records it as
 * the object's "error". */
void     tvw_cli_json_begin_image (JsonBuilder  *out,
                                   const char   *command,
                                   const char   *file,
                                   const GError *error);
/* Adds an image's "width" and "height", and "output" with @path. */
void     tvw_cli_json_add_size    (JsonBuilder  *out,
                                   guint         width,
                                   guint         height,
                                   const char   *path);
/* Parses @argc/@argv with @entries; handles --help and errors the same way
 * for every command.  Returns FALSE with *status set when the command
 * should exit. */
gboolean tvw_cli_parse         (const char          *command,
                                const char          *parameter_string,
                                const char          *description,
                                const GOptionEntry  *entries,
                                int                 *argc,
                                char              ***argv,
                                int                 *status);

/* --option KEY=VALUE…: torchvision's builder keyword arguments. */
GVariant *tvw_cli_parse_options (char        **options,
                                 GError      **error);
/* A model of architecture @name with a weights entry, a checkpoint file
 * (strict unless @relaxed) or random parameters. */
TvwModel *tvw_cli_open_model    (const char   *name,
                                 const char   *checkpoint,
                                 const char   *weights,
                                 int           num_classes,
                                 GVariant     *options,
                                 gboolean      relaxed,
                                 GError      **error);
/* OUT.png for one image; OUT-1.png, OUT-2.png … for several. */
char     *tvw_cli_output_path   (const char   *output,
                                 guint         index,
                                 guint         n_images);

int tvw_cmd_forward    (int argc, char **argv);
int tvw_cmd_bench      (int argc, char **argv);
int tvw_cmd_classify   (int argc, char **argv);
int tvw_cmd_eval       (int argc, char **argv);
/* Among the entries usable without the network (an implemented
 * architecture, the checkpoint on this machine), the one with the best
 * @metric (“acc@1”, “miou”, “box_map”) on its first dataset, or NULL. */
TvwWeights *tvw_cli_best_offline_weights_by (const char *metric);
/* catalog */
int tvw_cmd_list       (int argc, char **argv);
int tvw_cmd_weights    (int argc, char **argv);
int tvw_cmd_info       (int argc, char **argv);
/* transforms */
int tvw_cmd_preprocess (int argc, char **argv);
/* download */
int tvw_cmd_download   (int argc, char **argv);
int tvw_cmd_cache      (int argc, char **argv);
/* segmentation */
int tvw_cmd_segment    (int argc, char **argv);
/* optical flow */
int tvw_cmd_flow       (int argc, char **argv);
/* detection */
int tvw_cmd_detect     (int argc, char **argv);

G_END_DECLS
