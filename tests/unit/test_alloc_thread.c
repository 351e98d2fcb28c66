/* Unit tests of src/runtime/alloc_thread.c, the allocation sampler's
 * per-thread counters: a thread's counts are summed while it lives, kept
 * when it ends (its TLS block is then reused by the next thread, which
 * must start from zero), and kept in a forked child whose other threads
 * are gone. Real threads and a real fork. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "runtime/alloc_thread.h"

#define THREADS 16
#define PER_THREAD 1000

/* What a wrapper does: list on the first call, count. */
static void count_some(int n, int64_t bytes_each)
{
    alloc_tls *t = &rt_alloc_tl;
    if (!t->listed)
        alloc_thread_list(t);
    for (int i = 0; i < n; i++) {
        alloc_count(t, 2, ALLOC_N, 1);
        alloc_count(t, 2, ALLOC_BYTES, bytes_each);
        alloc_count(t, 0, ALLOC_FREES, 1);
    }
}

static int64_t sum_of(int d, int what)
{
    int64_t s[3][3];
    alloc_thread_sum(s);
    return s[d][what];
}

static pthread_barrier_t all_counted;
static int hold_flag; /* its address: "wait at the barrier" */

static void *worker(void *arg)
{
    count_some(PER_THREAD, 16);
    if (arg) /* wait while the main thread sums the live threads */
        pthread_barrier_wait(&all_counted), pthread_barrier_wait(&all_counted);
    return NULL;
}

static void run_threads(int hold)
{
    pthread_t th[THREADS];
    for (int i = 0; i < THREADS; i++)
        pthread_create(&th[i], NULL, worker, hold ? &hold_flag : NULL);
    if (hold) {
        pthread_barrier_wait(&all_counted);
        /* all alive and listed: summed from their own counters */
        CHECK_EQ_U64((uint64_t)sum_of(2, ALLOC_N),
                     (uint64_t)(PER_THREAD * (THREADS + 1)));
        pthread_barrier_wait(&all_counted);
    }
    for (int i = 0; i < THREADS; i++)
        pthread_join(th[i], NULL);
}

int main(void)
{
    CHECK_EQ_INT(alloc_thread_init(), 0);
    CHECK_EQ_INT(alloc_thread_init(), 0); /* once only */
    CHECK_EQ_U64((uint64_t)sum_of(2, ALLOC_N), 0);

    count_some(PER_THREAD, 16);
    CHECK_EQ_U64((uint64_t)sum_of(2, ALLOC_N), PER_THREAD);
    CHECK_EQ_U64((uint64_t)sum_of(2, ALLOC_BYTES), PER_THREAD * 16);

    pthread_barrier_init(&all_counted, NULL, THREADS + 1);
    CHECK_CONTEXT("threads alive");
    run_threads(1);
    CHECK_CONTEXT("threads ended");
    /* ended: their counts moved to the totals, not lost, not doubled */
    int64_t want = PER_THREAD * (THREADS + 1);
    CHECK_EQ_U64((uint64_t)sum_of(2, ALLOC_N), (uint64_t)want);
    CHECK_EQ_U64((uint64_t)sum_of(0, ALLOC_FREES), (uint64_t)want);

    /* new threads reuse the ended ones' TLS blocks: from zero */
    CHECK_CONTEXT("threads reusing TLS");
    for (int round = 0; round < 3; round++) {
        run_threads(0);
        want += PER_THREAD * THREADS;
        CHECK_EQ_U64((uint64_t)sum_of(2, ALLOC_N), (uint64_t)want);
        CHECK_EQ_U64((uint64_t)sum_of(2, ALLOC_BYTES), (uint64_t)want * 16);
    }
    CHECK_EQ_U64((uint64_t)sum_of(1, ALLOC_N), 0);

    /* a fork while other threads are listed: the child keeps every count
     * and goes on counting its own */
    CHECK_CONTEXT("fork");
    pthread_barrier_t *b = &all_counted;
    pthread_barrier_destroy(b);
    pthread_barrier_init(b, NULL, THREADS + 1);
    pthread_t th[THREADS];
    for (int i = 0; i < THREADS; i++)
        pthread_create(&th[i], NULL, worker, &hold_flag);
    pthread_barrier_wait(b); /* all counted, all alive */
    int64_t at_fork = sum_of(2, ALLOC_N);
    CHECK_EQ_U64((uint64_t)at_fork, (uint64_t)(want + PER_THREAD * THREADS));
    pid_t pid = fork();
    if (pid == 0) {
        int ok = sum_of(2, ALLOC_N) == at_fork;
        count_some(5, 16);
        ok = ok && sum_of(2, ALLOC_N) == at_fork + 5;
        /* a thread started in the child lists and counts */
        pthread_t t2;
        pthread_create(&t2, NULL, worker, NULL);
        pthread_join(t2, NULL);
        ok = ok && sum_of(2, ALLOC_N) == at_fork + 5 + PER_THREAD;
        _exit(ok ? 0 : 1);
    }
    int st = 0;
    CHECK(pid > 0 && waitpid(pid, &st, 0) == pid);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    pthread_barrier_wait(b);
    for (int i = 0; i < THREADS; i++)
        pthread_join(th[i], NULL);
    /* the parent is unchanged by the child */
    CHECK_EQ_U64((uint64_t)sum_of(2, ALLOC_N), (uint64_t)at_fork);
    return CHECK_DONE("test_alloc_thread");
}
