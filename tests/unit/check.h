/* Tiny assertions for the C unit tests (lp, buf, sb, sink).
 *
 * Every CHECK* counts one pass or one failure and carries on; a failure
 * prints file:line, the expression, the values and the current context
 * (CHECK_CONTEXT, e.g. the iteration of a random test). After
 * CHECK_MAX_SHOWN failures only the count grows, so a broken property
 * test cannot flood the terminal. CHECK_DONE("test_x") prints
 *   test_x: P passed, F failed
 * and evaluates to the exit status: 0, or 1 if anything failed.
 */
#ifndef LOONG_TESTS_CHECK_H
#define LOONG_TESTS_CHECK_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#define CHECK_MAX_SHOWN 30

static unsigned long check_passed_, check_failed_;
static char check_context_[256];

/* Printed with each failure until changed; "" for none. */
__attribute__((format(printf, 1, 2), unused))
static void CHECK_CONTEXT(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(check_context_, sizeof check_context_, fmt, ap);
    va_end(ap);
}

/* Counts; returns 1 if the failure details should be printed. */
static inline int check_count_(int ok, const char *file, int line,
                               const char *expr)
{
    if (ok) {
        check_passed_++;
        return 0;
    }
    if (++check_failed_ > CHECK_MAX_SHOWN)
        return 0;
    fprintf(stderr, "%s:%d: FAILED: %s", file, line, expr);
    if (check_context_[0])
        fprintf(stderr, " [%s]", check_context_);
    fputc('\n', stderr);
    return 1;
}

/* Bytes shown C-style, at most max of them. */
static inline void check_show_(const char *label, const void *p, size_t n,
                               size_t max)
{
    const unsigned char *u = p;

    fprintf(stderr, "    %s (%zu bytes): \"", label, n);
    for (size_t i = 0; p != NULL && i < n && i < max; i++) {
        if (u[i] == '"' || u[i] == '\\')
            fprintf(stderr, "\\%c", u[i]);
        else if (u[i] >= 0x20 && u[i] < 0x7F)
            fputc(u[i], stderr);
        else
            fprintf(stderr, "\\x%02x", u[i]);
    }
    fprintf(stderr, p == NULL ? "\" (NULL)\n" : n > max ? "\"...\n" : "\"\n");
}

static inline int check_true_(int ok, const char *file, int line,
                              const char *expr)
{
    check_count_(ok, file, line, expr);
    return ok;
}

static inline int check_i64_(long long a, long long b, const char *file,
                             int line, const char *expr)
{
    if (check_count_(a == b, file, line, expr))
        fprintf(stderr, "    %lld != %lld\n", a, b);
    return a == b;
}

static inline int check_u64_(unsigned long long a, unsigned long long b,
                             const char *file, int line, const char *expr)
{
    if (check_count_(a == b, file, line, expr))
        fprintf(stderr, "    %llu != %llu\n", a, b);
    return a == b;
}

static inline int check_mem_(const void *a, size_t an, const void *b,
                             size_t bn, const char *file, int line,
                             const char *expr)
{
    int ok = a != NULL && b != NULL && an == bn && memcmp(a, b, an) == 0;

    if (check_count_(ok, file, line, expr)) {
        size_t i = 0;
        while (a != NULL && b != NULL && i < an && i < bn &&
               ((const char *)a)[i] == ((const char *)b)[i])
            i++;
        fprintf(stderr, "    first difference at byte %zu\n", i);
        check_show_("got ", a, an, 300);
        check_show_("want", b, bn, 300);
    }
    return ok;
}

static inline int check_str_(const char *a, const char *b, const char *file,
                             int line, const char *expr)
{
    return check_mem_(a, a ? strlen(a) : 0, b, b ? strlen(b) : 0, file,
                      line, expr);
}

static inline int check_done_(const char *name)
{
    printf("%s: %lu passed, %lu failed\n", name, check_passed_,
           check_failed_);
    fflush(stdout);
    return check_failed_ ? 1 : 0;
}

#define CHECK(c) check_true_(!!(c), __FILE__, __LINE__, #c)
#define CHECK_EQ_INT(a, b)                                                 \
    check_i64_((long long)(a), (long long)(b), __FILE__, __LINE__,         \
               #a " == " #b)
#define CHECK_EQ_U64(a, b)                                                 \
    check_u64_((unsigned long long)(a), (unsigned long long)(b), __FILE__, \
               __LINE__, #a " == " #b)
#define CHECK_EQ_STR(a, b) check_str_((a), (b), __FILE__, __LINE__, #a " == " #b)
#define CHECK_EQ_MEM(a, an, b, bn)                                         \
    check_mem_((a), (an), (b), (bn), __FILE__, __LINE__, #a " == " #b)
#define CHECK_DONE(name) check_done_(name)

/* hay contains needle (a message names what it should) */
#define CHECK_HAS(hay, needle)                                                \
    check_has_((hay), (needle), __FILE__, __LINE__, #hay " contains " #needle)

__attribute__((unused)) static int check_has_(const char *hay, const char *needle, const char *file,
                      int line, const char *expr)
{
    int ok = hay != NULL && strstr(hay, needle) != NULL;
    if (check_count_(ok, file, line, expr))
        fprintf(stderr, "    \"%s\" does not contain \"%s\"\n",
                hay ? hay : "(null)", needle);
    return ok;
}

#endif
