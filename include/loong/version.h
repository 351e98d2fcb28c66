/* loong: versions.
 *
 * LOONG_ABI_MAJOR changes only when the tool interface breaks (never, we
 * hope). LOONG_ABI_MINOR grows when functions are appended to loong_api or
 * fields to a struct registered with its size. A toolkit built against minor
 * N loads in any runtime of the same major whose minor is >= N.
 */
#ifndef LOONG_VERSION_H
#define LOONG_VERSION_H

#define LOONG_VERSION_MAJOR 0
#define LOONG_VERSION_MINOR 1
#define LOONG_VERSION_PATCH 0
#define LOONG_VERSION_STRING "0.1.0"

#define LOONG_ABI_MAJOR 1
#define LOONG_ABI_MINOR 4

#endif /* LOONG_VERSION_H */
