#ifndef AGGAN_CTIFF_SHIM_H
#define AGGAN_CTIFF_SHIM_H
#include <tiffio.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
// libtiff's TIFFGetField/TIFFSetField are variadic and its message handlers take a
// va_list: Swift can call neither, so the Imaging module goes through these wrappers.
// Messages never reach stderr: each open file gets its own error and warning handlers
// (libtiff >= 4.5 TIFFOpenOptions) that keep the first error and the first warning in a
// `ctiff_messages` the caller owns; the process-wide handlers are switched off.

/// The first error and warning libtiff reported for one open file.
typedef struct {
    char error[400];
    char warning[400];
    int errors;
    int warnings;
} ctiff_messages;

static inline int ctiff_store(char *dst, size_t size, const char *module, const char *fmt, va_list ap) {
    char text[320];
    vsnprintf(text, sizeof text, fmt, ap);
    for (char *p = text; *p; p++) if (*p == '\n' || *p == '\r') *p = ' ';
    if (module && *module) snprintf(dst, size, "%s: %s", module, text);
    else snprintf(dst, size, "%s", text);
    return 1;
}

static inline int ctiff_on_error(TIFF *tif, void *user, const char *module, const char *fmt, va_list ap) {
    (void)tif;
    ctiff_messages *m = (ctiff_messages *)user;
    if (m->errors++ == 0) ctiff_store(m->error, sizeof m->error, module, fmt, ap);
    return 1;  // handled: libtiff does not call the process-wide handler
}

static inline int ctiff_on_warning(TIFF *tif, void *user, const char *module, const char *fmt, va_list ap) {
    (void)tif;
    ctiff_messages *m = (ctiff_messages *)user;
    if (m->warnings++ == 0) ctiff_store(m->warning, sizeof m->warning, module, fmt, ap);
    return 1;
}

/// Switches off libtiff's process-wide handlers (which print to stderr). Idempotent.
static inline void ctiff_silence(void) {
    TIFFSetErrorHandler(NULL);
    TIFFSetWarningHandler(NULL);
}

/// Opens `path` (`mode` as TIFFOpen's: "r", "w", "w8" for BigTIFF, "wb" big-endian...)
/// with its messages going to `messages`; a single allocation is capped at `max_alloc`
/// bytes so a header claiming absurd sizes fails cleanly.
static inline TIFF *ctiff_open(const char *path, const char *mode, ctiff_messages *messages, long max_alloc) {
    TIFFOpenOptions *opts = TIFFOpenOptionsAlloc();
    if (!opts) return NULL;
    TIFFOpenOptionsSetErrorHandlerExtR(opts, ctiff_on_error, messages);
    TIFFOpenOptionsSetWarningHandlerExtR(opts, ctiff_on_warning, messages);
    TIFFOpenOptionsSetMaxSingleMemAlloc(opts, (tmsize_t)max_alloc);
    TIFF *tif = TIFFOpenExt(path, mode, opts);
    TIFFOpenOptionsFree(opts);
    return tif;
}

static inline int ctiff_get_u16(TIFF *t, uint32_t tag, uint16_t *v) { return TIFFGetField(t, tag, v); }
static inline int ctiff_get_u32(TIFF *t, uint32_t tag, uint32_t *v) { return TIFFGetField(t, tag, v); }
static inline int ctiff_get_u16_defaulted(TIFF *t, uint32_t tag, uint16_t *v) { return TIFFGetFieldDefaulted(t, tag, v); }
static inline int ctiff_get_u32_defaulted(TIFF *t, uint32_t tag, uint32_t *v) { return TIFFGetFieldDefaulted(t, tag, v); }
static inline int ctiff_get_string(TIFF *t, uint32_t tag, const char **v) { return TIFFGetField(t, tag, v); }
static inline int ctiff_get_float(TIFF *t, uint32_t tag, float *v) { return TIFFGetField(t, tag, v); }
/// ExtraSamples: the count and the array.
static inline int ctiff_get_extra_samples(TIFF *t, uint16_t *count, const uint16_t **types) {
    return TIFFGetField(t, TIFFTAG_EXTRASAMPLES, count, types);
}
static inline int ctiff_set_u16(TIFF *t, uint32_t tag, uint16_t v) { return TIFFSetField(t, tag, (int)v); }
static inline int ctiff_set_u32(TIFF *t, uint32_t tag, uint32_t v) { return TIFFSetField(t, tag, v); }
static inline int ctiff_set_string(TIFF *t, uint32_t tag, const char *v) { return TIFFSetField(t, tag, v); }
static inline int ctiff_set_float(TIFF *t, uint32_t tag, float v) { return TIFFSetField(t, tag, (double)v); }
#endif
