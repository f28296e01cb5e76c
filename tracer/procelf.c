/* SPDX-License-Identifier: MIT */
/* procelf.c -- where the runtime's layout table is in a running process:
 * the objects /proc/PID/maps lists, their ELF symbol tables, and the load
 * bias of each.
 *
 * The table is looked up by symbol (.dynsym of libcoscope.so, .symtab of a
 * program linked with libcoscope.a), then by its own section for a
 * stripped program.  The files are read as untrusted input: every offset
 * and count from an ELF header is checked against the file's size.
 */
#include "procread.h"
#include "../runtime/debug_offsets.h"
#include <elf.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <signal.h>
#include <unistd.h>

#define MAX_OBJECTS 512

typedef struct object {
    char path[PATH_MAX];
    uint64_t base;      /* start of its mapping at file offset 0 */
    int has_base;
    int deleted;        /* replaced on disk since (a rebuild): read what is mapped */
    uint64_t lo, hi;    /* its first mapping, for /proc/PID/map_files */
    int is_exe;
} object;

static int in_file(size_t fsize, uint64_t off, uint64_t len)
{
    return off <= fsize && len <= fsize - off;
}

/* The symbol's (or section's) address in the file's own addresses, 0 if
 * neither is there. */
static uint64_t lookup(const unsigned char *f, size_t fsize, int *is_dyn, uint64_t *first_load)
{
    if (fsize < sizeof(Elf64_Ehdr) || memcmp(f, ELFMAG, SELFMAG) || f[EI_CLASS] != ELFCLASS64) return 0;
    const Elf64_Ehdr *eh = (const void *)f;
    *is_dyn = eh->e_type == ET_DYN;
    *first_load = UINT64_MAX;
    if (eh->e_phentsize == sizeof(Elf64_Phdr) && in_file(fsize, eh->e_phoff, (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr))) {
        const Elf64_Phdr *ph = (const void *)(f + eh->e_phoff);
        for (unsigned i = 0; i < eh->e_phnum; i++)
            if (ph[i].p_type == PT_LOAD && ph[i].p_offset == 0 && ph[i].p_vaddr < *first_load)
                *first_load = ph[i].p_vaddr;
    }
    if (*first_load == UINT64_MAX) *first_load = 0;
    if (eh->e_shentsize != sizeof(Elf64_Shdr) || eh->e_shnum == 0 ||
        !in_file(fsize, eh->e_shoff, (uint64_t)eh->e_shnum * sizeof(Elf64_Shdr)))
        return 0;
    const Elf64_Shdr *sh = (const void *)(f + eh->e_shoff);
    uint64_t section_addr = 0;
    for (unsigned i = 0; i < eh->e_shnum; i++) {
        if (sh[i].sh_type == SHT_SYMTAB || sh[i].sh_type == SHT_DYNSYM) {
            if (sh[i].sh_link >= eh->e_shnum || sh[i].sh_entsize != sizeof(Elf64_Sym)) continue;
            const Elf64_Shdr *st = &sh[sh[i].sh_link];
            if (!in_file(fsize, sh[i].sh_offset, sh[i].sh_size) || !in_file(fsize, st->sh_offset, st->sh_size)) continue;
            const Elf64_Sym *sym = (const void *)(f + sh[i].sh_offset);
            const char *str = (const char *)f + st->sh_offset;
            size_t n = sh[i].sh_size / sizeof *sym, want = sizeof CO_DEBUG_SYMBOL;
            for (size_t k = 0; k < n; k++) {
                if (sym[k].st_shndx == SHN_UNDEF || sym[k].st_name >= st->sh_size ||
                    st->sh_size - sym[k].st_name < want)
                    continue;
                if (!memcmp(str + sym[k].st_name, CO_DEBUG_SYMBOL, want)) return sym[k].st_value;
            }
        }
    }
    /* Stripped: the section that holds only the table. */
    if (eh->e_shstrndx < eh->e_shnum) {
        const Elf64_Shdr *names = &sh[eh->e_shstrndx];
        if (in_file(fsize, names->sh_offset, names->sh_size)) {
            const char *str = (const char *)f + names->sh_offset;
            size_t want = sizeof CO_DEBUG_SECTION;
            for (unsigned i = 0; i < eh->e_shnum && !section_addr; i++)
                if (sh[i].sh_name < names->sh_size && names->sh_size - sh[i].sh_name >= want &&
                    !memcmp(str + sh[i].sh_name, CO_DEBUG_SECTION, want))
                    section_addr = sh[i].sh_addr;
        }
    }
    return section_addr;
}

