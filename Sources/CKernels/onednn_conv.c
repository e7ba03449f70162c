// oneDNN's own convolution primitives (forward, backward data, backward weights) for one
// image at a time, on plain [C, H, W] buffers: each call reorders the image, the kernel
// and the gradients into the memory formats oneDNN chose for the machine (blocked
// layouts such as nChw16c on AVX-512), runs the primitive and reorders the result back.
// Primitive descriptors and primitives are made once per geometry, algorithm (direct, or
// Winograd's F(4x4, 3x3) for 3x3 kernels of stride 1, where the CPU has it) and thread
// count, and cached: oneDNN fixes a primitive's thread count when it creates it, so one
// made for 2 threads would still run 2 after `--threads auto` dropped to 1 under load.
// Every call allocates its own blocked buffers and scratchpad, so calls are reentrant.
#include "ckernels.h"

#include <oneapi/dnnl/dnnl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct aggan_conv {
    long c, h, w, o, kh, kw, stride, pad, winograd, threads;
    long oh, ow;
    dnnl_primitive_desc_t fwd_pd, bwd_data_pd, bwd_weights_pd;
    dnnl_primitive_t fwd, bwd_data, bwd_weights;
    struct aggan_conv *next;
};

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static struct aggan_conv *cache;
static dnnl_engine_t engine;

static void set_error(char *error, size_t len, const char *what, dnnl_status_t status) {
    if (error && len) snprintf(error, len, "oneDNN: %s failed (status %d)", what, (int)status);
}

#define TRY(call, what)                                                                            \
    do {                                                                                           \
        dnnl_status_t s_ = (call);                                                                 \
        if (s_ != dnnl_success) { set_error(error, error_len, what, s_); goto fail; }               \
    } while (0)

static dnnl_primitive_attr_t user_scratchpad(void) {
    dnnl_primitive_attr_t attr = NULL;
    if (dnnl_primitive_attr_create(&attr) != dnnl_success) return NULL;
    dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user);
    return attr;
}

static struct aggan_conv *create(long c, long h, long w, long o, long kh, long kw, long stride, long pad, long winograd,
                                 long threads, char *error, size_t error_len) {
    struct aggan_conv *k = calloc(1, sizeof *k);
    dnnl_primitive_attr_t attr = NULL;
    if (!k) { if (error && error_len) snprintf(error, error_len, "out of memory"); return NULL; }
    *k = (struct aggan_conv){c, h, w, o, kh, kw, stride, pad, winograd, threads,
                             (h + 2 * pad - kh) / stride + 1, (w + 2 * pad - kw) / stride + 1};
    dnnl_alg_kind_t algorithm = winograd ? dnnl_convolution_winograd : dnnl_convolution_direct;
    if (!engine) TRY(dnnl_engine_create(&engine, dnnl_cpu, 0), "engine creation");
    dnnl_dims_t src_dims = {1, c, h, w}, wei_dims = {o, c, kh, kw}, dst_dims = {1, o, k->oh, k->ow};
    dnnl_dims_t strides = {stride, stride}, padding = {pad, pad};
    dnnl_memory_desc_t src, wei, dst;
    TRY(dnnl_memory_desc_init_by_tag(&src, 4, src_dims, dnnl_f32, dnnl_format_tag_any), "source descriptor");
    TRY(dnnl_memory_desc_init_by_tag(&wei, 4, wei_dims, dnnl_f32, dnnl_format_tag_any), "weights descriptor");
    TRY(dnnl_memory_desc_init_by_tag(&dst, 4, dst_dims, dnnl_f32, dnnl_format_tag_any), "destination descriptor");
    attr = user_scratchpad();
    if (!attr) { set_error(error, error_len, "attribute creation", dnnl_out_of_memory); goto fail; }
    dnnl_convolution_desc_t fd, bd, wd;
    TRY(dnnl_convolution_forward_desc_init(&fd, dnnl_forward_training, algorithm, &src, &wei, NULL, &dst,
                                           strides, padding, padding), "forward descriptor");
    TRY(dnnl_primitive_desc_create(&k->fwd_pd, &fd, attr, engine, NULL), "forward primitive descriptor");
    TRY(dnnl_convolution_backward_data_desc_init(&bd, algorithm, &src, &wei, &dst, strides, padding, padding),
        "backward-data descriptor");
    TRY(dnnl_primitive_desc_create(&k->bwd_data_pd, &bd, attr, engine, k->fwd_pd), "backward-data primitive descriptor");
    TRY(dnnl_convolution_backward_weights_desc_init(&wd, algorithm, &src, &wei, NULL, &dst, strides, padding,
                                                    padding), "backward-weights descriptor");
    TRY(dnnl_primitive_desc_create(&k->bwd_weights_pd, &wd, attr, engine, k->fwd_pd), "backward-weights primitive descriptor");
    TRY(dnnl_primitive_create(&k->fwd, k->fwd_pd), "forward primitive");
    TRY(dnnl_primitive_create(&k->bwd_data, k->bwd_data_pd), "backward-data primitive");
    TRY(dnnl_primitive_create(&k->bwd_weights, k->bwd_weights_pd), "backward-weights primitive");
    dnnl_primitive_attr_destroy(attr);
    return k;
fail:
    if (attr) dnnl_primitive_attr_destroy(attr);
    // Primitive descriptors made before the failure are left to the process (rare, small).
    free(k);
    return NULL;
}

