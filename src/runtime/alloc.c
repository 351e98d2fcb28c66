/* Allocation sampling (LOONG_CAP_ALLOCATIONS): not offered yet, so the
 * allocators are never wrapped and there are no per-domain totals. */
#include "rt.h"

void rt_alloc_totals(int64_t allocs[3], int64_t bytes[3])
{
    for (int d = 0; d < 3; d++)
        allocs[d] = bytes[d] = -1;
}
