// The thread team behind Compute.parallelFor: libgomp's, the OpenMP runtime oneDNN on
// Debian threads through, so the loops between GEMMs run on the team the GEMMs have just
// woken and nothing else competes for the cores. A second runtime (LLVM's libomp) would
// bring a second pool of threads.
//
// `#pragma omp parallel num_threads(n)` is what this file means, but the Swift
// toolchain's clang generates OpenMP code only for libomp (`-fopenmp=libgomp` links
// libgomp and silently ignores the pragma: the region runs on one thread). So the file
// calls the entry point GCC compiles that pragma to, GOMP_parallel (libgomp's ABI, symbol
// version GOMP_4.0, which every GCC-built OpenMP program links against). The OpenMP
// declarations this package uses are all here; the target links libgomp (Package.swift).
#include "ckernels.h"

#if __has_include(<omp.h>)
#include <omp.h>
#else
void omp_set_num_threads(int);
int omp_get_max_threads(void);
int omp_get_thread_num(void);
int omp_get_num_threads(void);
#endif

// Runs fn(data) on every thread of a team of num_threads (flags 0: no proc_bind).
void GOMP_parallel(void (*fn)(void *), void *data, unsigned num_threads, unsigned flags);

struct parallel_job {
    aggan_parallel_body body;
    void *context;
};

static void run_on_thread(void *data) {
    const struct parallel_job *job = data;
    job->body(job->context, omp_get_thread_num(), omp_get_num_threads());
}

void aggan_parallel(int threads, aggan_parallel_body body, void *context) {
    struct parallel_job job = {body, context};
    GOMP_parallel(run_on_thread, &job, threads > 0 ? (unsigned)threads : 1u, 0);
}

void aggan_set_threads(int threads) { omp_set_num_threads(threads > 0 ? threads : 1); }

int aggan_max_threads(void) { return omp_get_max_threads(); }
