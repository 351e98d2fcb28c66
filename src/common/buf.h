/* A bounded record buffer between application threads and the flusher.
 *
 * Two halves of `cap` bytes: writers append whole records to the active
 * half under a short mutex (a memcpy, never I/O); the flusher swaps halves
 * and writes the full one out with no lock held. When the active half has
 * no room, the record is dropped and counted: writers never wait for I/O.
 */
#ifndef LOONG_COMMON_BUF_H
#define LOONG_COMMON_BUF_H

#include <stddef.h>
#include <stdint.h>

typedef struct lbuf lbuf;

lbuf *lbuf_new(size_t cap);
void lbuf_free(lbuf *b);
/* Append one whole record. 0, or LOONG_EFULL (dropped and counted), or
 * LOONG_EINVAL if len > cap (dropped and counted too). */
int lbuf_append(lbuf *b, const char *rec, size_t len);
/* Flusher only: make the filled half readable and give writers the empty
 * one. *data stays valid until the next lbuf_swap. Returns its length. */
size_t lbuf_swap(lbuf *b, const char **data);
uint64_t lbuf_dropped(lbuf *b);   /* records dropped so far */
uint64_t lbuf_records(lbuf *b);   /* records accepted so far */
/* In a fork child: reinitialise the lock, forget the parent's records. */
void lbuf_after_fork_child(lbuf *b);

#endif
