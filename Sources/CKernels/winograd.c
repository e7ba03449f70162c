// Winograd's minimal filtering F(2x2, 3x3) (Lavin and Gray, 2016) for 3x3 convolutions of
// stride 1 without padding, on CPUs where oneDNN has no Winograd primitives. The caller
// (Tensor/Winograd.swift) multiplies the transformed arrays with GEMMs; these loops are the
// transforms:
//   forward         U = G g G^T, V = B^T d B, M = U V (per element), Y = A^T M A
//   weight gradient dM = A dY A^T, dU = dM V^T, dg = G^T dU G
// (the input gradient is the forward pass of the padded output gradient with the flipped
// kernel). Output tile (ty, tx) is the 2x2 block at (2 ty, 2 tx); it reads the input's 4x4
// patch at the same corner. A band is the tile rows [ty0, ty1) of tw = ceil(ow / 2) tiles
// each, nt = (ty1 - ty0) * tw tiles; transformed arrays are [16][channels][nt], element
// e = 4 i + j of the 4x4 tile. Pixels past the image read as zero and are not written.
// Rows are split into their even and odd pixels first, so every loop over a row of tiles
// is contiguous and vectorises.
#include "ckernels.h"
#include <stdlib.h>
#include <string.h>

// Scratch for one call, aborting the process when memory is out (as the Swift side does).
static float *scratch(long floats) {
    float *p = calloc((size_t)floats, sizeof(float));
    if (!p) abort();
    return p;
}

// even[k] = row[2k], odd[k] = row[2k + 1] for k < n, zero past w (and for a NULL row).
static void split_row(const float *row, long w, long n, float *restrict even, float *restrict odd) {
    long k = 0;
    if (row) {
        const long full = w / 2 < n ? w / 2 : n;
        for (; k < full; k++) { even[k] = row[2 * k]; odd[k] = row[2 * k + 1]; }
    }
    for (; k < n; k++) { even[k] = row && 2 * k < w ? row[2 * k] : 0; odd[k] = 0; }
}

// Weight pairs transformed per chunk: the 16 rows of a chunk are written contiguously.
#define PAIRS 64

void aggan_wino_weights(const float *w, long o, long c, float *u, long p_begin, long p_end) {
    const long oc = o * c;
    float t[16][PAIRS];
    for (long p0 = p_begin; p0 < p_end; p0 += PAIRS) {
        const long n = p_end - p0 < PAIRS ? p_end - p0 : PAIRS;
        for (long q = 0; q < n; q++) {
            const float *g = w + (p0 + q) * 9;
            float r[4][3];  // G g
            for (long k = 0; k < 3; k++) {
                r[0][k] = g[k];
                r[1][k] = 0.5f * (g[k] + g[3 + k] + g[6 + k]);
                r[2][k] = 0.5f * (g[k] - g[3 + k] + g[6 + k]);
                r[3][k] = g[6 + k];
            }
            for (long i = 0; i < 4; i++) {  // (G g) G^T
                t[4 * i][q] = r[i][0];
                t[4 * i + 1][q] = 0.5f * (r[i][0] + r[i][1] + r[i][2]);
                t[4 * i + 2][q] = 0.5f * (r[i][0] - r[i][1] + r[i][2]);
                t[4 * i + 3][q] = r[i][2];
            }
        }
        for (long e = 0; e < 16; e++) memcpy(u + e * oc + p0, t[e], (size_t)n * sizeof(float));
    }
}

void aggan_wino_weights_adjoint(const float *du, long o, long c, float *dw, long p_begin, long p_end, int accumulate) {
    const long oc = o * c;
    for (long p = p_begin; p < p_end; p++) {
        float t[4][3];  // dU G
        for (long i = 0; i < 4; i++) {
            const float d0 = du[(4 * i) * oc + p], d1 = du[(4 * i + 1) * oc + p];
            const float d2 = du[(4 * i + 2) * oc + p], d3 = du[(4 * i + 3) * oc + p];
            t[i][0] = d0 + 0.5f * (d1 + d2);
            t[i][1] = 0.5f * (d1 - d2);
            t[i][2] = 0.5f * (d1 + d2) + d3;
        }
        float *g = dw + p * 9;
        for (long k = 0; k < 3; k++) {  // G^T (dU G)
            const float r0 = t[0][k] + 0.5f * (t[1][k] + t[2][k]);
            const float r1 = 0.5f * (t[1][k] - t[2][k]);
            const float r2 = 0.5f * (t[1][k] + t[2][k]) + t[3][k];
            if (accumulate) { g[k] += r0; g[3 + k] += r1; g[6 + k] += r2; }
            else { g[k] = r0; g[3 + k] = r1; g[6 + k] = r2; }
        }
    }
}

