/* Reading thread states, frames and code objects WITHOUT the interpreter
 * lock, for the sampler: other threads change them while we read, and what
 * we read may be freed under us. So nothing here dereferences interpreter
 * memory directly: every read is a copy through process_vm_readv on our own
 * pid, which fails with EFAULT on an unmapped address instead of crashing.
 * What is read may still be stale; callers validate (code objects by type,
 * identities by their co_extra pointer and first line).
 *
 * This file alone sees CPython's internal frame layout (3.11+), hence
 * Py_BUILD_CORE; it only takes offsets and sizes from those headers.
 * Callers hold tk_lock (the sampler's rounds, and flushes at unload), so
 * one thread at a time uses these functions: their buffers are static. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#if PY_VERSION_HEX >= 0x030B0000
#undef Py_BUILD_CORE
#define Py_BUILD_CORE 1
#include <internal/pycore_frame.h>
#else
#include <frameobject.h>
#endif

#include <errno.h>
#include <stdio.h>
#include <stddef.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "runtime/sample_read.h"

#define CHUNK_MAX (256 * 1024) /* most of a deep stack in one read */

static pid_t self_pid;

int rt_sread(const void *addr, void *dst, size_t n)
{
    if (!addr)
        return -1;
    struct iovec l = {dst, n}, r = {(void *)addr, n};
    return process_vm_readv(self_pid, &l, 1, &r, 1, 0) == (ssize_t)n ? 0
                                                                       : -1;
}

/* Read-only mappings of files (the interpreter's binary and libraries),
 * read once: a code object there (3.13's _Py_InitCleanup shim, static
 * data) is the interpreter's own, and its frames are left out of samples,
 * as the interpreter's frame API leaves them out. Anonymous mappings are
 * not taken: one that is read-only or reserved now may be heap later (an
 * allocator's reserved range), and code objects allocated there were
 * taken for read-only ones and left out of every sample. */
#define MAX_RO 256
static struct {
    uintptr_t lo, hi;
} ro[MAX_RO];
static int nro;

static void ro_load(void)
{
    FILE *f = fopen("/proc/self/maps", "re");
    char line[512];
    nro = 0;
    while (f && nro < MAX_RO && fgets(line, sizeof line, f)) {
        unsigned long lo, hi;
        char perms[8], path[2] = "";
        if (sscanf(line, "%lx-%lx %7s %*s %*s %*s %1s", &lo, &hi, perms,
                   path) == 4 &&
            perms[1] != 'w' && path[0] == '/') {
            ro[nro].lo = lo;
            ro[nro].hi = hi;
            nro++;
        }
    }
    if (f)
        fclose(f);
}

static int read_only(const void *p)
{
    uintptr_t a = (uintptr_t)p;
    for (int i = 0; i < nro; i++)
        if (a >= ro[i].lo && a < ro[i].hi)
            return 1;
    return 0;
}

int rt_sread_init(void)
{
    self_pid = getpid();
    ro_load();
    long probe = 42, copy = 0;
    return rt_sread(&probe, &copy, sizeof copy) == 0 && copy == 42 ? 0 : -1;
}

/* ---- frames ---------------------------------------------------------- */

#if PY_VERSION_HEX >= 0x030B0000

/* A local copy of the newest part of the thread's frame stack, so most
 * frames cost no read of their own. */
typedef struct stack_copy {
    const char *base; /* address of the copied range in the program */
    size_t len;
    char buf[CHUNK_MAX];
} stack_copy;

static stack_copy copy; /* only the sampler thread reads */

static int frame_read(const void *addr, _PyInterpreterFrame *out)
{
    const char *a = addr;
    if (copy.len && a >= copy.base &&
        a + sizeof *out <= copy.base + copy.len) {
        memcpy(out, copy.buf + (a - copy.base), sizeof *out);
        return 0;
    }
    return rt_sread(addr, out, sizeof *out);
}

static const void *frame_code(const _PyInterpreterFrame *f)
{
#if PY_VERSION_HEX >= 0x030D0000
    return f->f_executable;
#else
    return f->f_code;
#endif
}

static int frame_is_shim(const _PyInterpreterFrame *f)
{
#if PY_VERSION_HEX >= 0x030C0000
    return f->owner == FRAME_OWNED_BY_CSTACK;
#else
    (void)f;
    return 0;
#endif
}

int rt_sread_stack(const void *ts_addr, rt_raw_stack *out)
{
    PyThreadState ts;
    out->ncodes = 0;
    if (rt_sread(ts_addr, &ts, sizeof ts) < 0)
        return -1;
    out->next = ts.next;
    out->pthread = ts.thread_id;
    out->native_id = ts.native_thread_id;
#if PY_VERSION_HEX >= 0x030D0000
    const void *fp = ts.current_frame;
#else
    _PyCFrame cf;
    if (!ts.cframe || rt_sread(ts.cframe, &cf, sizeof cf) < 0)
        return 0; /* no frames */
    const void *fp = cf.current_frame;
#endif
    copy.len = 0;
    if (ts.datastack_chunk && ts.datastack_top) {
        const char *lo = (const char *)ts.datastack_chunk;
        const char *hi = (const char *)ts.datastack_top;
        if (hi > lo) {
            if ((size_t)(hi - lo) > CHUNK_MAX)
                lo = hi - CHUNK_MAX;
            /* the top frame's fixed part may extend past datastack_top */
            size_t n = (size_t)(hi - lo) + sizeof(_PyInterpreterFrame);
            if (n > CHUNK_MAX)
                n = CHUNK_MAX;
            if (rt_sread(lo, copy.buf, n) == 0) {
                copy.base = lo;
                copy.len = n;
            }
        }
    }
    while (fp && out->ncodes < RT_SAMPLE_MAX_FRAMES) {
        _PyInterpreterFrame f;
        if (frame_read(fp, &f) < 0)
            break;
        if (!frame_is_shim(&f) && frame_code(&f)) {
            out->globals[out->ncodes] = f.f_globals;
            out->codes[out->ncodes++] = frame_code(&f);
        }
        if (f.previous == fp)
            break;
        fp = f.previous;
    }
    return 0;
}

