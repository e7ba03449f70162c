#include "ckernels.h"

// Eight floats; the unaligned type loads and stores anywhere.
typedef float v8 __attribute__((vector_size(32)));
typedef float v8u __attribute__((vector_size(32), aligned(4)));
#define LOAD(p) (*(const v8u *)(p))
#define STORE(p, v) (*(v8u *)(p) = (v))

static inline __attribute__((always_inline))
void conv_body(const float *in, long ic, long ih, long iw, const float *w, long kh, long kw,
               float *out, long o_begin, long o_end, long y_begin, long y_end) {
    const long oh = ih - kh + 1, ow = iw - kw + 1;
    for (long o = o_begin; o < o_end; o++) {
        for (long y = y_begin; y < y_end; y++) {
            float *orow = out + (o * oh + y) * ow;
            long x = 0;
            // 64 outputs at a time in eight registers: one weight broadcast feeds eight FMAs.
            for (; x + 64 <= ow; x += 64) {
                v8 a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0}, a4 = {0}, a5 = {0}, a6 = {0}, a7 = {0};
                for (long c = 0; c < ic; c++) {
                    for (long ky = 0; ky < kh; ky++) {
                        const float *irow = in + (c * ih + y + ky) * iw + x;
                        const float *wr = w + ((o * ic + c) * kh + ky) * kw;
                        for (long kx = 0; kx < kw; kx++) {
                            const v8 wv = (v8){0} + wr[kx];
                            const float *p = irow + kx;
                            a0 += wv * LOAD(p);      a1 += wv * LOAD(p + 8);
                            a2 += wv * LOAD(p + 16); a3 += wv * LOAD(p + 24);
                            a4 += wv * LOAD(p + 32); a5 += wv * LOAD(p + 40);
                            a6 += wv * LOAD(p + 48); a7 += wv * LOAD(p + 56);
                        }
                    }
                }
                STORE(orow + x, a0);      STORE(orow + x + 8, a1);
                STORE(orow + x + 16, a2); STORE(orow + x + 24, a3);
                STORE(orow + x + 32, a4); STORE(orow + x + 40, a5);
                STORE(orow + x + 48, a6); STORE(orow + x + 56, a7);
            }
            for (; x + 8 <= ow; x += 8) {
                v8 a = {0};
                for (long c = 0; c < ic; c++)
                    for (long ky = 0; ky < kh; ky++) {
                        const float *irow = in + (c * ih + y + ky) * iw + x;
                        const float *wr = w + ((o * ic + c) * kh + ky) * kw;
                        for (long kx = 0; kx < kw; kx++) a += ((v8){0} + wr[kx]) * LOAD(irow + kx);
                    }
                STORE(orow + x, a);
            }
            for (; x < ow; x++) {
                float a = 0;
                for (long c = 0; c < ic; c++)
                    for (long ky = 0; ky < kh; ky++) {
                        const float *irow = in + (c * ih + y + ky) * iw + x;
                        const float *wr = w + ((o * ic + c) * kh + ky) * kw;
                        for (long kx = 0; kx < kw; kx++) a += wr[kx] * irow[kx];
                    }
                orow[x] = a;
            }
        }
    }
}

static inline __attribute__((always_inline))
void weight_grad_body(const float *dy, const float *in, long ic, long ih, long iw, long kh, long kw,
                      float *dw, long p_begin, long p_end, int accumulate) {
    const long oh = ih - kh + 1, ow = iw - kw + 1;
    for (long p = p_begin; p < p_end; p++) {
        const long o = p / ic, c = p % ic;
        const float *g = dy + o * oh * ow;
        const float *plane = in + c * ih * iw;
        for (long ky = 0; ky < kh; ky++) {
            for (long kx = 0; kx < kw; kx++) {
                // A dot product of the gradient plane with the shifted input plane; four
                // accumulators keep the FMAs independent.
                v8 a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0};
                float tail = 0;
                for (long y = 0; y < oh; y++) {
                    const float *gr = g + y * ow, *ir = plane + (y + ky) * iw + kx;
                    long x = 0;
                    for (; x + 32 <= ow; x += 32) {
                        a0 += LOAD(gr + x) * LOAD(ir + x);           a1 += LOAD(gr + x + 8) * LOAD(ir + x + 8);
                        a2 += LOAD(gr + x + 16) * LOAD(ir + x + 16); a3 += LOAD(gr + x + 24) * LOAD(ir + x + 24);
                    }
                    for (; x + 8 <= ow; x += 8) a0 += LOAD(gr + x) * LOAD(ir + x);
                    for (; x < ow; x++) tail += gr[x] * ir[x];
                }
                const v8 a = (a0 + a1) + (a2 + a3);
                float s = tail;
                for (int i = 0; i < 8; i++) s += a[i];
                float *d = dw + ((o * ic + c) * kh + ky) * kw + kx;
                *d = accumulate ? *d + s : s;
            }
        }
    }
}

