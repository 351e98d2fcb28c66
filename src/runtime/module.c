/* loong._runtime: the extension module, and the runtime's life cycle.
 *
 * `loong run` imports it at interpreter start through the bootstrap
 * sitecustomize; `import loong` imports it on demand. Start-up reads the
 * LOONG_* environment (docs/architecture.md), creates the process folder,
 * starts the flusher and loads the toolkits named in LOONG_TOOLKITS. Errors
 * go to the process's loong.log, never to the program's stderr. */
#include "rt.h"
#include "pycompat.h"

#include <dlfcn.h>
#include <libgen.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/spec.h"

rt_state rt = {.tk_lock = PTHREAD_MUTEX_INITIALIZER};

/* The toolkits folder next to the runtime: LIBDIR/python/loong/x.so ->
 * LIBDIR/toolkits. */
static void default_toolkit_path(char *out, size_t cap)
{
    Dl_info info;
    out[0] = '\0';
    if (!dladdr((void *)default_toolkit_path, &info) || !info.dli_fname)
        return;
    char tmp[PATH_MAX];
    if (!realpath(info.dli_fname, tmp))
        return;
    char *d = dirname(tmp);   /* .../python/loong */
    d = dirname(d);           /* .../python */
    d = dirname(d);           /* LIBDIR */
    snprintf(out, cap, "%s/toolkits", d);
}

/* `loong attach`: the configuration sent over the control socket, used by
 * rt_start_with() in place of the environment's. */
static const rt_config *cfg_given;

static void config_from_env(void)
{
    const char *out = getenv("LOONG_OUT");
    if (cfg_given)
        out = cfg_given->out;
    char cwd[PATH_MAX];
    if (!out || !*out)
        out = "loong-out";
    if (out[0] != '/' && getcwd(cwd, sizeof cwd) &&
        strlen(cwd) + strlen(out) + 2 <= sizeof rt.out_root)
        snprintf(rt.out_root, sizeof rt.out_root, "%.2048s/%.2000s", cwd, out);
    else
        snprintf(rt.out_root, sizeof rt.out_root, "%s", out);

    const char *sink = cfg_given ? cfg_given->sink : getenv("LOONG_SINK");
    char err[256];
    snprintf(rt.sink_str, sizeof rt.sink_str, "%s",
             sink && *sink ? sink : "dir");
    if (lsink_parse(rt.sink_str, &rt.sink_spec, err, sizeof err) < 0) {
        snprintf(rt.sink_str, sizeof rt.sink_str, "dir");
        lsink_parse("dir", &rt.sink_spec, err, sizeof err);
    }
    if (rt.sink_spec.kind == LSINK_DIR && rt.sink_spec.path[0])
        snprintf(rt.out_root, sizeof rt.out_root, "%s", rt.sink_spec.path);

    const char *iv = getenv("LOONG_INTERVAL_MS");
    long ms = iv ? strtol(iv, NULL, 10) : 1000;
    if (cfg_given)
        ms = cfg_given->interval_ms;
    rt.interval_ms = ms >= 1 && ms <= 86400000 ? (int)ms : 1000;

    const char *tp = cfg_given ? cfg_given->toolkit_path
                               : getenv("LOONG_TOOLKIT_PATH");
    if (tp && *tp)
        snprintf(rt.toolkit_path, sizeof rt.toolkit_path, "%s", tp);
    else
        default_toolkit_path(rt.toolkit_path, sizeof rt.toolkit_path);
}

static void open_sink(void)
{
    char path[PATH_MAX + 16], err[256];
    snprintf(path, sizeof path, "%s/metrics.lp", rt.proc_dir);
    rt.sink = lsink_open(&rt.sink_spec, path, err, sizeof err);
    if (!rt.sink)
        rt_log(NULL, LOONG_LOG_ERROR, "sink %s: %s", rt.sink_str, err);
}

