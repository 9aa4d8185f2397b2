/* openfast: read-only opens of FUSE-mediated files answered with the backing file's fd
 * (SECCOMP_IOCTL_NOTIF_ADDFD). See openfast.c. */
#ifndef AGENTSH_OPENFAST_H
#define AGENTSH_OPENFAST_H

#include <linux/seccomp.h>
#include <stddef.h>
#include <stdint.h>

#define OF_MAX_PATH 4096u

struct of;

struct of_out {
    int rule;          /* matched rule index, -1: the default for reads */
    int log;           /* the open is to be reported (audit.log_allowed, or an audit rule) */
    int newfd;         /* the fd number the caller got; -1/-2: CONTINUEd read/write */
    uint32_t flags;    /* the open flags */
    uint32_t rlen;     /* path: the file as the container sees it */
    char path[OF_MAX_PATH + 1];
    char comm[17];
};

/* Parse a configuration blob (layout in openfast.c). NULL + errno on a bad blob. */
struct of *of_new(const void *blob, size_t len);
void of_free(struct of *o);

/* Is (arch, nr) one of the open syscalls of any architecture the filter may send? */
int of_is_open(uint32_t arch, int nr);

/* Answer one open notification on `listener`: 1 answered with an fd, or answered
   CONTINUE for a kernel subtree's file whose open is to be logged (*out filled; newfd
   -1 for a read, -2 for a write there),
   0 answered with CONTINUE (the kernel opens it, through FUSE or on a native subtree),
   2 not answered: the monitor's Python side is to decide it (it may end in a kernel
   subtree), -1 the notification is gone. `procfd` is an O_PATH fd of /proc. o may be
   NULL (always CONTINUE). */
int of_handle(struct of *o, int procfd, int listener, const struct seccomp_notif *n,
              struct of_out *out);

/* The rule the configured globs give `path` for a read: index, or -1 for none. */
int of_match(struct of *o, const char *path, size_t len);

#endif
