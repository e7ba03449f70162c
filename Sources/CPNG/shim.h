#ifndef AGGAN_CPNG_SHIM_H
#define AGGAN_CPNG_SHIM_H
#include <png.h>
// libpng's PNG_FORMAT_* and PNG_IMAGE_* are macros that Swift does not import: wrap them
// here when the Imaging module needs them. Only the simplified `png_image` API is used
// (the classic API reports errors with longjmp, which Swift cannot survive).

/// PNG_IMAGE_VERSION, for `png_image.version`.
static inline png_uint_32 cpng_image_version(void) { return PNG_IMAGE_VERSION; }

/// The PNG_FORMAT_FLAG_* bits of `png_image.format`.
static inline png_uint_32 cpng_format_flag_alpha(void) { return PNG_FORMAT_FLAG_ALPHA; }
static inline png_uint_32 cpng_format_flag_color(void) { return PNG_FORMAT_FLAG_COLOR; }
static inline png_uint_32 cpng_format_flag_linear(void) { return PNG_FORMAT_FLAG_LINEAR; }

/// PNG_IMAGE_FAILED: true when the last simplified-API call failed (not just warned).
static inline int cpng_image_failed(const png_image *image) { return PNG_IMAGE_FAILED(*image); }

/// PNG_IMAGE_PNG_SIZE_MAX: an upper bound on the encoded size of `image` (write side).
static inline png_alloc_size_t cpng_image_png_size_max(const png_image *image) {
    return PNG_IMAGE_PNG_SIZE_MAX(*image);
}
#endif
