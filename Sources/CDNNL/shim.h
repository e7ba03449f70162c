#ifndef AGGAN_CDNNL_SHIM_H
#define AGGAN_CDNNL_SHIM_H
#include <oneapi/dnnl/dnnl.h>
// mallopt, for Compute.keepFreedMemory.
#include <malloc.h>

#endif
