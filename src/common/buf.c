/* Bounded double buffer: see buf.h. Writers hold the lock only for a
 * memcpy; the flusher holds it only to flip the halves. */
#include "buf.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "loong/errors.h"

struct lbuf {
    pthread_mutex_t lock;
    size_t cap;
    char *half[2];
    int active;       /* the half writers append to */
    size_t used;      /* bytes in the active half */
    uint64_t records; /* accepted */
    uint64_t dropped;
};

lbuf *lbuf_new(size_t cap)
{
    lbuf *b;

    if (cap == 0 || cap > SIZE_MAX / 2) {
        errno = EINVAL;
        return NULL;
    }
    b = calloc(1, sizeof *b);
    if (b == NULL)
        return NULL;
    b->half[0] = malloc(2 * cap);
    if (b->half[0] == NULL || pthread_mutex_init(&b->lock, NULL) != 0) {
        free(b->half[0]);
        free(b);
        return NULL;
    }
    b->half[1] = b->half[0] + cap;
    b->cap = cap;
    return b;
}

void lbuf_free(lbuf *b)
{
    if (b == NULL)
        return;
    pthread_mutex_destroy(&b->lock);
    free(b->half[0]);
    free(b);
}

int lbuf_append(lbuf *b, const char *rec, size_t len)
{
    int rc = 0;

    pthread_mutex_lock(&b->lock);
    if (len > b->cap) {
        b->dropped++;
        rc = LOONG_EINVAL;
    } else if (len > b->cap - b->used) {
        /* whole records only: a record that does not fit is not split */
        b->dropped++;
        rc = LOONG_EFULL;
    } else {
        if (len > 0)
            memcpy(b->half[b->active] + b->used, rec, len);
        b->used += len;
        b->records++;
    }
    pthread_mutex_unlock(&b->lock);
    return rc;
}

size_t lbuf_swap(lbuf *b, const char **data)
{
    size_t n;

    pthread_mutex_lock(&b->lock);
    *data = b->half[b->active];
    n = b->used;
    b->active ^= 1;
    b->used = 0;
    pthread_mutex_unlock(&b->lock);
    return n;
}

uint64_t lbuf_dropped(lbuf *b)
{
    uint64_t n;

    pthread_mutex_lock(&b->lock);
    n = b->dropped;
    pthread_mutex_unlock(&b->lock);
    return n;
}

uint64_t lbuf_records(lbuf *b)
{
    uint64_t n;

    pthread_mutex_lock(&b->lock);
    n = b->records;
    pthread_mutex_unlock(&b->lock);
    return n;
}

/* Another thread may have held the lock at fork() and does not exist in
 * the child, so the lock is made anew rather than unlocked. The child is a
 * new process with its own output: its counts start at zero too. */
void lbuf_after_fork_child(lbuf *b)
{
    pthread_mutex_init(&b->lock, NULL);
    b->active = 0;
    b->used = 0;
    b->records = 0;
    b->dropped = 0;
}