// One Adam update of elements [0, n), in the order of operations of NeuralNet's Adam (and
// PyTorch's): no multiply-add is fused, and the vector square root and division are
// correctly rounded, so each element gets the same bits as the scalar formula.
static inline __attribute__((always_inline))
void adam_body(float *restrict x, float *restrict m, float *restrict v, const float *restrict g, long n,
               float b1, float b2, float step, float bc2_sqrt, float eps) {
#pragma clang fp contract(off)
    const float c1 = 1 - b1, c2 = 1 - b2;
    long i = 0;
    for (; i + 8 <= n; i += 8) {
        v8 gi = LOAD(g + i);
        v8 mi = b1 * LOAD(m + i) + c1 * gi;
        v8 vi = b2 * LOAD(v + i) + c2 * gi * gi;
        STORE(m + i, mi);
        STORE(v + i, vi);
        STORE(x + i, LOAD(x + i) - step * mi / (__builtin_elementwise_sqrt(vi) / bc2_sqrt + eps));
    }
    for (; i < n; i++) {
        float gi = g[i];
        m[i] = b1 * m[i] + c1 * gi;
        v[i] = b2 * v[i] + c2 * gi * gi;
        x[i] -= step * m[i] / (__builtin_sqrtf(v[i]) / bc2_sqrt + eps);
    }
}

#if defined(__x86_64__)
#define FAST __attribute__((target("avx2,fma")))
static int has_fast(void) {
    // Reads the CPU model the compiler runtime fills in at start-up: cheap, no state here.
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}
FAST static void conv_fast(const float *in, long ic, long ih, long iw, const float *w, long kh, long kw,
                           float *out, long o0, long o1, long y0, long y1) {
    conv_body(in, ic, ih, iw, w, kh, kw, out, o0, o1, y0, y1);
}
FAST static void weight_grad_fast(const float *dy, const float *in, long ic, long ih, long iw, long kh, long kw,
                                  float *dw, long p0, long p1, int acc) {
    weight_grad_body(dy, in, ic, ih, iw, kh, kw, dw, p0, p1, acc);
}
FAST static void adam_fast(float *x, float *m, float *v, const float *g, long n, float b1, float b2, float step,
                           float bc2_sqrt, float eps) {
    adam_body(x, m, v, g, n, b1, b2, step, bc2_sqrt, eps);
}
#endif

void aggan_conv_direct(const float *in, long ic, long ih, long iw, const float *w, long kh, long kw,
                       float *out, long o0, long o1, long y0, long y1) {
#if defined(__x86_64__)
    if (has_fast()) { conv_fast(in, ic, ih, iw, w, kh, kw, out, o0, o1, y0, y1); return; }
#endif
    conv_body(in, ic, ih, iw, w, kh, kw, out, o0, o1, y0, y1);
}

void aggan_conv_direct_weight_grad(const float *dy, const float *in, long ic, long ih, long iw,
                                   long kh, long kw, float *dw, long p0, long p1, int acc) {
#if defined(__x86_64__)
    if (has_fast()) { weight_grad_fast(dy, in, ic, ih, iw, kh, kw, dw, p0, p1, acc); return; }
#endif
    weight_grad_body(dy, in, ic, ih, iw, kh, kw, dw, p0, p1, acc);
}

void aggan_adam(float *x, float *m, float *v, const float *g, long n, float b1, float b2, float step, float bc2_sqrt,
                float eps) {
#if defined(__x86_64__)
    if (has_fast()) { adam_fast(x, m, v, g, n, b1, b2, step, bc2_sqrt, eps); return; }
#endif
    adam_body(x, m, v, g, n, b1, b2, step, bc2_sqrt, eps);
}
