/* tvw-image.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Decoding images into the pixels torchvision's presets see when they are
 * given `PIL.Image.open(path).convert("RGB")`.
 *
 * gdk-pixbuf and Pillow agree pixel for pixel on 8-bit images of every mode
 * (gray, gray + alpha, palette with or without tRNS, RGB, RGBA), on 16-bit
 * RGB(A) and gray + alpha PNGs (both keep the high byte) and on JPEG (both use
 * libjpeg-turbo with its default IDCT and fancy upsampling).  Two cases
 * differ:
 *
 *  - 16-bit grayscale PNG: Pillow opens it as mode "I" and convert("RGB")
 *    clips the 16-bit value to 255, where gdk-pixbuf keeps the high byte.
 *    We decode those files here (inflate, unfilter, Adam7) to get the
 *    values Pillow clips.
 *  - CMYK JPEG: both invert and multiply by K, with different rounding, so
 *    a channel can be one level apart.  libjpeg's raw CMYK output would be
 *    needed to do better.
 */

#include "config.h"

#include <string.h>

#include "tvw-error.h"
#include "tvw-image-private.h"
#include "tvw-transform.h"

#define READ_CHUNK (64 * 1024)

/* ------------------------------------------------------------------------ */
/* Shared checks. */

static gboolean
check_size (const char  *name,
            gint64       width,
            gint64       height,
            GError     **error)
{
  if (width <= 0 || height <= 0)
    {
      g_set_error (error, TVW_ERROR, TVW_ERROR_INVALID_DATA,
                   "%s: image has no pixels (%" G_GINT64_FORMAT "×%" G_GINT64_FORMAT ")",
                   name, width, height);
      return FALSE;
    }

  if (width > G_MAXINT / 4 || height > G_MAXINT / 4 ||
      width * height > TVW_TRANSFORM_MAX_IMAGE_PIXELS)
    {
      g_set_error (error, TVW_ERROR, TVW_ERROR_INVALID_ARGUMENT,
                   "%s: image is %" G_GINT64_FORMAT "×%" G_GINT64_FORMAT
                   " pixels, more than the %" G_GINT64_FORMAT " libtvw decodes",
                   name, width, height, TVW_TRANSFORM_MAX_IMAGE_PIXELS);
      return FALSE;
    }

  return TRUE;
}

static inline guint32
read_be32 (const guint8 *p)
{
  return ((guint32) p[0] << 24) | ((guint32) p[1] << 16) | ((guint32) p[2] << 8) | p[3];
}

static const guint8 png_signature[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };

/* ------------------------------------------------------------------------ */
/* 16-bit grayscale PNG. */

typedef struct
{
  guint32 width;
  guint32 height;
  guint8  depth;
  guint8  color_type;
  guint8  interlace;
} PngHeader;

static gboolean
png_sniff_header (const guint8 *data,
                  gsize         len,
                  PngHeader    *hdr)
{
  /* Signature, then IHDR must be the first chunk (13 bytes of data). */
  if (len < 8 + 8 + 13 || memcmp (data, png_signature, 8) != 0)
    return FALSE;
  if (read_be32 (data + 8) != 13 || memcmp (data + 12, "IHDR", 4) != 0)
    return FALSE;

  hdr->width = read_be32 (data + 16);
  hdr->height = read_be32 (data + 20);
  hdr->depth = data[24];
  hdr->color_type = data[25];
  hdr->interlace = data[28];
  return TRUE;
}

/* Bytes of filtered scanlines the header announces (filter byte + packed
 * samples per row, over the seven passes when interlaced); 0 for a header
 * libpng would refuse anyway. */
static guint64
png_data_size (const PngHeader *hdr)
{
  static const guint8 x0[7] = { 0, 4, 0, 2, 0, 1, 0 }, dx[7] = { 8, 8, 4, 4, 2, 2, 1 };
  static const guint8 y0[7] = { 0, 0, 4, 0, 2, 0, 1 }, dy[7] = { 8, 8, 8, 4, 4, 2, 2 };
  guint channels;
  guint64 total = 0;

  switch (hdr->color_type)
    {
    case 0: case 3: channels = 1; break;
    case 4: channels = 2; break;
    case 2: channels = 3; break;
    case 6: channels = 4; break;
    default: return 0;
    }
  if (hdr->interlace == 0)
    return (guint64) hdr->height * (1 + ((guint64) hdr->width * channels * hdr->depth + 7) / 8);
  for (guint p = 0; p < 7; p++)
    {
      guint64 w = hdr->width > x0[p] ? (hdr->width - x0[p] + dx[p] - 1) / dx[p] : 0;
      guint64 h = hdr->height > y0[p] ? (hdr->height - y0[p] + dy[p] - 1) / dy[p] : 0;

      if (w > 0 && h > 0)
        total += h * (1 + (w * channels * hdr->depth + 7) / 8);
    }
  return total;
}

