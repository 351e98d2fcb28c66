/* Bounded double buffer: exact drop counts, whole records, swap semantics,
 * many writers against one flusher, and the fork child. */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "common/buf.h"
#include "loong/errors.h"

static void test_fill_to_drop(void)
{
    lbuf *b = lbuf_new(100);
    const char *data;
    char rec[10];
    size_t n;

    for (int i = 0; i < 10; i++) {
        memset(rec, '0' + i, sizeof rec);
        CHECK_EQ_INT(lbuf_append(b, rec, sizeof rec), 0);
    }
    CHECK_EQ_INT(lbuf_append(b, "x", 1), LOONG_EFULL);
    CHECK_EQ_INT(lbuf_append(b, rec, sizeof rec), LOONG_EFULL);
    CHECK_EQ_INT(lbuf_append(b, "", 0), 0); /* an empty record always fits */
    CHECK_EQ_U64(lbuf_records(b), 11);
    CHECK_EQ_U64(lbuf_dropped(b), 2);
    n = lbuf_swap(b, &data);
    CHECK_EQ_U64(n, 100);
    for (int i = 0; i < 10; i++)
        CHECK(data[i * 10] == '0' + i && data[i * 10 + 9] == '0' + i);
    lbuf_free(b);
}

static void test_whole_records(void)
{
    lbuf *b = lbuf_new(100);
    char big[101];
    const char *data;

    memset(big, 'b', sizeof big);
    CHECK_EQ_INT(lbuf_append(b, big, 60), 0);
    /* 40 left: a 41-byte record is dropped whole, a 40-byte one fits */
    CHECK_EQ_INT(lbuf_append(b, big, 41), LOONG_EFULL);
    CHECK_EQ_INT(lbuf_append(b, big, 40), 0);
    CHECK_EQ_INT(lbuf_append(b, big, 1), LOONG_EFULL);
    CHECK_EQ_U64(lbuf_swap(b, &data), 100);
    /* longer than a half: never fits, EINVAL, still counted */
    CHECK_EQ_INT(lbuf_append(b, big, 101), LOONG_EINVAL);
    CHECK_EQ_INT(lbuf_append(b, big, 100), 0);
    CHECK_EQ_U64(lbuf_dropped(b), 3);
    CHECK_EQ_U64(lbuf_records(b), 3);
    lbuf_free(b);
    CHECK(lbuf_new(0) == NULL);
    lbuf_free(NULL);
}

static void test_swap(void)
{
    lbuf *b = lbuf_new(64);
    const char *first, *second, *third;

    CHECK_EQ_INT(lbuf_append(b, "abc\n", 4), 0);
    CHECK_EQ_U64(lbuf_swap(b, &first), 4);
    CHECK(memcmp(first, "abc\n", 4) == 0);
    /* writers now fill the other half; the swapped one stays as it was */
    CHECK_EQ_INT(lbuf_append(b, "defgh\n", 6), 0);
    CHECK(memcmp(first, "abc\n", 4) == 0);
    CHECK_EQ_U64(lbuf_swap(b, &second), 6);
    CHECK(second != first);
    CHECK(memcmp(second, "defgh\n", 6) == 0);
    /* the first half is reused, from its start */
    CHECK_EQ_U64(lbuf_swap(b, &third), 0);
    CHECK(third == first);
    CHECK_EQ_INT(lbuf_append(b, "i\n", 2), 0);
    CHECK_EQ_U64(lbuf_swap(b, &third), 2);
    CHECK(third == second && memcmp(third, "i\n", 2) == 0);
    lbuf_free(b);
}

/* ---- writers against a flusher ---------------------------------------- */

#define WRITERS 4
#define PER_WRITER 100000
#define HDR 8 /* record: len(2) writer(1) pad(1) seq(4), then filler */

typedef struct writer {
    lbuf *b;
    int id;
    uint64_t ok, full, other;
} writer;

static size_t rec_len(uint32_t seq)
{
    return HDR + (seq * 7u) % 57u;
}

static void *write_loop(void *arg)
{
    writer *w = arg;
    unsigned char rec[HDR + 64];

    for (uint32_t seq = 0; seq < PER_WRITER; seq++) {
        size_t len = rec_len(seq);
        int rc;
        rec[0] = (unsigned char)len;
        rec[1] = 0;
        rec[2] = (unsigned char)w->id;
        rec[3] = 0xA5;
        memcpy(rec + 4, &seq, 4);
        memset(rec + HDR, (int)(seq & 0xFF), len - HDR);
        rc = lbuf_append(w->b, (const char *)rec, len);
        if (rc == 0)
            w->ok++;
        else if (rc == LOONG_EFULL)
            w->full++;
        else
            w->other++;
        if ((seq & 1023) == 0)
            sched_yield();
    }
    return NULL;
}

typedef struct reader_state {
    lbuf *b;
    atomic_int stop;
    uint64_t seen[WRITERS];
    int64_t last_seq[WRITERS];
    uint64_t corrupt, out_of_order;
} reader_state;