/* Look in one mapped file; 1 and *addr if the table is there. */
static int try_object(int pid, const object *o, uint64_t *addr)
{
    char p[PATH_MAX + 32];
    int fd;
    if (o->deleted && o->is_exe) {
        snprintf(p, sizeof p, "/proc/%d/exe", pid); /* the mapped file, even unlinked */
        fd = open(p, O_RDONLY | O_CLOEXEC);
    } else if (o->deleted) {
        snprintf(p, sizeof p, "/proc/%d/map_files/%llx-%llx", pid, (unsigned long long)o->lo,
                 (unsigned long long)o->hi);
        fd = open(p, O_RDONLY | O_CLOEXEC);
    } else {
        snprintf(p, sizeof p, "/proc/%d/root%s", pid, o->path);
        fd = open(p, O_RDONLY | O_CLOEXEC);
        if (fd < 0) fd = open(o->path, O_RDONLY | O_CLOEXEC);
    }
    if (fd < 0) return 0;
    struct stat st;
    int found = 0;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size >= (off_t)sizeof(Elf64_Ehdr)) {
        void *f = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (f != MAP_FAILED) {
            int is_dyn = 0;
            uint64_t first_load = 0;
            uint64_t v = lookup(f, (size_t)st.st_size, &is_dyn, &first_load);
            if (v) {
                *addr = is_dyn ? o->base - (first_load & ~(uint64_t)0xfff) + v : v;
                found = !is_dyn || o->has_base;
            }
            munmap(f, (size_t)st.st_size);
        }
    }
    close(fd);
    return found;
}

int tr_ps_find_table(int pid, uint64_t *addr, char *objname, size_t objsize)
{
    char p[64];
    snprintf(p, sizeof p, "/proc/%d/maps", pid);
    FILE *m = fopen(p, "re");
    if (!m) return errno == ENOENT ? TR_PS_ENOPROC : errno == EACCES || errno == EPERM ? TR_PS_EPERM : -errno;
    object *objs = calloc(MAX_OBJECTS, sizeof *objs);
    if (!objs) {
        fclose(m);
        return -ENOMEM;
    }
    size_t n = 0;
    char line[PATH_MAX + 128];
    /* PATH_MAX + the fields before the path: a longer line is cut, its
     * path then not found, which only loses that object. */
    int nlines = 0;
    while (fgets(line, sizeof line, m)) {
        nlines++;
        unsigned long lo, hi, off;
        int path_at = -1;
        if (sscanf(line, "%lx-%lx %*s %lx %*s %*s %n", &lo, &hi, &off, &path_at) < 3 || path_at < 0) continue;
        char *path = line + path_at;
        path[strcspn(path, "\n")] = 0;
        if (path[0] != '/') continue; /* anonymous, [heap], [vdso], ... */
        size_t len = strlen(path);
        int deleted = len > 10 && !strcmp(path + len - 10, " (deleted)");
        if (deleted) path[len - 10] = 0;
        size_t i = 0;
        while (i < n && strcmp(objs[i].path, path)) i++;
        if (i == n) {
            if (n == MAX_OBJECTS) continue;
            snprintf(objs[n].path, sizeof objs[n].path, "%s", path);
            objs[n].deleted = deleted;
            objs[n].lo = lo;
            objs[n].hi = hi;
            n++;
        }
        if (off == 0 && (!objs[i].has_base || lo < objs[i].base)) {
            objs[i].base = lo;
            objs[i].has_base = 1;
        }
    }
    int rerr = ferror(m);
    fclose(m);
    int r = TR_PS_ENOTCO;
    /* An empty maps file: a zombie, or one we may not read. */
    if (rerr || nlines == 0) r = kill(pid, 0) < 0 && errno == ESRCH ? TR_PS_ENOPROC : rerr ? TR_PS_EPERM : TR_PS_ENOTCO;
    /* The executable first: the usual place, and it saves opening libc. */
    char exe[PATH_MAX];
    snprintf(p, sizeof p, "/proc/%d/exe", pid);
    ssize_t el = readlink(p, exe, sizeof exe - 1);
    exe[el > 0 ? el : 0] = 0;
    el = el > 0 ? el : 0;
    if (el > 10 && !strcmp(exe + el - 10, " (deleted)")) exe[el - 10] = 0;
    for (size_t i = 0; i < n; i++) objs[i].is_exe = !strcmp(objs[i].path, exe);
    for (int pass = 0; pass < 3 && r == TR_PS_ENOTCO; pass++) {
        for (size_t i = 0; i < n; i++) {
            int is_exe = objs[i].is_exe;
            int named = strstr(objs[i].path, "coscope") != NULL;
            if ((pass == 0) != is_exe || (pass == 1 && !named) || (pass == 2 && named)) continue;
            if (try_object(pid, &objs[i], addr)) {
                if (objname) snprintf(objname, objsize, "%s", objs[i].path);
                r = 0;
                break;
            }
        }
    }
    free(objs);
    return r;
}