static void load_env_toolkits(void)
{
    const char *list = getenv("LOONG_TOOLKITS");
    if (cfg_given || !list || !*list)
        return;
    char *copy = strdup(list);
    char *save = NULL;
    for (char *item = copy ? strtok_r(copy, ";", &save) : NULL; item;
         item = strtok_r(NULL, ";", &save)) {
        char err[512];
        if (rt_toolkit_load(item, err, sizeof err) < 0)
            rt_log(NULL, LOONG_LOG_ERROR, "loading '%s': %s", item, err);
    }
    free(copy);
}

static PyObject *py_callback(const char *name);

/* The atexit handler: registered at start, unregistered at detach. */
static int atexit_on;

static void atexit_register(int on)
{
    if (on == atexit_on)
        return;
    PyObject *atexit = PyImport_ImportModule("atexit");
    PyObject *ex = py_callback("_atexit");
    PyObject *r = atexit && ex ? PyObject_CallMethod(
                                     atexit, on ? "register" : "unregister",
                                     "O", ex)
                               : NULL;
    if (r)
        atexit_on = on;
    Py_XDECREF(r);
    Py_XDECREF(ex);
    Py_XDECREF(atexit);
    PyErr_Clear();
}

/* Python-level fork hooks, registered once per process. */
static int register_python_hooks(void)
{
    PyObject *os = PyImport_ImportModule("os");
    PyObject *bf = py_callback("_before_fork");
    PyObject *ap = py_callback("_after_fork_parent");
    PyObject *ac = py_callback("_after_fork_child");
    int rc = -1;
    if (os && bf && ap && ac) {
        PyObject *reg = PyObject_GetAttrString(os, "register_at_fork");
        PyObject *kw = Py_BuildValue("{sOsOsO}", "before", bf,
                                     "after_in_parent", ap, "after_in_child",
                                     ac);
        PyObject *args = PyTuple_New(0);
        PyObject *r2 = reg && kw && args ? PyObject_Call(reg, args, kw)
                                         : NULL;
        rc = r2 ? 0 : -1;
        Py_XDECREF(r2);
        Py_XDECREF(args);
        Py_XDECREF(kw);
        Py_XDECREF(reg);
    }
    Py_XDECREF(os);
    Py_XDECREF(bf);
    Py_XDECREF(ap);
    Py_XDECREF(ac);
    PyErr_Clear();
    return rc;
}

/* 3.13 counts the process's OS threads before os.fork runs its "before"
 * hooks, and warns when there is more than one: our flusher must be stopped
 * before that count, so os.fork is wrapped while loong runs. The wrapper
 * has the original's name, and warnings still point at the caller. */
#if PY_VERSION_HEX >= 0x030D0000
static PyObject *orig_fork;
static int in_fork_wrapper; /* the wrapper resumes, after CPython's count */

static PyObject *fork_wrapper(PyObject *self, PyObject *unused)
{
    int paused = rt.started && rt.flusher_running && rt.pid == getpid();
    if (paused) {
        rt_sampler_pause();
        rt_pipeline_pause();
    }
    in_fork_wrapper++;
    PyObject *r = PyObject_CallNoArgs(orig_fork);
    in_fork_wrapper--;
    if (paused && rt.pid == getpid()) { /* parent, or fork failed */
        rt_pipeline_resume();
        rt_sampler_resume();
    }
    return r;
}

static PyMethodDef fork_def = {"fork", fork_wrapper, METH_NOARGS, NULL};
static PyObject *fork_func;