/* Deflate turns at most 258 bytes into a bit or two: no zlib stream
 * inflates by more than 1032 to 1.  A PNG whose header announces more
 * pixel data than its size can hold is truncated, whatever it says; found
 * out from the header, before anything is decoded. */
#define ZLIB_MAX_RATIO 1032

static gboolean
png_can_hold (const PngHeader *hdr,
              goffset          file_size)
{
  return png_data_size (hdr) / ZLIB_MAX_RATIO <= (guint64) MAX (file_size, 0);
}

static inline guint8
paeth (guint8 a,
       guint8 b,
       guint8 c)
{
  int p = (int) a + b - c;
  int pa = ABS (p - a);
  int pb = ABS (p - b);
  int pc = ABS (p - c);

  if (pa <= pb && pa <= pc)
    return a;
  if (pb <= pc)
    return b;
  return c;
}

/* Reverses the PNG row filters of one (sub)image in place; @data holds
 * rows of 1 filter byte + @row_bytes. */
static gboolean
png_unfilter (guint8  *data,
              gsize    row_bytes,
              guint32  rows,
              guint    bpp)
{
  guint8 *prev = NULL;

  for (guint32 y = 0; y < rows; y++)
    {
      guint8 *row = data + (gsize) y * (row_bytes + 1);
      guint8 filter = row[0];
      guint8 *cur = row + 1;

      switch (filter)
        {
        case 0:
          break;
        case 1:
          for (gsize i = bpp; i < row_bytes; i++)
            cur[i] += cur[i - bpp];
          break;
        case 2:
          if (prev != NULL)
            for (gsize i = 0; i < row_bytes; i++)
              cur[i] += prev[i];
          break;
        case 3:
          for (gsize i = 0; i < row_bytes; i++)
            {
              guint a = i >= bpp ? cur[i - bpp] : 0;
              guint b = prev != NULL ? prev[i] : 0;

              cur[i] += (guint8) ((a + b) / 2);
            }
          break;
        case 4:
          for (gsize i = 0; i < row_bytes; i++)
            {
              guint8 a = i >= bpp ? cur[i - bpp] : 0;
              guint8 b = prev != NULL ? prev[i] : 0;
              guint8 c = (prev != NULL && i >= bpp) ? prev[i - bpp] : 0;

              cur[i] += paeth (a, b, c);
            }
          break;
        default:
          return FALSE;
        }

      prev = cur;
    }

  return TRUE;
}

