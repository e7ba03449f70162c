#ifndef AGGAN_CDNNL_SHIM_H
#define AGGAN_CDNNL_SHIM_H
#include <oneapi/dnnl/dnnl.h>

// oneDNN on Debian threads through OpenMP (libgomp); its thread count follows this call.
extern void omp_set_num_threads(int);
extern int omp_get_max_threads(void);
#endif
