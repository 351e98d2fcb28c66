/* Test toolkits that must be refused; built with -DVARIANT=... */
#include <loong/loong.h>

static int load(loong_toolkit *tk, const loong_api *api,
                const loong_options *o)
{
    (void)tk;
    (void)api;
    (void)o;
#if VARIANT == 4
    return LOONG_EINVAL; /* refuses to load */
#else
    return 0;
#endif
}

static const loong_option_def opts[] = {{NULL, NULL, NULL}};

static const loong_toolkit_def def = {
#if VARIANT == 1
    .abi_major = LOONG_ABI_MAJOR + 1, .abi_minor = 0,
#elif VARIANT == 2
    .abi_major = LOONG_ABI_MAJOR, .abi_minor = LOONG_ABI_MINOR + 1,
#else
    .abi_major = LOONG_ABI_MAJOR, .abi_minor = LOONG_ABI_MINOR,
#endif
    .size = sizeof(loong_toolkit_def),
    .name = "badabi",
    .version = "1.0",
    .summary = "refused on purpose",
    .options = opts,
    .load = load,
};

#if VARIANT == 3
const loong_toolkit_def *not_the_entry(void)
{
    return &def;
}
#else
LOONG_TOOLKIT(def)
#endif