static GdkPixbuf *
png_decode_gray16 (const char    *name,
                   const guint8  *data,
                   gsize          len,
                   GError       **error)
{
  static const struct { int x0, y0, dx, dy; } adam7[7] = {
    { 0, 0, 8, 8 }, { 4, 0, 8, 8 }, { 0, 4, 4, 8 }, { 2, 0, 4, 4 },
    { 0, 2, 2, 4 }, { 1, 0, 2, 2 }, { 0, 1, 1, 2 },
  };
  PngHeader hdr;
  g_autoptr(GZlibDecompressor) z = NULL;
  g_autoptr(GByteArray) idat = g_byte_array_new ();
  g_autofree guint8 *raw = NULL;
  g_autoptr(GdkPixbuf) pixbuf = NULL;
  gsize raw_size = 0, raw_filled = 0, pos;
  gboolean seen_idat = FALSE;
  int n_passes;
  guint8 *pixels;
  int rowstride;

  if (!png_sniff_header (data, len, &hdr) || hdr.interlace > 1)
    {
      g_set_error (error, TVW_ERROR, TVW_ERROR_INVALID_DATA,
                   "%s: invalid PNG header", name);
      return NULL;
    }
  if (!check_size (name, hdr.width, hdr.height, error))
    return NULL;

  /* Collect the IDAT chunks. */
  pos = 8;
  while (pos + 12 <= len)
    {
      guint32 length = read_be32 (data + pos);
      const guint8 *type = data + pos + 4;

      if (length > G_MAXINT32 || length > len - pos - 12)
        break;    /* Truncated: the inflater reports missing data below. */

      if (memcmp (type, "IDAT", 4) == 0)
        {
          g_byte_array_append (idat, data + pos + 8, length);
          seen_idat = TRUE;
        }
      else if (seen_idat || memcmp (type, "IEND", 4) == 0)
        {
          break;
        }

      pos += (gsize) length + 12;
    }

  n_passes = hdr.interlace ? 7 : 1;
  for (int p = 0; p < n_passes; p++)
    {
      gsize pw, ph;

      if (hdr.interlace)
        {
          pw = (hdr.width - adam7[p].x0 + adam7[p].dx - 1) / adam7[p].dx;
          ph = (hdr.height - adam7[p].y0 + adam7[p].dy - 1) / adam7[p].dy;
          if (hdr.width <= (guint32) adam7[p].x0)
            pw = 0;
          if (hdr.height <= (guint32) adam7[p].y0)
            ph = 0;
        }
      else
        {
          pw = hdr.width;
          ph = hdr.height;
        }
      if (pw > 0 && ph > 0)
        raw_size += ph * (1 + pw * 2);
    }

  /* The buffer grows with what the data inflates to, not with what the
   * header claims: a short file cannot make us allocate much. */
  z = g_zlib_decompressor_new (G_ZLIB_COMPRESSOR_FORMAT_ZLIB);
  {
    gsize in_pos = 0, raw_alloc = 0;

    while (raw_filled < raw_size)
      {
        gsize bytes_read = 0, bytes_written = 0;
        GConverterResult res;
        g_autoptr(GError) local_error = NULL;

        if (raw_filled == raw_alloc)
          {
            raw_alloc = MIN (raw_size, MAX (raw_alloc * 2, (gsize) 1 << 20));
            raw = g_realloc (raw, raw_alloc);
          }

        /* An empty byte array has no data pointer to offset. */
        res = g_converter_convert (G_CONVERTER (z),
                                   idat->len > 0 ? idat->data + in_pos : NULL, idat->len - in_pos,
                                   raw + raw_filled, raw_alloc - raw_filled,
                                   G_CONVERTER_INPUT_AT_END,
                                   &bytes_read, &bytes_written, &local_error);
        if (res == G_CONVERTER_ERROR)
          {
            g_set_error (error, TVW_ERROR, TVW_ERROR_INVALID_DATA,
                         "%s: corrupt or truncated PNG data: %s", name, local_error->message);
            return NULL;
          }
        in_pos += bytes_read;
        raw_filled += bytes_written;
        if (res == G_CONVERTER_FINISHED || (bytes_read == 0 && bytes_written == 0))
          break;
      }
  }

  if (raw_filled < raw_size)
    {
      g_set_error (error, TVW_ERROR, TVW_ERROR_INVALID_DATA,
                   "%s: truncated PNG: %" G_GSIZE_FORMAT " of %" G_GSIZE_FORMAT " bytes of pixel data",
                   name, raw_filled, raw_size);
      return NULL;
    }

  pixbuf = gdk_pixbuf_new (GDK_COLORSPACE_RGB, FALSE, 8, (int) hdr.width, (int) hdr.height);
  if (pixbuf == NULL)
    {
      g_set_error (error, TVW_ERROR, TVW_ERROR_INVALID_ARGUMENT,
                   "%s: cannot allocate a %u×%u image", name, hdr.width, hdr.height);
      return NULL;
    }
  pixels = gdk_pixbuf_get_pixels (pixbuf);
  rowstride = gdk_pixbuf_get_rowstride (pixbuf);

  {
    guint8 *sub = raw;

    for (int p = 0; p < n_passes; p++)
      {
        int x0 = 0, y0 = 0, dx = 1, dy = 1;
        gsize pw, ph;

        if (hdr.interlace)
          {
            x0 = adam7[p].x0;
            y0 = adam7[p].y0;
            dx = adam7[p].dx;
            dy = adam7[p].dy;
          }
        if (hdr.width <= (guint32) x0 || hdr.height <= (guint32) y0)
          continue;
        pw = (hdr.width - x0 + dx - 1) / dx;
        ph = (hdr.height - y0 + dy - 1) / dy;

        if (!png_unfilter (sub, pw * 2, (guint32) ph, 2))
          {
            g_set_error (error, TVW_ERROR, TVW_ERROR_INVALID_DATA,
                         "%s: invalid PNG row filter", name);
            return NULL;
          }

        for (gsize y = 0; y < ph; y++)
          {
            const guint8 *in = sub + y * (1 + pw * 2) + 1;
            guint8 *out = pixels + (gsize) (y0 + y * dy) * rowstride;

            for (gsize x = 0; x < pw; x++)
              {
                guint v = ((guint) in[x * 2] << 8) | in[x * 2 + 1];
                guint8 c = v > 255 ? 255 : (guint8) v;
                guint8 *px = out + (x0 + x * dx) * 3;

                px[0] = px[1] = px[2] = c;
              }
          }

        sub += ph * (1 + pw * 2);
      }
  }

  return g_steal_pointer (&pixbuf);
}

/* ------------------------------------------------------------------------ */
/* Truncation.  gdk-pixbuf's loaders fill whatever is missing at the end of
 * a PNG or JPEG file and succeed; Pillow fails with "image file is
 * truncated".  We follow the file's structure as it streams by: a JPEG is
 * complete when its EOI marker arrives (Pillow needs it too), a PNG when its
 * IEND chunk does or, non-interlaced, when every row has been decoded (Pillow
 * accepts a PNG without IEND if its pixel data is complete).
 *
 * A GIF is followed block by block for another reason: gdk-pixbuf's GIF
 * loader allocates a frame of the size its image descriptor gives, and one
 * that is 0 pixels wide or high fails a precondition inside gdk-pixbuf
 * (a critical warning, no error).  Such a frame is refused before the
 * loader sees it. */