#else /* 3.8 to 3.10: frames are heap objects linked by f_back */

int rt_sread_stack(const void *ts_addr, rt_raw_stack *out)
{
    PyThreadState ts;
    out->ncodes = 0;
    if (rt_sread(ts_addr, &ts, sizeof ts) < 0)
        return -1;
    out->next = ts.next;
    out->pthread = ts.thread_id;
    out->native_id = 0; /* not in the thread state before 3.11 */
    const void *fp = ts.frame;
    while (fp && out->ncodes < RT_SAMPLE_MAX_FRAMES) {
        PyFrameObject f;
        if (rt_sread(fp, &f, sizeof f) < 0)
            break;
        if (f.f_code) {
            out->globals[out->ncodes] = f.f_globals;
            out->codes[out->ncodes++] = f.f_code;
        }
        if ((const void *)f.f_back == fp)
            break;
        fp = f.f_back;
    }
    return 0;
}

#endif

/* ---- code objects ---------------------------------------------------- */

/* co_extra's target: a size and that many slots (stable since 3.6). */
typedef struct {
    Py_ssize_t size;
    void *extras[1];
} code_extra;

#define HDR_BEGIN offsetof(PyObject, ob_type)
#define HDR_END                                                          \
    (offsetof(PyCodeObject, co_extra) > offsetof(PyCodeObject, co_firstlineno) \
         ? offsetof(PyCodeObject, co_extra) + sizeof(void *)             \
         : offsetof(PyCodeObject, co_firstlineno) + sizeof(int))
#define HDR_LEN (HDR_END - HDR_BEGIN)

void rt_sread_codes(const void *const *codes, size_t n, rt_raw_code *out)
{
    /* one read for every code header: a failed read of any makes the whole
     * batch fail, so fall back to one by one then */
    static char hdr[RT_SAMPLE_MAX_FRAMES][HDR_LEN];
    struct iovec l[RT_SAMPLE_MAX_FRAMES], r[RT_SAMPLE_MAX_FRAMES];
    if (n > RT_SAMPLE_MAX_FRAMES)
        n = RT_SAMPLE_MAX_FRAMES;
    for (size_t i = 0; i < n; i++) {
        l[i] = (struct iovec){hdr[i], HDR_LEN};
        r[i] = (struct iovec){(char *)codes[i] + HDR_BEGIN, HDR_LEN};
    }
    int batch_ok = 0;
    for (size_t done = 0; done < n;) {
        size_t k = n - done > IOV_MAX ? IOV_MAX : n - done;
        ssize_t got = process_vm_readv(self_pid, l + done, k, r + done, k, 0);
        if (got != (ssize_t)(k * HDR_LEN))
            break;
        done += k;
        if (done == n)
            batch_ok = 1;
    }
    for (size_t i = 0; i < n; i++) {
        out[i].valid = 0;
        if (read_only(codes[i]))
            continue;
        if (!batch_ok && rt_sread(r[i].iov_base, hdr[i], HDR_LEN) < 0)
            continue;
        const char *h = hdr[i] - HDR_BEGIN; /* as if at the object */
        PyTypeObject *type;
        memcpy(&type, h + offsetof(PyObject, ob_type), sizeof type);
        if (type != &PyCode_Type)
            continue;
        memcpy(&out[i].extra, h + offsetof(PyCodeObject, co_extra),
               sizeof(void *));
        memcpy(&out[i].first_line, h + offsetof(PyCodeObject, co_firstlineno),
               sizeof(int));
        out[i].valid = 1;
    }
}

int rt_sread_extra_slot(const void *extra, long index, uint64_t *value)
{
    if (!extra || index < 0 || index > 1024)
        return -1;
    char buf[sizeof(Py_ssize_t) + 1025 * sizeof(void *)];
    size_t n = sizeof(Py_ssize_t) + (size_t)(index + 1) * sizeof(void *);
    if (rt_sread(extra, buf, n) < 0)
        return -1;
    code_extra *ce = (code_extra *)buf;
    if (ce->size <= index)
        return -1;
    void *v = ce->extras[index];
    *value = (uint64_t)(uintptr_t)v;
    return 0;
}

/* ---- line events off for one frame (the exception trace hook) -------- */

void rt_frame_no_lines(void *frame)
{
#if PY_VERSION_HEX < 0x030C0000
    if (frame)
        ((PyFrameObject *)frame)->f_trace_lines = 0;
#else
    (void)frame;
#endif
}

/* Whether n bytes at addr may be written: they are written back as they
 * are (under the interpreter lock, so nobody changes them meanwhile).
 * Some code objects live in read-only memory (3.13's _Py_InitCleanup):
 * setting their co_extra would fault. */
int rt_swrite_probe(void *addr, size_t n)
{
    char buf[64];
    if (n > sizeof buf || rt_sread(addr, buf, n) < 0)
        return -1;
    struct iovec l = {buf, n}, r = {addr, n};
    return process_vm_writev(self_pid, &l, 1, &r, 1, 0) == (ssize_t)n ? 0
                                                                       : -1;
}