static void fork_wrap(int on)
{
    static const char *mods[] = {"posix", "os"};
    if (on && !orig_fork) {
        PyObject *posix = PyImport_ImportModule("posix");
        orig_fork = posix ? PyObject_GetAttrString(posix, "fork") : NULL;
        Py_XDECREF(posix);
        if (orig_fork) {
            PyObject *doc = PyObject_GetAttrString(orig_fork, "__doc__");
            const char *d = doc && PyUnicode_Check(doc)
                                ? PyUnicode_AsUTF8(doc) : NULL;
            fork_def.ml_doc = d ? strdup(d) : NULL; /* lives as long */
            Py_XDECREF(doc);
            PyObject *modname = PyUnicode_FromString("posix");
            fork_func = PyCFunction_NewEx(&fork_def, NULL, modname);
            Py_XDECREF(modname);
        }
        if (!fork_func)
            Py_CLEAR(orig_fork);
    }
    if (!orig_fork || !fork_func)
        goto out;
    PyObject *from = on ? orig_fork : fork_func;
    PyObject *to = on ? fork_func : orig_fork;
    for (int i = 0; i < 2; i++) {
        PyObject *m = PyImport_ImportModule(mods[i]);
        PyObject *cur = m ? PyObject_GetAttrString(m, "fork") : NULL;
        if (cur == from) /* never replace someone else's replacement */
            PyObject_SetAttrString(m, "fork", to);
        Py_XDECREF(cur);
        Py_XDECREF(m);
    }
out:
    PyErr_Clear();
}
#else
static const int in_fork_wrapper = 0;
static void fork_wrap(int on)
{
    (void)on;
}
#endif

static void atfork_child(void)
{
    /* Any fork, Python's or C's: until the runtime is reset in this child
     * (os.register_at_fork), hooks and the SIGTERM path do nothing. */
    atomic_store(&rt_suspended, 1);
    rt_own_after_fork_child(); /* loong's threads are not in the child */
}

/* The control socket (control.c): every started process answers `loong
 * status|load|unload|detach PID`, those under `loong run` (and `import
 * loong`) too, not only those `loong attach` brought it into. */
static void control_on(void)
{
    int rc = rt_control_start();
    if (rc < 0)
        rt_log(NULL, LOONG_LOG_WARNING, "no control socket: %s",
               strerror(-rc));
}

int rt_start(void)
{
    static int hooks_registered, atfork_registered;
    if (rt.started)
        return 0;
    rt.pid = getpid();
    rt.start_wall_ns = rt_wall_ns();
    if (gethostname(rt.host, sizeof rt.host) < 0 || !rt.host[0])
        snprintf(rt.host, sizeof rt.host, "unknown");
    rt.host[sizeof rt.host - 1] = '\0';
    config_from_env();
    int rc = rt_process_dir_init();
    if (rc < 0)
        return rc;
    rt_codes_init();
    rt_threads_register_all();
    open_sink();
    rc = rt_pipeline_start();
    if (rc < 0) {
        rt_log(NULL, LOONG_LOG_ERROR, "cannot start the flusher: %s",
               loong_strerror(rc));
        return rc;
    }
    if (!atfork_registered) {
        pthread_atfork(NULL, NULL, atfork_child);
        atfork_registered = 1;
    }
    atexit_register(1);
    if (!hooks_registered && register_python_hooks() == 0)
        hooks_registered = 1;
    rt.started = 1;
    fork_wrap(1);
    atomic_store(&rt_suspended, 0);
    rt_meta_write(NULL);
    load_env_toolkits();
    control_on();
    return 0;
}

/* Remove every hook, give the toolkits their last tick, unload them, flush,
 * and write meta.json with how the process ended. */
void rt_shutdown(const char *why)
{
    if (!rt.started)
        return;
    rt_hooks_remove_all();
    fork_wrap(0);
    rt.caps_on = 0;
    rt_pipeline_stop(1);
    rt_toolkits_unload_all();
    rt_pipeline_flush_now();
    rt_meta_write(why);
    rt_pipeline_close_sink();
    rt.started = 0;
}

/* ---- attach and detach (control.c) ----------------------------------- */

int rt_start_with(const rt_config *cfg)
{
    cfg_given = cfg;
    int rc = rt_start();
    cfg_given = NULL;
    return rc;
}

/* Everything rt_shutdown leaves for a later exit goes too: the atexit
 * handler, the buffer and the flusher's pipe. What stays: the runtime's
 * mapping (a shared object cannot be safely unloaded from a running
 * interpreter), the fork hooks (os.register_at_fork has no unregister;
 * they do nothing while loong is not started), and each thread's
 * identity capsule (reused by the next attach). */
