/* Loading and unloading toolkits, and the loong_api table they get.
 *
 * Lock order: tk_lock, then the interpreter lock. A thread holding the
 * interpreter lock releases it before waiting for tk_lock, because the
 * flusher may hold tk_lock while a toolkit's tick waits for the lock. */
#include "rt.h"

#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/tkfind.h"

static loong_toolkit *loading; /* the toolkit inside def->load, if any */

static void tk_lock_acquire(void)
{
    if (PyGILState_Check()) {
        Py_BEGIN_ALLOW_THREADS
        pthread_mutex_lock(&rt.tk_lock);
        Py_END_ALLOW_THREADS
    } else {
        pthread_mutex_lock(&rt.tk_lock);
    }
}

loong_toolkit *rt_toolkit_by_name(const char *name)
{
    for (int i = 0; i < RT_MAX_TOOLKITS; i++)
        if (rt.tk[i] && !strcmp(rt.tk[i]->def->name, name))
            return rt.tk[i];
    return NULL;
}

int rt_recompute_hooks(void)
{
    uint32_t caps = 0;
    for (int i = 0; i < RT_MAX_TOOLKITS; i++)
        if (rt.tk[i] && rt.tk[i]->active)
            caps |= rt.tk[i]->caps;
    rt.generation++; /* masks cached in code objects are stale now */
    rt.caps_on = caps;
    int rc = rt_hooks_update(caps);
    if (rc == 0)
        rc = rt_sampler_update();
    if (rc < 0)
        rt_log(NULL, LOONG_LOG_ERROR, "installing hooks: %s",
               loong_strerror(rc));
    return rc;
}

static void tk_free(loong_toolkit *tk)
{
    if (!tk)
        return;
    free(tk->include);
    free(tk->exclude);
    tk_spec_free(&tk->spec);
    if (tk->handle)
        dlclose(tk->handle);
    free(tk);
}

int rt_toolkit_load(const char *spec_text, char *err, size_t errlen)
{
    tk_spec spec;
    int rc = tk_spec_parse(spec_text, &spec, err, errlen);
    if (rc < 0)
        return rc;
    loong_toolkit *tk = calloc(1, sizeof *tk);
    if (!tk) {
        tk_spec_free(&spec);
        snprintf(err, errlen, "out of memory");
        return LOONG_ENOMEM;
    }
    tk->spec = spec;
    rc = tk_find(spec.name, rt.toolkit_path, tk->path, sizeof tk->path, err,
                 errlen);
    if (rc == 0)
        rc = tk_open(tk->path, &tk->handle, &tk->def, err, errlen);
    if (rc == 0)
        rc = tk_check_options(tk->def, &tk->spec, err, errlen);
    if (rc < 0) {
        tk_free(tk);
        return rc;
    }
    tk->options.count = tk->spec.nopts;
    tk->options.items = tk->spec.opts;

    tk_lock_acquire();
    int slot = -1;
    if (rt_toolkit_by_name(tk->def->name)) {
        snprintf(err, errlen, "toolkit '%s' is already loaded",
                 tk->def->name);
        rc = LOONG_EEXIST;
    } else {
        for (int i = 0; i < RT_MAX_TOOLKITS && slot < 0; i++)
            if (!rt.tk[i])
                slot = i;
        if (slot < 0) {
            snprintf(err, errlen, "%d toolkits are loaded already: unload "
                     "one first", RT_MAX_TOOLKITS);
            rc = LOONG_EBUSY;
        }
    }
    if (rc == 0) {
        tk->slot = slot;
        rt.tk[slot] = tk; /* not active: no events until load returns */
        loading = tk;
        rc = tk->def->load(tk, &rt_api, &tk->options);
        loading = NULL;
        if (rc < 0) {
            rt.tk[slot] = NULL;
            snprintf(err, errlen, "toolkit '%s' refused to load: %s",
                     tk->def->name, loong_strerror(rc));
            if (rc > LOONG_ETRUNC || rc < -1000)
                rc = LOONG_ETOOLKIT;
        } else {
            tk->active = 1;
            tk->loaded_wall_ns = rt_wall_ns();
            rc = rt_recompute_hooks();
            if (rc < 0) {
                /* its hooks cannot be had (e.g. every sys.monitoring tool
                 * id is taken): undo, and say so */
                tk->active = 0;
                rt_recompute_hooks();
                if (tk->def->unload)
                    tk->def->unload(tk, tk->state);
                rt.tk[slot] = NULL;
                snprintf(err, errlen, "toolkit '%s': its interpreter hooks "
                         "cannot be installed: %s%s", tk->def->name,
                         loong_strerror(rc),
                         rc == LOONG_EBUSY ? " (every sys.monitoring tool id "
                                             "loong may use is taken)" : "");
            }
        }
    }
    pthread_mutex_unlock(&rt.tk_lock);
    if (rc < 0) {
        tk_free(tk);
        return rc;
    }
    rt_log(tk, LOONG_LOG_INFO, "loaded from %s", tk->path);
    rt_meta_write(NULL);
    return 0;
}

