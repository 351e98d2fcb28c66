/* The calling thread's Python stack read straight from its frames, for the
 * allocation sampler (alloc.c): no frame object is made, no Python API is
 * called, nothing is allocated. Call with the interpreter lock held. */
#ifndef LOONG_RUNTIME_ALLOC_STACK_H
#define LOONG_RUNTIME_ALLOC_STACK_H

#include <stddef.h>

/* The code objects and globals of ts's frames, innermost first; returns
 * how many were written (at most max). */
size_t rt_alloc_raw_stack(void *ts, const void **codes, const void **globals,
                          size_t max);

#endif