aggan_conv *aggan_conv_get(long c, long h, long w, long o, long kh, long kw, long stride, long pad, long winograd,
                           char *error, unsigned long error_len) {
    long threads = aggan_max_threads();
    pthread_mutex_lock(&cache_lock);
    struct aggan_conv *k = cache;
    while (k && !(k->c == c && k->h == h && k->w == w && k->o == o && k->kh == kh && k->kw == kw &&
                  k->stride == stride && k->pad == pad && k->winograd == winograd && k->threads == threads)) k = k->next;
    if (!k) {
        // A geometry oneDNN has no primitive for is remembered too (fwd NULL), so that a
        // layer asked for on every call does not try again each time.
        k = create(c, h, w, o, kh, kw, stride, pad, winograd, threads, error, error_len);
        if (!k && (k = calloc(1, sizeof *k)))
            *k = (struct aggan_conv){.c = c, .h = h, .w = w, .o = o, .kh = kh, .kw = kw, .stride = stride, .pad = pad,
                                     .winograd = winograd, .threads = threads};
        if (k) { k->next = cache; cache = k; }
    } else if (!k->fwd && error && error_len) {
        snprintf(error, error_len, "oneDNN: no %s primitive for this geometry", winograd ? "Winograd" : "direct");
    }
    pthread_mutex_unlock(&cache_lock);
    return k && k->fwd ? k : NULL;
}

// A memory object of `md`: on `user` when given (plain layout, not owned), else allocated.
static dnnl_memory_t memory(const dnnl_memory_desc_t *md, void *user) {
    dnnl_memory_t m = NULL;
    if (dnnl_memory_create(&m, md, engine, user ? user : DNNL_MEMORY_ALLOCATE) != dnnl_success) return NULL;
    return m;
}

// Copies `from` into `to` (the same tensor in another memory format).
static int reorder(dnnl_memory_t from, dnnl_memory_t to, dnnl_stream_t stream) {
    const dnnl_memory_desc_t *from_md, *to_md;
    dnnl_memory_get_memory_desc(from, &from_md);
    dnnl_memory_get_memory_desc(to, &to_md);
    dnnl_primitive_desc_t rpd = NULL;
    dnnl_primitive_t r = NULL;
    int ok = dnnl_reorder_primitive_desc_create(&rpd, from_md, engine, to_md, engine, NULL) == dnnl_success &&
             dnnl_primitive_create(&r, rpd) == dnnl_success;
    if (ok) {
        dnnl_exec_arg_t args[] = {{DNNL_ARG_FROM, from}, {DNNL_ARG_TO, to}};
        ok = dnnl_primitive_execute(r, stream, 2, args) == dnnl_success;
    }
    if (r) dnnl_primitive_destroy(r);
    if (rpd) dnnl_primitive_desc_destroy(rpd);
    return ok;
}

// One argument of a call: the caller's plain buffer, and the memory the primitive reads or
// writes (the same buffer when oneDNN chose the plain layout, else a blocked copy).
struct argument {
    dnnl_memory_t user, inner;
};

static int argument(struct argument *a, const dnnl_memory_desc_t *inner, long d0, long d1, long d2, long d3,
                    dnnl_format_tag_t plain, const float *data, int read, dnnl_stream_t stream) {
    dnnl_dims_t dims = {d0, d1, d2, d3};
    dnnl_memory_desc_t md;
    a->user = a->inner = NULL;
    if (dnnl_memory_desc_init_by_tag(&md, 4, dims, dnnl_f32, plain) != dnnl_success) return 0;
    if (!(a->user = memory(&md, (void *)data))) return 0;
    if (dnnl_memory_desc_equal(&md, inner)) { a->inner = a->user; return 1; }
    if (!(a->inner = memory(inner, NULL))) return 0;
    return !read || reorder(a->user, a->inner, stream);
}

// Copies an argument's blocked result back into the caller's plain buffer.
static int write_back(struct argument *a, dnnl_stream_t stream) {
    return a->inner == a->user || reorder(a->inner, a->user, stream);
}

static void release(struct argument *a) {
    if (a->inner && a->inner != a->user) dnnl_memory_destroy(a->inner);
    if (a->user) dnnl_memory_destroy(a->user);
}

