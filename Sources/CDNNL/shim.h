#ifndef AGGAN_CDNNL_SHIM_H
#define AGGAN_CDNNL_SHIM_H
#include <oneapi/dnnl/dnnl.h>
// mallopt, for Compute.keepFreedMemory.
#include <malloc.h>

// oneDNN on Debian threads through OpenMP (libgomp); its thread count follows this call.
extern void omp_set_num_threads(int);
extern int omp_get_max_threads(void);
// The entry point a compiler emits for `#pragma omp parallel`: runs fn(data) on every
// thread of a team (the team oneDNN's kernels use, already awake after each GEMM).
extern void GOMP_parallel(void (*fn)(void *), void *data, unsigned num_threads, unsigned flags);
extern int omp_get_thread_num(void);
extern int omp_get_num_threads(void);
#endif
