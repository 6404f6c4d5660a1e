/* Host program: installs a SIGSEGV handler that prints glibc frames
   (backtrace_symbols_fd) and a Minnow-style module map, then dies by the
   signal. Built by the tests with gcc -g -O2. */
#define _GNU_SOURCE
#include <execinfo.h>
#include <link.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

extern int plugin_entry(int v);

static int print_module(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    (void)data;
    char path[4096];
    const char *name = info->dlpi_name;
    if (name == NULL || name[0] == '\0') {
        ssize_t n = readlink("/proc/self/exe", path, sizeof path - 1);
        if (n <= 0)
            return 0;
        path[n] = '\0';
        name = path;
    }
    unsigned long end = 0;
    char id[128] = "";
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type == PT_LOAD && ph->p_vaddr + ph->p_memsz > end)
            end = ph->p_vaddr + ph->p_memsz;
        if (ph->p_type == PT_NOTE) {
            const char *p = (const char *)(info->dlpi_addr + ph->p_vaddr);
            const char *e = p + ph->p_memsz;
            while (p + sizeof(ElfW(Nhdr)) <= e) {
                const ElfW(Nhdr) *nh = (const ElfW(Nhdr) *)p;
                const char *nm = p + sizeof(ElfW(Nhdr));
                const unsigned char *desc = (const unsigned char *)nm + ((nh->n_namesz + 3) & ~3u);
                if (nh->n_type == NT_GNU_BUILD_ID && nh->n_namesz == 4 && memcmp(nm, "GNU", 4) == 0)
                    for (unsigned j = 0; j < nh->n_descsz && j < 60; j++)
                        sprintf(id + 2 * j, "%02x", desc[j]);
                p = (const char *)desc + ((nh->n_descsz + 3) & ~3u);
            }
        }
    }
    if (id[0])
        fprintf(stderr, "0x%lx-0x%lx %s BuildID[sha1]=%s\n", (unsigned long)info->dlpi_addr,
                (unsigned long)info->dlpi_addr + end, name, id);
    else
        fprintf(stderr, "0x%lx-0x%lx %s\n", (unsigned long)info->dlpi_addr,
                (unsigned long)info->dlpi_addr + end, name);
    return 0;
}

static void on_fault(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    void *frames[64];
    fprintf(stderr, "test-host got signal %d ;\nAttempting backtrace.\nstack_bottom = 0 thread_stack 0x0\n", sig);
    (void)si;
    int n = backtrace(frames, 64);
    backtrace_symbols_fd(frames, n, 2);
    fprintf(stderr, "Module map:\n");
    dl_iterate_phdr(print_module, NULL);
    fprintf(stderr, "Trying to get some variables.\n");
    signal(sig, SIG_DFL);
    raise(sig);
}

int main(int argc, char **argv)
{
    (void)argv;
    void *warm[4];
    backtrace(warm, 4);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_fault;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGSEGV, &sa, NULL);
    return plugin_entry(argc) + 1; /* MARK:call_entry */
}