// Runs `p` (of `pd`) on three arguments, the last of which it writes.
static int run(dnnl_primitive_desc_t pd, dnnl_primitive_t p, const struct argument *a, const int *kinds,
               dnnl_stream_t stream) {
    const dnnl_memory_desc_t *smd = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
    dnnl_memory_t scratch = smd ? memory(smd, NULL) : NULL;
    int ok = !smd || scratch;
    if (ok) {
        dnnl_exec_arg_t args[4] = {{kinds[0], a[0].inner}, {kinds[1], a[1].inner}, {kinds[2], a[2].inner},
                                   {DNNL_ARG_SCRATCHPAD, scratch}};
        ok = dnnl_primitive_execute(p, stream, scratch ? 4 : 3, args) == dnnl_success;
    }
    if (scratch) dnnl_memory_destroy(scratch);
    return ok;
}

// The three calls share this: arguments 0 and 1 are read, argument 2 is written.
static int call(const aggan_conv *k, dnnl_primitive_desc_t pd, dnnl_primitive_t p, const int *kinds,
                const dnnl_query_t *queries, const float *in0, const float *in1, float *out) {
    dnnl_stream_t stream = NULL;
    if (dnnl_stream_create(&stream, engine, dnnl_stream_default_flags) != dnnl_success) return 0;
    struct argument a[3] = {{0}};
    const float *data[3] = {in0, in1, out};
    int ok = 1;
    for (int i = 0; i < 3 && ok; i++) {
        const dnnl_memory_desc_t *md = dnnl_primitive_desc_query_md(pd, queries[i], 0);
        int weights = queries[i] == dnnl_query_weights_md || queries[i] == dnnl_query_diff_weights_md;
        int source = queries[i] == dnnl_query_src_md || queries[i] == dnnl_query_diff_src_md;
        ok = md && (weights ? argument(&a[i], md, k->o, k->c, k->kh, k->kw, dnnl_oihw, data[i], i < 2, stream)
                    : source ? argument(&a[i], md, 1, k->c, k->h, k->w, dnnl_nchw, data[i], i < 2, stream)
                             : argument(&a[i], md, 1, k->o, k->oh, k->ow, dnnl_nchw, data[i], i < 2, stream));
    }
    ok = ok && run(pd, p, a, kinds, stream) && write_back(&a[2], stream);
    if (ok) ok = dnnl_stream_wait(stream) == dnnl_success;
    for (int i = 0; i < 3; i++) release(&a[i]);
    dnnl_stream_destroy(stream);
    return ok;
}

int aggan_conv_forward(const aggan_conv *k, const float *src, const float *weights, float *dst) {
    static const int kinds[3] = {DNNL_ARG_SRC, DNNL_ARG_WEIGHTS, DNNL_ARG_DST};
    static const dnnl_query_t queries[3] = {dnnl_query_src_md, dnnl_query_weights_md, dnnl_query_dst_md};
    return call(k, k->fwd_pd, k->fwd, kinds, queries, src, weights, dst);
}

int aggan_conv_backward_data(const aggan_conv *k, const float *diff_dst, const float *weights, float *diff_src) {
    static const int kinds[3] = {DNNL_ARG_DIFF_DST, DNNL_ARG_WEIGHTS, DNNL_ARG_DIFF_SRC};
    static const dnnl_query_t queries[3] = {dnnl_query_diff_dst_md, dnnl_query_weights_md, dnnl_query_diff_src_md};
    return call(k, k->bwd_data_pd, k->bwd_data, kinds, queries, diff_dst, weights, diff_src);
}

int aggan_conv_backward_weights(const aggan_conv *k, const float *src, const float *diff_dst, float *diff_weights) {
    static const int kinds[3] = {DNNL_ARG_SRC, DNNL_ARG_DIFF_DST, DNNL_ARG_DIFF_WEIGHTS};
    static const dnnl_query_t queries[3] = {dnnl_query_src_md, dnnl_query_diff_dst_md, dnnl_query_diff_weights_md};
    return call(k, k->bwd_weights_pd, k->bwd_weights, kinds, queries, src, diff_dst, diff_weights);
}

int aggan_cpu_is_amd(void) {
#if defined(__x86_64__)
    return __builtin_cpu_is("amd") ? 1 : 0;
#else
    return 0;
#endif
}

const char *aggan_cpu_isa(void) {
    switch (dnnl_get_effective_cpu_isa()) {
    case dnnl_cpu_isa_sse41: return "SSE4.1";
    case dnnl_cpu_isa_avx: return "AVX";
    case dnnl_cpu_isa_avx2: return "AVX2";
    case dnnl_cpu_isa_avx2_vnni: return "AVX2 (VNNI)";
    case dnnl_cpu_isa_avx512_mic: case dnnl_cpu_isa_avx512_mic_4ops: return "AVX-512 (MIC)";
    case dnnl_cpu_isa_avx512_core: return "AVX-512";
    case dnnl_cpu_isa_avx512_core_vnni: return "AVX-512 (VNNI)";
    case dnnl_cpu_isa_avx512_core_bf16: return "AVX-512 (BF16)";
    case dnnl_cpu_isa_avx512_core_amx: return "AVX-512 + AMX";
    default: return "baseline x86-64";
    }
}