/* Stop events, last tick, unload. tk_lock held by the caller. */
static void unload_locked(loong_toolkit *tk, int final_tick)
{
    rt_sampler_flush_locked();
    tk->active = 0;
    rt_recompute_hooks();
    if (final_tick && (tk->caps & LOONG_CAP_TICK) && tk->cb.tick) {
        loong_tick_event ev = {rt_now_ns(), rt_wall_ns(), LOONG_TICK_FINAL};
        tk->cb.tick(tk->state, &ev);
    }
    if (tk->def->unload)
        tk->def->unload(tk, tk->state);
    rt.tk[tk->slot] = NULL;
    rt_meta_note_unloaded(tk);
    rt_log(NULL, LOONG_LOG_INFO, "unloaded %s", tk->def->name);
    tk_free(tk);
}

int rt_toolkit_unload(const char *name, char *err, size_t errlen)
{
    tk_lock_acquire();
    loong_toolkit *tk = rt_toolkit_by_name(name);
    if (!tk) {
        pthread_mutex_unlock(&rt.tk_lock);
        snprintf(err, errlen, "toolkit '%s' is not loaded", name);
        return LOONG_ENOENT;
    }
    unload_locked(tk, 1);
    pthread_mutex_unlock(&rt.tk_lock);
    rt_pipeline_flush_now();
    rt_meta_write(NULL);
    return 0;
}

/* At exit, after the final tick: hooks are already removed. */
void rt_toolkits_unload_all(void)
{
    tk_lock_acquire();
    for (int i = 0; i < RT_MAX_TOOLKITS; i++)
        if (rt.tk[i])
            unload_locked(rt.tk[i], 0);
    rt_recompute_hooks();
    pthread_mutex_unlock(&rt.tk_lock);
}

/* In a fork child: the toolkits' state describes the parent. Load each one
 * afresh with the same options; the parent's state is left alone (its locks
 * may be in any state), which costs one toolkit state per fork. */
void rt_toolkits_after_fork_child(void)
{
    for (int i = 0; i < RT_MAX_TOOLKITS; i++) {
        loong_toolkit *old = rt.tk[i];
        if (!old)
            continue;
        loong_toolkit *tk = calloc(1, sizeof *tk);
        char *text = tk_spec_format(&old->spec);
        rt.tk[i] = NULL;
        if (!tk || !text) {
            free(tk);
            free(text);
            continue;
        }
        char err[512];
        if (tk_spec_parse(text, &tk->spec, err, sizeof err) == 0) {
            tk->slot = i;
            tk->def = old->def;
            tk->handle = old->handle; /* same mapping, inherited */
            memcpy(tk->path, old->path, sizeof tk->path);
            tk->options.count = tk->spec.nopts;
            tk->options.items = tk->spec.opts;
            rt.tk[i] = tk;
            loading = tk;
            int rc = tk->def->load(tk, &rt_api, &tk->options);
            loading = NULL;
            if (rc < 0) {
                rt.tk[i] = NULL;
                tk->handle = NULL;
                tk_free(tk);
            } else {
                tk->active = 1;
                tk->loaded_wall_ns = rt_wall_ns();
            }
        } else {
            free(tk);
        }
        free(text);
    }
    rt_recompute_hooks();
}

/* ---- the API table --------------------------------------------------- */

static const char *api_strerror(int err)
{
    return loong_strerror(err);
}

static int api_set_state(loong_toolkit *tk, void *state)
{
    if (!tk)
        return LOONG_EINVAL;
    tk->state = state;
    return 0;
}