typedef enum
{
  FORMAT_OTHER,
  FORMAT_PNG,
  FORMAT_JPEG,
  FORMAT_GIF,
} Format;

typedef enum
{
  JPEG_MARKER,      /* expecting 0xFF */
  JPEG_CODE,        /* expecting a marker code */
  JPEG_LENGTH_HI,
  JPEG_LENGTH_LO,
  JPEG_SKIP,        /* inside a marker segment */
  JPEG_ENTROPY,     /* inside entropy-coded data */
  JPEG_ENTROPY_FF,  /* 0xFF inside entropy-coded data */
  JPEG_DONE,
} JpegState;

typedef enum
{
  GIF_HEADER,       /* signature and logical screen descriptor */
  GIF_SKIP,         /* colour table or sub-block data, then gif_after */
  GIF_BLOCK,        /* expecting an introducer */
  GIF_EXT_LABEL,
  GIF_SUB_SIZE,     /* expecting a sub-block's size (0 ends the block) */
  GIF_DESCRIPTOR,   /* an image descriptor's 9 bytes */
  GIF_CODE_SIZE,    /* the LZW minimum code size */
  GIF_DONE,
} GifState;

typedef struct
{
  Format    format;
  gboolean  complete;
  guint64   offset;        /* stream offset of the next byte fed */

  /* PNG */
  guint64   next_chunk;    /* stream offset of the next chunk header */
  guint8    header[8];
  guint     header_len;
  guint64   idat_start;    /* stream offsets of the last IDAT chunk's data */
  guint64   idat_end;
  GConverter *inflater;    /* the IDAT data, inflated to count it */
  guint64   inflated;
  guint64   expected;      /* what the header announces */

  /* JPEG */
  JpegState state;
  guint8    code;
  guint     length;
  guint64   skip;

  /* GIF (skip above counts what GIF_SKIP passes over) */
  GifState  gif_state;
  GifState  gif_after;
  guint8    gif_bytes[13];
  guint     gif_len;
  gboolean  empty_frame;   /* an image descriptor 0 pixels wide or high */
} StreamCheck;

static void
stream_check_init (StreamCheck     *check,
                   const guint8    *data,
                   gsize            len,
                   const PngHeader *png)
{
  memset (check, 0, sizeof *check);

  if (len >= 8 && memcmp (data, png_signature, 8) == 0)
    {
      check->format = FORMAT_PNG;
      check->next_chunk = 8;
      check->expected = png_data_size (png);
      check->inflater = G_CONVERTER (g_zlib_decompressor_new (G_ZLIB_COMPRESSOR_FORMAT_ZLIB));
    }
  else if (len >= 3 && data[0] == 0xff && data[1] == 0xd8 && data[2] == 0xff)
    {
      check->format = FORMAT_JPEG;
      check->state = JPEG_MARKER;
    }
  else if (len >= 6 && (memcmp (data, "GIF87a", 6) == 0 || memcmp (data, "GIF89a", 6) == 0))
    {
      check->format = FORMAT_GIF;
      check->gif_state = GIF_HEADER;
    }
}

static void
stream_check_clear (StreamCheck *check)
{
  g_clear_object (&check->inflater);
}

/* Inflates IDAT data only to count it, and only until there is enough:
 * gdk-pixbuf fills rows that never come, Pillow says "truncated". */
static void
png_count_pixel_data (StreamCheck  *check,
                      const guint8 *data,
                      gsize         len)
{
  guint8 out[16 * 1024];

  while (len > 0 && check->inflater != NULL && check->inflated < check->expected)
    {
      gsize read = 0, written = 0;
      GConverterResult result;

      result = g_converter_convert (check->inflater, data, len, out, sizeof out,
                                    G_CONVERTER_NO_FLAGS, &read, &written, NULL);
      check->inflated += written;
      if (result == G_CONVERTER_ERROR || result == G_CONVERTER_FINISHED)
        g_clear_object (&check->inflater);
      data += read;
      len -= read;
    }
}

/* Feeds what this buffer holds of the current IDAT chunk's data. */
static void
png_feed_idat (StreamCheck  *check,
               const guint8 *data,
               guint64       start,
               guint64       end)
{
  guint64 from = MAX (start, check->idat_start);
  guint64 to = MIN (end, check->idat_end);

  if (from < to)
    png_count_pixel_data (check, data + (from - start), to - from);
}

static void
png_check_feed (StreamCheck  *check,
                const guint8 *data,
                gsize         len)
{
  const guint64 start = check->offset;
  const guint64 end = start + len;

  /* An IDAT chunk that began in an earlier buffer. */
  png_feed_idat (check, data, start, end);

  while (!check->complete)
    {
      guint64 pos = check->next_chunk + check->header_len;

      if (pos >= end || pos < start)
        break;

      check->header[check->header_len++] = data[pos - start];
      if (check->header_len == sizeof check->header)
        {
          guint64 length = read_be32 (check->header);

          if (memcmp (check->header + 4, "IEND", 4) == 0)
            check->complete = TRUE;
          if (memcmp (check->header + 4, "IDAT", 4) == 0)
            {
              check->idat_start = check->next_chunk + 8;
              check->idat_end = check->idat_start + length;
              png_feed_idat (check, data, start, end);
            }
          check->next_chunk += 12 + length;
          check->header_len = 0;
        }
    }
}

