/* Finding and opening toolkits, shared by the CLI and the runtime. */
#ifndef LOONG_COMMON_TKFIND_H
#define LOONG_COMMON_TKFIND_H

#include <stddef.h>

#include "loong/loong.h"
#include "spec.h"

/* A name ([a-z0-9_]+) is looked up as NAME.so in each folder of
 * search_path (':'-separated); anything with a '/' or ending in ".so" is a
 * path. Writes the absolute path to out. 0, or LOONG_ENOENT with a message
 * naming the folders searched. */
int tk_find(const char *name_or_path, const char *search_path, char *out,
            size_t outlen, char *err, size_t errlen);

/* dlopen (RTLD_NOW | RTLD_LOCAL) and read the definition. Refuses, with a
 * clear message: no entry symbol (LOONG_ETOOLKIT), another ABI major or a
 * newer ABI minor than this build (LOONG_EABI), a def smaller than the
 * fields we read, a bad name, no load function. On error nothing stays
 * open. */
int tk_open(const char *path, void **handle, const loong_toolkit_def **def,
            char *err, size_t errlen);

/* Every option in spec must be declared in def->options: else
 * LOONG_EOPTION with a message naming the option and the known ones. */
int tk_check_options(const loong_toolkit_def *def, const tk_spec *spec,
                     char *err, size_t errlen);

#endif