static int api_set_callbacks(loong_toolkit *tk, const loong_callbacks *cb,
                             size_t size)
{
    if (!tk || (!cb && size))
        return LOONG_EINVAL;
    if (tk != loading)
        return LOONG_ESTATE;
    memset(&tk->cb, 0, sizeof tk->cb);
    memcpy(&tk->cb, cb, size < sizeof tk->cb ? size : sizeof tk->cb);
    return 0;
}

static uint32_t api_potential(void)
{
    return rt_hooks_potential();
}

static int api_add_caps(loong_toolkit *tk, uint32_t caps)
{
    if (!tk)
        return LOONG_EINVAL;
    if (tk != loading)
        return LOONG_ESTATE;
    if (caps & ~rt_hooks_potential())
        return LOONG_ENOTSUP;
    tk->caps |= caps;
    return 0;
}

static int api_relinquish_caps(loong_toolkit *tk, uint32_t caps)
{
    if (!tk)
        return LOONG_EINVAL;
    if (tk != loading)
        return LOONG_ESTATE;
    tk->caps &= ~caps;
    return 0;
}

static int api_set_sample_rate(loong_toolkit *tk, uint32_t hz)
{
    if (!tk || hz < 1 || hz > 10000)
        return LOONG_EINVAL;
    if (tk != loading)
        return LOONG_ESTATE;
    tk->sample_hz = hz;
    return 0;
}

static int api_set_allocation_sampling(loong_toolkit *tk, uint64_t mean)
{
    if (!tk || mean < 1)
        return LOONG_EINVAL;
    if (tk != loading)
        return LOONG_ESTATE;
    tk->alloc_mean = mean;
    return 0;
}

static int api_set_filter(loong_toolkit *tk, const char *include,
                          const char *exclude)
{
    if (!tk)
        return LOONG_EINVAL;
    if (tk != loading)
        return LOONG_ESTATE;
    return rt_filter_set(tk, include, exclude);
}

static const char *api_option(loong_toolkit *tk, const char *key,
                              const char *def)
{
    if (!tk || !key)
        return def;
    for (size_t i = 0; i < tk->spec.nopts; i++)
        if (!strcmp(tk->spec.opts[i].key, key))
            return tk->spec.opts[i].value;
    return def;
}

static uint64_t cpu_clock(clockid_t id)
{
    struct timespec ts;
    if (clock_gettime(id, &ts) < 0)
        return 0;
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t api_thread_cpu(void)
{
    return cpu_clock(CLOCK_THREAD_CPUTIME_ID);
}

static uint64_t api_process_cpu(void)
{
    return cpu_clock(CLOCK_PROCESS_CPUTIME_ID);
}

static int api_emit(loong_toolkit *tk, const loong_point *p)
{
    return rt_emit(tk, p);
}

static int api_write_file(loong_toolkit *tk, const char *name,
                          const void *data, size_t len)
{
    return rt_write_file(name, data, len);
}

static const char *api_output_dir(void)
{
    return rt.proc_dir;
}

static void api_log(loong_toolkit *tk, int level, const char *fmt, ...)
{
    char msg[1536];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    rt_log(tk, level, "%s", msg);
}

static void api_free(void *p)
{
    free(p);
}

const loong_api rt_api = {
    .major = LOONG_ABI_MAJOR,
    .minor = LOONG_ABI_MINOR,
    .size = sizeof(loong_api),
    .strerror = api_strerror,
    .set_state = api_set_state,
    .set_callbacks = api_set_callbacks,
    .potential_capabilities = api_potential,
    .add_capabilities = api_add_caps,
    .relinquish_capabilities = api_relinquish_caps,
    .set_filter = api_set_filter,
    .option = api_option,
    .code_info = rt_code_info,
    .current_stack = rt_current_stack,
    .threads_stacks = rt_threads_stacks,
    .now_ns = rt_now_ns,
    .wall_ns = rt_wall_ns,
    .thread_cpu_ns = api_thread_cpu,
    .process_cpu_ns = api_process_cpu,
    .set_sample_rate = api_set_sample_rate,
    .set_allocation_sampling = api_set_allocation_sampling,
    .memory_stats = rt_memory_stats,
    .type_counts = rt_type_counts,
    .allocator_stats = rt_allocator_stats,
    .emit_point = api_emit,
    .write_file = api_write_file,
    .output_dir = api_output_dir,
    .log = api_log,
    .free = api_free,
};
