/* Lock-free reading of other threads' Python stacks (sample_read.c). */
#ifndef LOONG_RUNTIME_SAMPLE_READ_H
#define LOONG_RUNTIME_SAMPLE_READ_H

#include <stddef.h>
#include <stdint.h>

#define RT_SAMPLE_MAX_FRAMES 512

typedef struct rt_raw_stack {
    const void *next;          /* the next thread state in the list */
    unsigned long pthread;     /* the thread state's thread_id */
    uint64_t native_id;        /* 3.11+; 0 below */
    size_t ncodes;
    const void *codes[RT_SAMPLE_MAX_FRAMES]; /* innermost first */
    const void *globals[RT_SAMPLE_MAX_FRAMES]; /* each frame's globals */
} rt_raw_stack;

typedef struct rt_raw_code {
    int valid;                 /* it was readable and a code object */
    const void *extra;         /* co_extra */
    int first_line;
} rt_raw_code;

/* 0 when reading our own memory safely works here. */
int rt_sread_init(void);
/* Copy n bytes at addr; -1 (and no fault) where addr is not readable. */
int rt_sread(const void *addr, void *dst, size_t n);
/* The code objects on ts's stack; -1 if ts cannot be read. */
int rt_sread_stack(const void *ts, rt_raw_stack *out);
/* The headers of n code objects. */
void rt_sread_codes(const void *const *codes, size_t n, rt_raw_code *out);
/* 0 when n bytes at addr are writable (written back unchanged). */
int rt_swrite_probe(void *addr, size_t n);
/* Slot index of a co_extra block; -1 if unreadable or absent. */
int rt_sread_extra_slot(const void *extra, long index, uint64_t *value);

#endif
