// Direct convolution kernels for layers with few output channels (a 7x7 or 3x3 layer
// that ends in 1 or 3 channels), where im2col + GEMM is a poor fit. Stride 1, no
// padding: the caller pads. Compiled for AVX2 + FMA and for the baseline x86-64; the
// caller's CPU picks the variant at run time. Also Adam's update, vectorised the same way,
// and the OpenMP team Compute.parallelFor runs on (parallel.c).
#ifndef AGGAN_CKERNELS_H
#define AGGAN_CKERNELS_H

// out[o][y][x] = sum over c, ky, kx of w[o][c][ky][kx] * in[c][y + ky][x + kx], for the
// output channels o in [o_begin, o_end) and rows y in [y_begin, y_end); out is written,
// not added to. in: [ic][ih][iw], w: [oc][ic][kh][kw], out: [oc][ih - kh + 1][iw - kw + 1].
void aggan_conv_direct(const float *in, long ic, long ih, long iw,
                       const float *w, long kh, long kw, float *out,
                       long o_begin, long o_end, long y_begin, long y_end);

// dw[o][c][ky][kx] (+)= sum over y, x of dy[o][y][x] * in[c][y + ky][x + kx], for the
// (o, c) pairs p = o * ic + c in [p_begin, p_end); added to dw when `accumulate`, else
// written. dy: [oc][ih - kh + 1][iw - kw + 1], in: [ic][ih][iw], dw: [oc][ic][kh][kw].
void aggan_conv_direct_weight_grad(const float *dy, const float *in, long ic, long ih, long iw,
                                   long kh, long kw, float *dw, long p_begin, long p_end, int accumulate);

// One Adam step of n parameters x with moments m, v and gradient g:
// m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g g; x -= step m / (sqrt(v) / bc2_sqrt + eps),
// each element with the bits of that scalar formula (no fused multiply-add).
void aggan_adam(float *x, float *m, float *v, const float *g, long n, float b1, float b2, float step, float bc2_sqrt,
                float eps);

// Calls body(context, thread, count) once on each of the `threads` threads of the OpenMP
// (libgomp) team, thread = 0..<count, and returns when all have returned. count can be
// below `threads` when the runtime gives fewer.
typedef void (*aggan_parallel_body)(void *context, int thread, int count);
void aggan_parallel(int threads, aggan_parallel_body body, void *context);

// The OpenMP thread count (omp_set_num_threads / omp_get_max_threads): the team size of
// aggan_parallel and of oneDNN's kernels.
void aggan_set_threads(int threads);
int aggan_max_threads(void);

// oneDNN's convolution primitives for one image, on plain buffers (onednn_conv.c):
// src [c][h][w], weights [o][c][kh][kw], dst [o][oh][ow], zero padding `pad` on every side.
// aggan_conv_get returns the cached primitives of a geometry, by oneDNN's direct algorithm
// or, when `winograd`, by Winograd's F(4x4, 3x3) (3x3 kernels of stride 1, on CPUs oneDNN
// has it for: AVX-512), creating them on first use (NULL when oneDNN has none, with the
// reason in `error`; a failure is remembered). The calls return 1 on success, 0 on
// failure (out of memory); each writes its whole output.
typedef struct aggan_conv aggan_conv;
aggan_conv *aggan_conv_get(long c, long h, long w, long o, long kh, long kw, long stride, long pad, long winograd,
                           char *error, unsigned long error_len);
int aggan_conv_forward(const aggan_conv *conv, const float *src, const float *weights, float *dst);
int aggan_conv_backward_data(const aggan_conv *conv, const float *diff_dst, const float *weights, float *diff_src);
int aggan_conv_backward_weights(const aggan_conv *conv, const float *src, const float *diff_dst, float *diff_weights);
// The instruction set oneDNN's kernels use on this CPU (e.g. "AVX-512").
const char *aggan_cpu_isa(void);
// 1 on an AMD CPU (cpuid's vendor), else 0.
int aggan_cpu_is_amd(void);

// Winograd's F(2x2, 3x3) transforms (winograd.c, which says how the arrays are laid out)
// for a 3x3 convolution of stride 1 without padding of in [c][h][w] by w [o][c][3][3]
// into out [o][h - 2][w - 2]. Each call covers a range of the weight pairs
// p = oc * c + ic, of the input channels or of the output channels, so threads can share
// the work. Weights: u [16][o][c] written; the adjoint writes dw, or adds to it when
// `accumulate`. Input: v [16][c][nt] written for the tile rows [ty0, ty1). Output: out's
// rows of the band written from m [16][o][nt]; the adjoint writes dm from dy.
void aggan_wino_weights(const float *w, long o, long c, float *u, long p_begin, long p_end);
void aggan_wino_weights_adjoint(const float *du, long o, long c, float *dw, long p_begin, long p_end, int accumulate);
void aggan_wino_input(const float *in, long c, long h, long w, long ty0, long ty1, float *v, long c_begin, long c_end);
void aggan_wino_output(const float *m, long o, long oh, long ow, long ty0, long ty1, float *out, long o_begin, long o_end);
void aggan_wino_output_adjoint(const float *dy, long o, long oh, long ow, long ty0, long ty1, float *dm, long o_begin,
                               long o_end);

#endif