/* Every record must be whole and each writer's records in order. */
static void read_half(reader_state *st, const unsigned char *p, size_t n)
{
    size_t pos = 0;

    while (pos < n) {
        size_t len = p[pos];
        int id = p[pos + 2];
        uint32_t seq;
        int bad = 0;
        if (len < HDR || pos + len > n || id >= WRITERS ||
            p[pos + 3] != 0xA5) {
            st->corrupt++;
            return;
        }
        memcpy(&seq, p + pos + 4, 4);
        bad = len != rec_len(seq);
        for (size_t i = HDR; i < len && !bad; i++)
            bad = p[pos + i] != (seq & 0xFF);
        st->corrupt += bad;
        st->out_of_order += (int64_t)seq <= st->last_seq[id];
        st->last_seq[id] = seq;
        st->seen[id]++;
        pos += len;
    }
}

static void *read_loop(void *arg)
{
    reader_state *st = arg;
    const char *data;
    int last = 0;

    for (;;) {
        size_t n = lbuf_swap(st->b, &data);
        read_half(st, (const unsigned char *)data, n);
        if (last)
            return NULL;
        last = st->stop;
        usleep(50);
    }
}

static void test_concurrent(void)
{
    lbuf *b = lbuf_new(4096);
    writer w[WRITERS];
    reader_state st;
    pthread_t wt[WRITERS], rt;
    uint64_t ok = 0, full = 0, other = 0, seen = 0;

    memset(&st, 0, sizeof st);
    st.b = b;
    for (int i = 0; i < WRITERS; i++)
        st.last_seq[i] = -1;
    pthread_create(&rt, NULL, read_loop, &st);
    for (int i = 0; i < WRITERS; i++) {
        w[i] = (writer){b, i, 0, 0, 0};
        pthread_create(&wt[i], NULL, write_loop, &w[i]);
    }
    for (int i = 0; i < WRITERS; i++)
        pthread_join(wt[i], NULL);
    st.stop = 1;
    pthread_join(rt, NULL);
    for (int i = 0; i < WRITERS; i++) {
        ok += w[i].ok;
        full += w[i].full;
        other += w[i].other;
        seen += st.seen[i];
        CHECK_EQ_U64(st.seen[i], w[i].ok);
        CHECK_EQ_U64(w[i].ok + w[i].full, PER_WRITER);
    }
    CHECK_EQ_U64(other, 0);
    CHECK_EQ_U64(ok + full, (uint64_t)WRITERS * PER_WRITER);
    CHECK_EQ_U64(lbuf_records(b), ok);
    CHECK_EQ_U64(lbuf_dropped(b), full);
    CHECK_EQ_U64(seen, ok);
    CHECK_EQ_U64(st.corrupt, 0);
    CHECK_EQ_U64(st.out_of_order, 0);
    CHECK(ok > 0);
    printf("test_buf: %d writers: %llu records through, %llu dropped\n",
           WRITERS, (unsigned long long)ok, (unsigned long long)full);
    lbuf_free(b);
}

/* ---- fork ------------------------------------------------------------- */

static atomic_int hammer_stop;

static void *hammer(void *arg)
{
    lbuf *b = arg;
    const char *data;

    while (!hammer_stop) {
        lbuf_append(b, "0123456789", 10);
        if (lbuf_records(b) % 64 == 0)
            lbuf_swap(b, &data);
    }
    return NULL;
}

/* In the child: nothing of the parent's is left, and the lock works even
 * if another thread held it at fork(). Exit code 0 = all good. */
static int child_checks(lbuf *b)
{
    const char *data;

    alarm(5); /* a lock still held would hang: SIGALRM fails the test */
    lbuf_after_fork_child(b);
    if (lbuf_swap(b, &data) != 0 || lbuf_records(b) != 0 ||
        lbuf_dropped(b) != 0)
        return 1;
    if (lbuf_append(b, "child\n", 6) != 0)
        return 2;
    if (lbuf_swap(b, &data) != 6 || memcmp(data, "child\n", 6) != 0)
        return 3;
    if (lbuf_records(b) != 1)
        return 4;
    return 0;
}

static void test_after_fork_child(void)
{
    lbuf *b = lbuf_new(1000);
    pthread_t t;

    CHECK_EQ_INT(lbuf_append(b, "parent\n", 7), 0);
    pthread_create(&t, NULL, hammer, b);
    for (int i = 0; i < 20; i++) {
        int status = -1;
        pid_t pid = fork();
        if (pid == 0)
            _exit(child_checks(b));
        CHECK(pid > 0);
        waitpid(pid, &status, 0);
        if (!CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0))
            fprintf(stderr, "    fork %d: child status 0x%x\n", i, status);
    }
    hammer_stop = 1;
    pthread_join(t, NULL);
    /* the parent keeps its own records */
    CHECK(lbuf_records(b) > 1);
    lbuf_free(b);
}

int main(void)
{
    test_fill_to_drop();
    test_whole_records();
    test_swap();
    test_concurrent();
    test_after_fork_child();
    return CHECK_DONE("test_buf");
}
