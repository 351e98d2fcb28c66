/* The list of threads whose allocation counters are live (alloc_thread.h).
 * A thread is listed by its first wrapped call and leaves the list when it
 * ends (a thread-specific key's destructor), its counts moved to `gone`:
 * its TLS block is reused by the next thread, so no pointer to it may
 * outlive it. A forked child keeps only its own thread. */
#include "runtime/alloc_thread.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

_Thread_local alloc_tls rt_alloc_tl __attribute__((tls_model("initial-exec")));

static pthread_mutex_t list_lock = PTHREAD_MUTEX_INITIALIZER;
static alloc_tls **list;
static uint32_t list_n, list_cap;
static int64_t gone[3][3]; /* counts of threads no longer listed */
static pthread_key_t exit_key;

/* Under list_lock: t's counts into `gone`, t out of the list. */
static void unlist(alloc_tls *t)
{
    for (int d = 0; d < 3; d++)
        for (int w = 0; w < 3; w++) {
            gone[d][w] += atomic_load_explicit(&t->count[d][w],
                                               memory_order_relaxed);
            atomic_store_explicit(&t->count[d][w], 0, memory_order_relaxed);
        }
    alloc_tls *last = list[--list_n];
    list[t->slot] = last;
    last->slot = t->slot;
    t->listed = 0;
}

/* The thread ends. A wrapped call after this lists it again (and the key's
 * destructors run once more). */
static void at_thread_exit(void *arg)
{
    alloc_tls *t = arg;
    pthread_mutex_lock(&list_lock);
    if (t->listed)
        unlist(t);
    t->left = 0; /* the next call takes the slow path, which lists */
    pthread_mutex_unlock(&list_lock);
}

int alloc_thread_list(alloc_tls *t)
{
    int rc = 0;
    pthread_mutex_lock(&list_lock);
    if (!t->listed) {
        if (list_n == list_cap) {
            uint32_t ncap = list_cap ? list_cap * 2 : 64;
            alloc_tls **n = realloc(list, ncap * sizeof *n);
            if (!n) {
                rc = -1;
                goto out;
            }
            list = n;
            list_cap = ncap;
        }
        t->slot = list_n;
        list[list_n++] = t;
        t->listed = 1;
    }
out:
    pthread_mutex_unlock(&list_lock);
    if (rc == 0)
        pthread_setspecific(exit_key, t);
    return rc;
}

void alloc_thread_sum(int64_t out[3][3])
{
    pthread_mutex_lock(&list_lock);
    memcpy(out, gone, sizeof gone);
    for (uint32_t i = 0; i < list_n; i++)
        for (int d = 0; d < 3; d++)
            for (int w = 0; w < 3; w++)
                out[d][w] += atomic_load_explicit(&list[i]->count[d][w],
                                                  memory_order_relaxed);
    pthread_mutex_unlock(&list_lock);
}

static void fork_prepare(void)
{
    pthread_mutex_lock(&list_lock);
}

static void fork_parent(void)
{
    pthread_mutex_unlock(&list_lock);
}

/* The other threads are gone; their TLS blocks are still mapped (copied
 * with the address space), so their counts can be kept. */
static void fork_child(void)
{
    alloc_tls *me = &rt_alloc_tl;
    for (uint32_t i = list_n; i-- > 0;)
        if (list[i] != me)
            unlist(list[i]);
    pthread_mutex_unlock(&list_lock);
}

int alloc_thread_init(void)
{
    static int done;
    if (done)
        return 0;
    if (pthread_key_create(&exit_key, at_thread_exit) != 0)
        return -1;
    pthread_atfork(fork_prepare, fork_parent, fork_child);
    done = 1;
    return 0;
}