void aggan_wino_input(const float *in, long c, long h, long w, long ty0, long ty1, float *v, long c_begin, long c_end) {
    const long tw = (w - 1) / 2, nt = (ty1 - ty0) * tw, cn = c * nt, n = tw + 1;  // tw = ceil((w - 2) / 2)
    float *buf = scratch(16 * n);
    float *ev[4], *od[4], *te[4], *to[4];
    for (long i = 0; i < 4; i++) { ev[i] = buf + i * n; od[i] = buf + (4 + i) * n; te[i] = buf + (8 + i) * n; to[i] = buf + (12 + i) * n; }
    for (long ch = c_begin; ch < c_end; ch++) {
        for (long ty = ty0; ty < ty1; ty++) {
            for (long i = 0; i < 4; i++) {
                const long y = 2 * ty + i;
                split_row(y < h ? in + (ch * h + y) * w : NULL, w, n, ev[i], od[i]);
            }
            for (long k = 0; k < n; k++) {  // B^T d
                te[0][k] = ev[0][k] - ev[2][k]; to[0][k] = od[0][k] - od[2][k];
                te[1][k] = ev[1][k] + ev[2][k]; to[1][k] = od[1][k] + od[2][k];
                te[2][k] = ev[2][k] - ev[1][k]; to[2][k] = od[2][k] - od[1][k];
                te[3][k] = ev[1][k] - ev[3][k]; to[3][k] = od[1][k] - od[3][k];
            }
            float *out = v + ch * nt + (ty - ty0) * tw;
            for (long i = 0; i < 4; i++) {  // (B^T d) B: columns 2tx .. 2tx + 3 are even[tx], odd[tx], even[tx + 1], odd[tx + 1]
                const float *e = te[i], *d = to[i];
                float *o0 = out + (4 * i) * cn, *o1 = o0 + cn, *o2 = o1 + cn, *o3 = o2 + cn;
                for (long tx = 0; tx < tw; tx++) {
                    o0[tx] = e[tx] - e[tx + 1];
                    o1[tx] = d[tx] + e[tx + 1];
                    o2[tx] = e[tx + 1] - d[tx];
                    o3[tx] = d[tx] - d[tx + 1];
                }
            }
        }
    }
    free(buf);
}

void aggan_wino_output(const float *m, long o, long oh, long ow, long ty0, long ty1, float *out, long o_begin, long o_end) {
    const long tw = (ow + 1) / 2, nt = (ty1 - ty0) * tw, on = o * nt;
    float *buf = scratch(12 * tw);
    float *s0[4], *s1[4], *r[4];
    for (long i = 0; i < 4; i++) { s0[i] = buf + i * tw; s1[i] = buf + (4 + i) * tw; r[i] = buf + (8 + i) * tw; }
    for (long oc = o_begin; oc < o_end; oc++) {
        for (long ty = ty0; ty < ty1; ty++) {
            const float *src = m + oc * nt + (ty - ty0) * tw;
            for (long i = 0; i < 4; i++) {  // M A
                const float *m0 = src + (4 * i) * on, *m1 = m0 + on, *m2 = m1 + on, *m3 = m2 + on;
                for (long tx = 0; tx < tw; tx++) { s0[i][tx] = m0[tx] + m1[tx] + m2[tx]; s1[i][tx] = m1[tx] - m2[tx] - m3[tx]; }
            }
            for (long tx = 0; tx < tw; tx++) {  // A^T (M A): rows 0 and 1, even and odd columns
                r[0][tx] = s0[0][tx] + s0[1][tx] + s0[2][tx];
                r[1][tx] = s1[0][tx] + s1[1][tx] + s1[2][tx];
                r[2][tx] = s0[1][tx] - s0[2][tx] - s0[3][tx];
                r[3][tx] = s1[1][tx] - s1[2][tx] - s1[3][tx];
            }
            for (long j = 0; j < 2 && 2 * ty + j < oh; j++) {
                float *row = out + (oc * oh + 2 * ty + j) * ow;
                const float *even = r[2 * j], *odd = r[2 * j + 1];
                const long pairs = ow / 2;
                for (long tx = 0; tx < pairs; tx++) { row[2 * tx] = even[tx]; row[2 * tx + 1] = odd[tx]; }
                if (ow % 2) row[ow - 1] = even[pairs];
            }
        }
    }
    free(buf);
}

void aggan_wino_output_adjoint(const float *dy, long o, long oh, long ow, long ty0, long ty1, float *dm, long o_begin,
                               long o_end) {
    const long tw = (ow + 1) / 2, nt = (ty1 - ty0) * tw, on = o * nt;
    float *buf = scratch(12 * tw);
    float *ev[2], *od[2], *re[4], *ro[4];  // dY's rows split; A dY, even and odd columns
    for (long i = 0; i < 2; i++) { ev[i] = buf + i * tw; od[i] = buf + (2 + i) * tw; }
    for (long i = 0; i < 4; i++) { re[i] = buf + (4 + i) * tw; ro[i] = buf + (8 + i) * tw; }
    for (long oc = o_begin; oc < o_end; oc++) {
        for (long ty = ty0; ty < ty1; ty++) {
            for (long j = 0; j < 2; j++) {
                const long y = 2 * ty + j;
                split_row(y < oh ? dy + (oc * oh + y) * ow : NULL, ow, tw, ev[j], od[j]);
            }
            for (long tx = 0; tx < tw; tx++) {  // A dY
                re[0][tx] = ev[0][tx];              ro[0][tx] = od[0][tx];
                re[1][tx] = ev[0][tx] + ev[1][tx];  ro[1][tx] = od[0][tx] + od[1][tx];
                re[2][tx] = ev[0][tx] - ev[1][tx];  ro[2][tx] = od[0][tx] - od[1][tx];
                re[3][tx] = -ev[1][tx];             ro[3][tx] = -od[1][tx];
            }
            float *dst = dm + oc * nt + (ty - ty0) * tw;
            for (long i = 0; i < 4; i++) {  // (A dY) A^T
                float *d0 = dst + (4 * i) * on, *d1 = d0 + on, *d2 = d1 + on, *d3 = d2 + on;
                const float *e = re[i], *d = ro[i];
                for (long tx = 0; tx < tw; tx++) {
                    d0[tx] = e[tx];
                    d1[tx] = e[tx] + d[tx];
                    d2[tx] = e[tx] - d[tx];
                    d3[tx] = -d[tx];
                }
            }
        }
    }
    free(buf);
}
