/* Reading the symbols and segments of ELF64 files, mapped read-only: the
 * target's C library (where dlopen is) and its python executable (which
 * Python version it is). Every offset read from the file is checked
 * against its size. */
#include "cli/attach.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static int in_file(const elf_file *ef, uint64_t off, uint64_t len)
{
    return off <= ef->size && len <= ef->size - off;
}

static const Elf64_Ehdr *ehdr(const elf_file *ef)
{
    return (const Elf64_Ehdr *)ef->data;
}

int elf_open(const char *path, elf_file *ef)
{
    memset(ef, 0, sizeof *ef);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
        (size_t)st.st_size < sizeof(Elf64_Ehdr)) {
        close(fd);
        return -ENOEXEC;
    }
    void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (p == MAP_FAILED)
        return -errno;
    ef->data = p;
    ef->size = (size_t)st.st_size;
    const Elf64_Ehdr *h = ehdr(ef);
    if (memcmp(h->e_ident, ELFMAG, SELFMAG) != 0 ||
        h->e_ident[EI_CLASS] != ELFCLASS64 ||
        h->e_ident[EI_DATA] != ELFDATA2LSB ||
        h->e_phentsize != sizeof(Elf64_Phdr) ||
        !in_file(ef, h->e_phoff, (uint64_t)h->e_phnum * sizeof(Elf64_Phdr)) ||
        (h->e_shnum &&
         (h->e_shentsize != sizeof(Elf64_Shdr) ||
          !in_file(ef, h->e_shoff,
                   (uint64_t)h->e_shnum * sizeof(Elf64_Shdr))))) {
        elf_close(ef);
        return -ENOEXEC;
    }
    return 0;
}

void elf_close(elf_file *ef)
{
    if (ef->data)
        munmap((void *)ef->data, ef->size);
    ef->data = NULL;
    ef->size = 0;
}

static const Elf64_Phdr *phdr(const elf_file *ef, int i)
{
    return (const Elf64_Phdr *)(ef->data + ehdr(ef)->e_phoff) + i;
}

static const Elf64_Shdr *shdr(const elf_file *ef, int i)
{
    return (const Elf64_Shdr *)(ef->data + ehdr(ef)->e_shoff) + i;
}

static int find_in(const elf_file *ef, uint32_t type, const char *name,
                   uint64_t *value)
{
    const Elf64_Ehdr *h = ehdr(ef);
    size_t nlen = strlen(name);
    for (int i = 0; i < h->e_shnum; i++) {
        const Elf64_Shdr *s = shdr(ef, i);
        if (s->sh_type != type || s->sh_entsize != sizeof(Elf64_Sym) ||
            s->sh_link >= h->e_shnum || !in_file(ef, s->sh_offset, s->sh_size))
            continue;
        const Elf64_Shdr *str = shdr(ef, (int)s->sh_link);
        if (!in_file(ef, str->sh_offset, str->sh_size))
            continue;
        const char *strtab = (const char *)ef->data + str->sh_offset;
        size_t count = s->sh_size / sizeof(Elf64_Sym);
        const Elf64_Sym *sym = (const Elf64_Sym *)(ef->data + s->sh_offset);
        for (size_t k = 0; k < count; k++) {
            if (sym[k].st_name >= str->sh_size ||
                sym[k].st_shndx == SHN_UNDEF || sym[k].st_value == 0)
                continue;
            int t = ELF64_ST_TYPE(sym[k].st_info);
            if (t != STT_FUNC && t != STT_OBJECT && t != STT_GNU_IFUNC)
                continue;
            const char *nm = strtab + sym[k].st_name;
            if (str->sh_size - sym[k].st_name > nlen &&
                memcmp(nm, name, nlen + 1) == 0) {
                *value = sym[k].st_value;
                return 0;
            }
        }
    }
    return -1;
}

int elf_symbol(const elf_file *ef, const char *name, uint64_t *value)
{
    if (find_in(ef, SHT_DYNSYM, name, value) == 0)
        return 0;
    return find_in(ef, SHT_SYMTAB, name, value);
}

uint64_t elf_load_base(const elf_file *ef)
{
    uint64_t base = UINT64_MAX;
    for (int i = 0; i < ehdr(ef)->e_phnum; i++) {
        const Elf64_Phdr *p = phdr(ef, i);
        if (p->p_type == PT_LOAD && p->p_vaddr < base)
            base = p->p_vaddr;
    }
    return base == UINT64_MAX ? 0 : base & ~(uint64_t)0xfff;
}

uint64_t elf_exec_end(const elf_file *ef)
{
    uint64_t end = 0;
    for (int i = 0; i < ehdr(ef)->e_phnum; i++) {
        const Elf64_Phdr *p = phdr(ef, i);
        if (p->p_type == PT_LOAD && (p->p_flags & PF_X) &&
            p->p_vaddr + p->p_memsz > end)
            end = p->p_vaddr + p->p_memsz;
    }
    return end;
}

int elf_read(const elf_file *ef, uint64_t vaddr, void *out, size_t len)
{
    for (int i = 0; i < ehdr(ef)->e_phnum; i++) {
        const Elf64_Phdr *p = phdr(ef, i);
        if (p->p_type != PT_LOAD || vaddr < p->p_vaddr ||
            vaddr - p->p_vaddr > p->p_filesz ||
            len > p->p_filesz - (vaddr - p->p_vaddr))
            continue;
        uint64_t off = p->p_offset + (vaddr - p->p_vaddr);
        if (!in_file(ef, off, len))
            return -1;
        memcpy(out, ef->data + off, len);
        return 0;
    }
    return -1;
}

int elf_needs(const elf_file *ef, const char *prefix)
{
    const Elf64_Ehdr *h = ehdr(ef);
    size_t plen = strlen(prefix);
    for (int i = 0; i < h->e_shnum; i++) {
        const Elf64_Shdr *s = shdr(ef, i);
        if (s->sh_type != SHT_DYNAMIC || s->sh_link >= h->e_shnum ||
            !in_file(ef, s->sh_offset, s->sh_size))
            continue;
        const Elf64_Shdr *str = shdr(ef, (int)s->sh_link);
        if (!in_file(ef, str->sh_offset, str->sh_size))
            continue;
        const char *strtab = (const char *)ef->data + str->sh_offset;
        const Elf64_Dyn *d = (const Elf64_Dyn *)(ef->data + s->sh_offset);
        for (size_t k = 0; k < s->sh_size / sizeof *d; k++) {
            if (d[k].d_tag == DT_NULL)
                break;
            if (d[k].d_tag == DT_NEEDED && d[k].d_un.d_val < str->sh_size &&
                str->sh_size - d[k].d_un.d_val > plen &&
                !strncmp(strtab + d[k].d_un.d_val, prefix, plen))
                return 1;
        }
    }
    return 0;
}
