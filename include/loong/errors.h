/* loong: error codes shared by the runtime, toolkits and the CLI.
 *
 * Every function of the tool interface that can fail returns 0 or a positive
 * value on success and a negative LOONG_E* code on failure. The table below
 * is the single source of truth: codes never change value once published.
 */
#ifndef LOONG_ERRORS_H
#define LOONG_ERRORS_H

#define LOONG_ERRNO_MAP(XX)                                                \
    XX(EINVAL, -1, "invalid argument")                                     \
    XX(ENOMEM, -2, "out of memory")                                        \
    XX(ENOTSUP, -3, "not supported by this interpreter or runtime")        \
    XX(EABI, -4, "toolkit ABI version does not match the runtime")         \
    XX(ENOENT, -5, "no such toolkit, file or object")                      \
    XX(EEXIST, -6, "already loaded or already exists")                     \
    XX(EBUSY, -7, "resource busy")                                         \
    XX(EFULL, -8, "buffer full: record dropped and counted")               \
    XX(EIO, -9, "input/output error")                                      \
    XX(ESTATE, -10, "not allowed in the current state")                    \
    XX(EOPTION, -11, "unknown or malformed toolkit option")                \
    XX(ETOOLKIT, -12, "toolkit failed to load")                            \
    XX(ETRUNC, -13, "result truncated")

typedef enum loong_error {
    LOONG_OK = 0,
#define LOONG__ERR_ENUM(name, value, text) LOONG_##name = (value),
    LOONG_ERRNO_MAP(LOONG__ERR_ENUM)
#undef LOONG__ERR_ENUM
} loong_error;

/* A short English description of a loong error code (or "success"). */
static inline const char *loong_strerror(int err)
{
    switch (err) {
    case LOONG_OK:
        return "success";
#define LOONG__ERR_CASE(name, value, text)                                 \
    case (value):                                                          \
        return (text);
        LOONG_ERRNO_MAP(LOONG__ERR_CASE)
#undef LOONG__ERR_CASE
    default:
        return "unknown loong error";
    }
}

#endif /* LOONG_ERRORS_H */