static void
jpeg_check_feed (StreamCheck  *check,
                 const guint8 *data,
                 gsize         len)
{
  gsize i = 0;

  while (i < len && check->state != JPEG_DONE)
    {
      guint8 b = data[i];

      switch (check->state)
        {
        case JPEG_MARKER:
          if (b == 0xff)
            check->state = JPEG_CODE;
          i++;
          break;

        case JPEG_CODE:
        handle_code:
          i++;
          if (b == 0xff)
            break;    /* Fill byte. */
          if (b == 0xd9)
            {
              check->complete = TRUE;
              check->state = JPEG_DONE;
            }
          else if (b == 0xd8 || b == 0x01 || (b >= 0xd0 && b <= 0xd7))
            {
              check->state = JPEG_MARKER;   /* No segment. */
            }
          else
            {
              check->code = b;
              check->state = JPEG_LENGTH_HI;
            }
          break;

        case JPEG_LENGTH_HI:
          check->length = (guint) b << 8;
          check->state = JPEG_LENGTH_LO;
          i++;
          break;

        case JPEG_LENGTH_LO:
          check->length |= b;
          check->skip = check->length >= 2 ? check->length - 2 : 0;
          check->state = JPEG_SKIP;
          i++;
          if (check->skip == 0)
            check->state = check->code == 0xda ? JPEG_ENTROPY : JPEG_MARKER;
          break;

        case JPEG_SKIP:
          {
            gsize n = MIN ((guint64) (len - i), check->skip);

            i += n;
            check->skip -= n;
            if (check->skip == 0)
              check->state = check->code == 0xda ? JPEG_ENTROPY : JPEG_MARKER;
          }
          break;

        case JPEG_ENTROPY:
          {
            const guint8 *ff = memchr (data + i, 0xff, len - i);

            if (ff == NULL)
              {
                i = len;
              }
            else
              {
                i = ff - data + 1;
                check->state = JPEG_ENTROPY_FF;
              }
          }
          break;

        case JPEG_ENTROPY_FF:
          if (b == 0x00 || (b >= 0xd0 && b <= 0xd7))
            {
              check->state = JPEG_ENTROPY;    /* Stuffed byte or restart. */
              i++;
            }
          else if (b == 0xff)
            {
              i++;
            }
          else
            {
              check->state = JPEG_CODE;
              goto handle_code;
            }
          break;

        case JPEG_DONE:
        default:
          i = len;
          break;
        }
    }
}

/* The size of the colour table a packed-fields byte announces. */
static guint
gif_color_table_size (guint8 packed)
{
  return (packed & 0x80) ? 3u << ((packed & 7) + 1) : 0;
}

static void
gif_check_feed (StreamCheck  *check,
                const guint8 *data,
                gsize         len)
{
  gsize i = 0;

  while (i < len && check->gif_state != GIF_DONE)
    {
      guint8 b = data[i];

      switch (check->gif_state)
        {
        case GIF_HEADER:
        case GIF_DESCRIPTOR:
          check->gif_bytes[check->gif_len++] = b;
          i++;
          if (check->gif_state == GIF_HEADER && check->gif_len == 13)
            {
              check->skip = gif_color_table_size (check->gif_bytes[10]);
              check->gif_after = GIF_BLOCK;
              check->gif_state = GIF_SKIP;
            }
          else if (check->gif_state == GIF_DESCRIPTOR && check->gif_len == 9)
            {
              guint width = check->gif_bytes[4] | check->gif_bytes[5] << 8;
              guint height = check->gif_bytes[6] | check->gif_bytes[7] << 8;

              if (width == 0 || height == 0)
                {
                  check->empty_frame = TRUE;
                  check->gif_state = GIF_DONE;
                  break;
                }
              check->skip = gif_color_table_size (check->gif_bytes[8]);
              check->gif_after = GIF_CODE_SIZE;
              check->gif_state = GIF_SKIP;
            }
          break;

        case GIF_SKIP:
          {
            gsize n = MIN ((guint64) (len - i), check->skip);

            i += n;
            check->skip -= n;
          }
          break;

        case GIF_BLOCK:
          i++;
          if (b == 0x21)
            {
              check->gif_state = GIF_EXT_LABEL;
            }
          else if (b == 0x2c)
            {
              check->gif_len = 0;
              check->gif_state = GIF_DESCRIPTOR;
            }
          else if (b == 0x3b)
            {
              check->gif_state = GIF_DONE;    /* the trailer */
            }
          /* The loader skips any other byte here; so does the check. */
          break;

        case GIF_EXT_LABEL:
        case GIF_CODE_SIZE:
          i++;
          check->gif_state = GIF_SUB_SIZE;
          break;

        case GIF_SUB_SIZE:
          i++;
          if (b == 0)
            {
              check->gif_state = GIF_BLOCK;
            }
          else
            {
              check->skip = b;
              check->gif_after = GIF_SUB_SIZE;
              check->gif_state = GIF_SKIP;
            }
          break;

        case GIF_DONE:
        default:
          i = len;
          break;
        }

      /* A skip may be empty (no colour table) or end with this buffer. */
      if (check->gif_state == GIF_SKIP && check->skip == 0)
        check->gif_state = check->gif_after;
    }
}