void rt_detach(void)
{
    rt_shutdown("detach");
    atexit_register(0);
    rt_pipeline_release();
}

/* ---- Python functions ------------------------------------------------ */

static PyObject *m_start(PyObject *self, PyObject *unused)
{
    int rc = rt_start();
    if (rc < 0) {
        PyErr_Format(PyExc_RuntimeError, "loong: cannot start: %s (%s)",
                     loong_strerror(rc), rt.out_root);
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyObject *m_load(PyObject *self, PyObject *arg)
{
    const char *spec = PyUnicode_Check(arg) ? PyUnicode_AsUTF8(arg) : NULL;
    if (!spec) {
        if (!PyErr_Occurred())
            PyErr_SetString(PyExc_TypeError, "load() takes a str spec");
        return NULL;
    }
    if (rt_start() < 0) {
        PyErr_Format(PyExc_RuntimeError, "loong: cannot start in %s",
                     rt.out_root);
        return NULL;
    }
    char err[512];
    int rc = rt_toolkit_load(spec, err, sizeof err);
    if (rc < 0) {
        PyErr_Format(rc == LOONG_EOPTION || rc == LOONG_EINVAL ||
                             rc == LOONG_EEXIST
                         ? PyExc_ValueError
                         : PyExc_RuntimeError,
                     "loong: %s", err);
        return NULL;
    }
    rt_pipeline_tick_soon();
    Py_RETURN_NONE;
}

static PyObject *m_unload(PyObject *self, PyObject *arg)
{
    const char *name = PyUnicode_Check(arg) ? PyUnicode_AsUTF8(arg) : NULL;
    if (!name) {
        if (!PyErr_Occurred())
            PyErr_SetString(PyExc_TypeError, "unload() takes a name");
        return NULL;
    }
    char err[512];
    if (rt_toolkit_unload(name, err, sizeof err) < 0) {
        PyErr_Format(PyExc_ValueError, "loong: %s", err);
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyObject *m_status(PyObject *self, PyObject *unused)
{
    PyObject *tks = PyList_New(0);
    for (int i = 0; tks && i < RT_MAX_TOOLKITS; i++) {
        loong_toolkit *tk = rt.tk[i];
        if (!tk || !tk->active)
            continue;
        PyObject *opts = PyDict_New();
        for (size_t k = 0; opts && k < tk->spec.nopts; k++) {
            PyObject *v = PyUnicode_FromString(tk->spec.opts[k].value);
            if (v)
                PyDict_SetItemString(opts, tk->spec.opts[k].key, v);
            Py_XDECREF(v);
        }
        PyObject *d = Py_BuildValue("{sssssssIsN}", "name", tk->def->name,
                                    "version", tk->def->version, "path",
                                    tk->path, "capabilities",
                                    (unsigned)tk->caps, "options", opts);
        if (d)
            PyList_Append(tks, d);
        Py_XDECREF(d);
    }
    if (!tks)
        return NULL;
    unsigned long long dropped =
        rt.buf ? lbuf_dropped(rt.buf) + atomic_load(&rt.sink_dropped) : 0;
    uint64_t lock_max_us, lock_us = rt_sampler_locked_us(&lock_max_us);
    return Py_BuildValue(
        "{sOsisssssssNsKsKsIsisKsKsKsKsKsK}", "started",
        rt.started ? Py_True : Py_False,
        "pid", (int)rt.pid, "output", rt.proc_dir, "sink", rt.sink_str,
        "version", LOONG_VERSION_STRING, "toolkits", tks, "records",
        (unsigned long long)(rt.buf ? lbuf_records(rt.buf) : 0), "dropped",
        dropped, "hooks", (unsigned)rt.caps_on, "interval_ms",
        rt.interval_ms, "hook_calls", (unsigned long long)rt_hook_calls,
        "sample_rounds", (unsigned long long)rt_sampler_rounds(),
        "sample_locked", (unsigned long long)rt_sampler_locked(),
        "sample_unnamed", (unsigned long long)rt_sampler_unnamed(),
        "sample_locked_us", (unsigned long long)lock_us,
        "sample_locked_max_us", (unsigned long long)lock_max_us);
}

static PyObject *m_atexit(PyObject *self, PyObject *unused)
{
    rt_exc_state saved;
    rt_exc_save(&saved);
    rt_control_stop();
    rt_shutdown("exit");
    PyErr_Clear();
    rt_exc_restore(&saved);
    Py_RETURN_NONE;
}

static PyObject *m_shutdown(PyObject *self, PyObject *unused)
{
    rt_shutdown("shutdown");
    Py_RETURN_NONE;
}

static PyObject *m_before_fork(PyObject *self, PyObject *unused)
{
    if (rt.started && rt.pid == getpid()) {
        rt_sampler_pause();
        rt_pipeline_pause();
    }
    Py_RETURN_NONE;
}

static PyObject *m_after_fork_parent(PyObject *self, PyObject *unused)
{
    if (rt.started && rt.pid == getpid() && !in_fork_wrapper) {
        rt_pipeline_resume();
        rt_sampler_resume();
    }
    Py_RETURN_NONE;
}

/* The child profiles into its own folder, with its toolkits loaded anew.
 * The parent's unflushed records stay the parent's. */
static PyObject *m_after_fork_child(PyObject *self, PyObject *unused)
{
    if (!rt.started) {
        atomic_store(&rt_suspended, 0);
        Py_RETURN_NONE;
    }
    rt_exc_state saved;
    rt_exc_save(&saved);
    rt.pid = getpid();
    rt.start_wall_ns = rt_wall_ns();
    rt_pipeline_after_fork_child();
    rt_sampler_after_fork_child();
    rt_threads_after_fork_child();
    rt_meta_after_fork_child();
    rt.sink = NULL; /* the parent's: its fd or socket is shared */
    if (rt_process_dir_init() == 0) {
        open_sink();
        rt_toolkits_after_fork_child();
        atomic_store(&rt_suspended, 0);
        if (rt_pipeline_start() == 0) {
            rt_meta_write(NULL);
        }
        control_on(); /* its own socket; the parent's stays the parent's */
    } else {
        /* no folder of its own: stop cleanly rather than mix with the
         * parent's files */
        rt_hooks_remove_all();
        rt.started = 0;
    }
    PyErr_Clear();
    rt_exc_restore(&saved);
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"start", m_start, METH_NOARGS, "Start the runtime (idempotent)."},
    {"load", m_load, METH_O, "load('name:k=v,...'): load a toolkit."},
    {"unload", m_unload, METH_O, "unload(name): unload a toolkit."},
    {"status", m_status, METH_NOARGS, "The runtime's state as a dict."},
    {"shutdown", m_shutdown, METH_NOARGS,
     "Unload everything and flush, as at exit."},
    {"_atexit", m_atexit, METH_NOARGS, NULL},
    {"_before_fork", m_before_fork, METH_NOARGS, NULL},
    {"_after_fork_parent", m_after_fork_parent, METH_NOARGS, NULL},
    {"_after_fork_child", m_after_fork_child, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static PyObject *py_callback(const char *name)
{
    for (PyMethodDef *m = methods; m->ml_name; m++)
        if (!strcmp(m->ml_name, name))
            return PyCFunction_New(m, NULL);
    return NULL;
}

static struct PyModuleDef moddef = {
    PyModuleDef_HEAD_INIT, "loong._runtime",
    "The loong runtime for this CPython version.", -1, methods,
    NULL, NULL, NULL, NULL,
};

__attribute__((visibility("default"))) PyMODINIT_FUNC PyInit__runtime(void)
{
    PyObject *m = PyModule_Create(&moddef);
    if (!m)
        return NULL;
    PyModule_AddStringConstant(m, "__version__", LOONG_VERSION_STRING);
    PyModule_AddIntConstant(m, "ABI_MAJOR", LOONG_ABI_MAJOR);
    PyModule_AddIntConstant(m, "ABI_MINOR", LOONG_ABI_MINOR);
    return m;
}