static void
stream_check_feed (StreamCheck  *check,
                   const guint8 *data,
                   gsize         len)
{
  if (check->format == FORMAT_PNG)
    png_check_feed (check, data, len);
  else if (check->format == FORMAT_JPEG)
    jpeg_check_feed (check, data, len);
  else if (check->format == FORMAT_GIF)
    gif_check_feed (check, data, len);
  check->offset += len;
}

/* ------------------------------------------------------------------------ */
/* Everything else: a GdkPixbufLoader fed from the stream. */

typedef struct
{
  int      width;
  int      height;
  gboolean refused;
} LoadState;

static void
size_prepared_cb (GdkPixbufLoader *loader,
                  int              width,
                  int              height,
                  gpointer         user_data)
{
  LoadState *state = user_data;

  state->width = width;
  state->height = height;

  if (width <= 0 || height <= 0 ||
      (gint64) width * height > TVW_TRANSFORM_MAX_IMAGE_PIXELS)
    {
      /* The loaders take 0×0 as "stop, allocate nothing". */
      state->refused = TRUE;
      gdk_pixbuf_loader_set_size (loader, 0, 0);
    }
}

static gboolean
read_all (GInputStream  *stream,
          GByteArray    *into,
          GCancellable  *cancellable,
          GError       **error)
{
  for (;;)
    {
      gsize old_len = into->len;
      gssize n;

      g_byte_array_set_size (into, old_len + READ_CHUNK);
      n = g_input_stream_read (stream, into->data + old_len, READ_CHUNK, cancellable, error);
      if (n < 0)
        {
          g_byte_array_set_size (into, old_len);
          return FALSE;
        }
      g_byte_array_set_size (into, old_len + n);
      if (n == 0)
        return TRUE;
    }
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (StreamCheck, stream_check_clear)

/* Pillow's TGA plugin has no magic either: the header must make sense. */
static gboolean
tga_sniff (const guint8 *d,
           gsize         n)
{
  return n >= 18 && d[1] <= 1 &&
         (d[2] == 1 || d[2] == 2 || d[2] == 3 || d[2] == 9 || d[2] == 10 || d[2] == 11) &&
         (d[16] == 1 || d[16] == 8 || d[16] == 15 || d[16] == 16 || d[16] == 24 || d[16] == 32) &&
         (d[12] | d[13]) != 0 && (d[14] | d[15]) != 0;
}

/* The gdk-pixbuf loader of a format Pillow reads too, from the file's
 * first bytes; NULL for anything else (SVG, ANI, QuickTime, …), which then
 * reaches no loader at all. */
static const char *
sniff_loader (const guint8 *d,
              gsize         n)
{
  if (n >= 8 && memcmp (d, png_signature, 8) == 0)
    return "png";
  if (n >= 3 && d[0] == 0xff && d[1] == 0xd8 && d[2] == 0xff)
    return "jpeg";
  if (n >= 6 && (memcmp (d, "GIF87a", 6) == 0 || memcmp (d, "GIF89a", 6) == 0))
    return "gif";
  if (n >= 2 && d[0] == 'B' && d[1] == 'M')
    return "bmp";
  if (n >= 4 && (memcmp (d, "II*\0", 4) == 0 || memcmp (d, "MM\0*", 4) == 0))
    return "tiff";
  /* Not 00 00 02 00 (CUR): an uncompressed TGA starts like that. */
  if (n >= 4 && d[0] == 0 && d[1] == 0 && d[2] == 1 && d[3] == 0)
    return "ico";
  if (n >= 3 && d[0] == 'P' && d[1] >= '1' && d[1] <= '6' && g_ascii_isspace (d[2]))
    return "pnm";
  if (n >= 12 && memcmp (d, "RIFF", 4) == 0 && memcmp (d + 8, "WEBP", 4) == 0)
    return "webp";
  if (n >= 4 && memcmp (d, "icns", 4) == 0)
    return "icns";
  if (n >= 9 && memcmp (d, "/* XPM */", 9) == 0)
    return "xpm";
  if (n >= 7 && memcmp (d, "#define", 7) == 0)
    return "xbm";
  if (tga_sniff (d, n))
    return "tga";
  return NULL;
}

/* A number of a PNM header, after white space and comments. */
static gboolean
pnm_header_number (const guint8 *d,
                   gsize         n,
                   gsize        *pos,
                   guint64      *value)
{
  while (*pos < n && (g_ascii_isspace (d[*pos]) || d[*pos] == '#'))
    {
      if (d[*pos] == '#')
        while (*pos < n && d[*pos] != '\n' && d[*pos] != '\r')
          (*pos)++;
      else
        (*pos)++;
    }
  if (*pos >= n || !g_ascii_isdigit (d[*pos]))
    return FALSE;
  *value = 0;
  while (*pos < n && g_ascii_isdigit (d[*pos]))
    {
      *value = *value * 10 + (d[*pos] - '0');
      if (*value > G_MAXUINT32)
        return FALSE;
      (*pos)++;
    }
  return TRUE;
}

/* Binary PNM (P4, P5, P6): the pixel data has a fixed size after the
 * header, so a short file is known to be truncated before decoding; gdk-
 * pixbuf would fill it.  FALSE when the header cannot be read here (the
 * loader then says what is wrong). */
static gboolean
pnm_truncated (const guint8 *d,
               gsize         n,
               goffset       file_size)
{
  guint64 width, height, maxval = 1, row;
  gsize pos = 2;

  if (d[1] < '4' || d[1] > '6' ||
      !pnm_header_number (d, n, &pos, &width) ||
      !pnm_header_number (d, n, &pos, &height) ||
      (d[1] != '4' && !pnm_header_number (d, n, &pos, &maxval)) ||
      pos >= n || !g_ascii_isspace (d[pos]))
    return FALSE;
  pos++;    /* one white space character ends the header */
  switch (d[1])
    {
    case '4': row = (width + 7) / 8; break;
    case '5': row = width * (maxval > 255 ? 2 : 1); break;
    default: row = width * 3 * (maxval > 255 ? 2 : 1); break;
    }
  return (guint64) file_size < pos + row * height;
}

GdkPixbuf *
tvw_image_load (GFile         *file,
                GCancellable  *cancellable,
                GError       **error)
{
  g_autofree char *name = NULL;
  g_autoptr(GFileInputStream) stream = NULL;
  g_autoptr(GdkPixbufLoader) loader = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autofree guint8 *buffer = NULL;
  g_autoptr(GFileInfo) info = NULL;
  LoadState state = { 0 };
  g_auto(StreamCheck) check = { 0 };
  GdkPixbuf *pixbuf;
  PngHeader png = { 0 };
  const char *type;
  goffset file_size;
  gsize n_read = 0;
  gboolean ok;

  g_return_val_if_fail (G_IS_FILE (file), NULL);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  name = g_file_get_parse_name (file);

  stream = g_file_read (file, cancellable, error);
  if (stream == NULL)
    return NULL;

  buffer = g_malloc (READ_CHUNK);
  if (!g_input_stream_read_all (G_INPUT_STREAM (stream), buffer, READ_CHUNK,
                                &n_read, cancellable, &local_error))
    {
      g_propagate_prefixed_error (error, g_steal_pointer (&local_error), "%s: ", name);
      return NULL;
    }

  if (n_read == 0)
    {
      g_set_error (error, TVW_ERROR, TVW_ERROR_INVALID_DATA,
                   "%s: empty file, not an image", name);
      return NULL;
    }

  type = sniff_loader (buffer, n_read);
  if (type == NULL)
    {
      g_set_error (error, TVW_ERROR, TVW_ERROR_INVALID_DATA,
                   "%s: not an image in a format libtvw reads (PNG, JPEG, GIF, BMP, TIFF, "
                   "ICO, PNM, WebP, ICNS, XPM, XBM, TGA)", name);
      return NULL;
    }
  /* The size bounds what the file can hold; a pipe or a device has none
   * (G_MAXINT64: no bound from it). */
  info = g_file_input_stream_query_info (stream, G_FILE_ATTRIBUTE_STANDARD_TYPE ","
                                         G_FILE_ATTRIBUTE_STANDARD_SIZE, cancellable, NULL);
  if (info != NULL && g_file_info_get_file_type (info) == G_FILE_TYPE_REGULAR &&
      g_file_info_has_attribute (info, G_FILE_ATTRIBUTE_STANDARD_SIZE))
    file_size = g_file_info_get_size (info);
  else
    file_size = G_MAXINT64;

  if (png_sniff_header (buffer, n_read, &png))
    {
      /* Measured before anything is decoded: the pixel limit, then what a
       * file of this size can hold. */
      if (!check_size (name, png.width, png.height, error))
        return NULL;
      if (!png_can_hold (&png, file_size))
        {
          g_set_error (error, TVW_ERROR, TVW_ERROR_INVALID_DATA,
                       "%s: image file is truncated (%" G_GOFFSET_FORMAT " bytes cannot hold "
                       "%" G_GUINT32_FORMAT "×%" G_GUINT32_FORMAT " pixels)",
                       name, file_size, png.width, png.height);
          return NULL;
        }
    }
  if (g_str_equal (type, "pnm") && pnm_truncated (buffer, n_read, file_size))
    {
      g_set_error (error, TVW_ERROR, TVW_ERROR_INVALID_DATA,
                   "%s: image file is truncated", name);
      return NULL;
    }

  if (g_str_equal (type, "png") && png.depth == 16 && png.color_type == 0)
    {
      g_autoptr(GByteArray) all = g_byte_array_new ();

      g_byte_array_append (all, buffer, n_read);
      if (!read_all (G_INPUT_STREAM (stream), all, cancellable, &local_error))
        {
          g_propagate_prefixed_error (error, g_steal_pointer (&local_error), "%s: ", name);
          return NULL;
        }

      return png_decode_gray16 (name, all->data, all->len, error);
    }

  /* gdk-pixbuf's BMP loader sizes buffers from the header (info-header size,
   * pixel-data offset) before checking them: up to 4 GB for a 385-byte
   * file.  Such a header must point inside the file. */
  if (n_read >= 18 && buffer[0] == 'B' && buffer[1] == 'M')
    {
      guint32 data_offset = buffer[10] | buffer[11] << 8 | buffer[12] << 16 | (guint32) buffer[13] << 24;
      guint32 header_size = buffer[14] | buffer[15] << 8 | buffer[16] << 16 | (guint32) buffer[17] << 24;

      if ((goffset) data_offset > file_size || (goffset) header_size + 14 > file_size)
        {
          g_set_error (error, TVW_ERROR, TVW_ERROR_INVALID_DATA,
                       "%s: the BMP header points past the end of the file", name);
          return NULL;
        }
    }

  stream_check_init (&check, buffer, n_read, &png);
  loader = gdk_pixbuf_loader_new_with_type (type, &local_error);
  if (loader == NULL)
    {
      g_set_error (error, TVW_ERROR, TVW_ERROR_UNSUPPORTED,
                   "%s: no image loader for %s is installed: %s", name, type, local_error->message);
      return NULL;
    }
  g_signal_connect (loader, "size-prepared", G_CALLBACK (size_prepared_cb), &state);

  ok = TRUE;
  while (n_read > 0)
    {
      stream_check_feed (&check, buffer, n_read);
      if (check.empty_frame)
        {
          gdk_pixbuf_loader_close (loader, NULL);
          g_set_error (error, TVW_ERROR, TVW_ERROR_INVALID_DATA,
                       "%s: cannot decode image: a GIF frame is 0 pixels wide or high", name);
          return NULL;
        }
      if (!gdk_pixbuf_loader_write (loader, buffer, n_read, &local_error) || state.refused)
        {
          ok = FALSE;
          break;
        }

      if (!g_input_stream_read_all (G_INPUT_STREAM (stream), buffer, READ_CHUNK,
                                    &n_read, cancellable, &local_error))
        {
          gdk_pixbuf_loader_close (loader, NULL);
          g_propagate_prefixed_error (error, g_steal_pointer (&local_error), "%s: ", name);
          return NULL;
        }
    }

  /* The loader holds back the first bytes until it knows the format, so
   * with a small file the header may only be parsed by close(). */
  if (ok)
    ok = gdk_pixbuf_loader_close (loader, &local_error);
  else
    gdk_pixbuf_loader_close (loader, NULL);

  if (state.refused)
    {
      check_size (name, state.width, state.height, error);
      return NULL;
    }

  if (!ok)
    {
      g_set_error (error, TVW_ERROR, TVW_ERROR_INVALID_DATA,
                   "%s: cannot decode image: %s", name,
                   local_error != NULL ? local_error->message : "unknown error");
      return NULL;
    }

  pixbuf = gdk_pixbuf_loader_get_pixbuf (loader);
  if (pixbuf == NULL ||
      gdk_pixbuf_get_colorspace (pixbuf) != GDK_COLORSPACE_RGB ||
      gdk_pixbuf_get_bits_per_sample (pixbuf) != 8 ||
      (gdk_pixbuf_get_n_channels (pixbuf) != 3 && gdk_pixbuf_get_n_channels (pixbuf) != 4))
    {
      g_set_error (error, TVW_ERROR, TVW_ERROR_INVALID_DATA,
                   "%s: cannot decode image", name);
      return NULL;
    }

  if (!check_size (name, gdk_pixbuf_get_width (pixbuf), gdk_pixbuf_get_height (pixbuf), error))
    return NULL;

  /* A PNG is complete when all its pixel data came (Pillow accepts one
   * without IEND then); a JPEG when its EOI marker did. */
  if ((check.format == FORMAT_PNG && check.inflated < check.expected) ||
      (check.format == FORMAT_JPEG && !check.complete))
    {
      g_set_error (error, TVW_ERROR, TVW_ERROR_INVALID_DATA,
                   "%s: image file is truncated", name);
      return NULL;
    }

  return g_object_ref (pixbuf);
}
