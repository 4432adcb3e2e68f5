// The kernel's share of a bootstrap walk, with no runtime around it: per entry the
// calls the index needs (getdents64, statx without following links, the access ACL
// xattr, and for directories the default ACL xattr and an openat). Prints the CPU the
// process used. Built and run by scripts/bench-floors.ts; not part of the product.
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define SYS_GETXATTRAT 464

struct xattr_args { uint64_t value; uint32_t size; uint32_t flags; };
struct dirent64 { uint64_t ino; int64_t off; unsigned short reclen; unsigned char type; char name[]; };

static long entries, acls;
static char value[65536];

static long getxattr_at(int dir_fd, const char *name, const char *attribute) {
  struct xattr_args args = { (uint64_t)(uintptr_t)value, sizeof value, 0 };
  return syscall(SYS_GETXATTRAT, dir_fd, name, AT_SYMLINK_NOFOLLOW, attribute, &args, sizeof args);
}

static void walk(int dir_fd) {
  char buffer[65536];
  struct statx st;
  for (;;) {
    long n = syscall(SYS_getdents64, dir_fd, buffer, sizeof buffer);
    if (n <= 0) return;
    for (long offset = 0; offset < n;) {
      struct dirent64 *entry = (struct dirent64 *)(buffer + offset);
      offset += entry->reclen;
      const char *name = entry->name;
      if (name[0] == '.' && (!name[1] || (name[1] == '.' && !name[2]))) continue;
      if (statx(dir_fd, name, AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS | STATX_BTIME, &st) < 0) continue;
      entries++;
      if (S_ISLNK(st.stx_mode)) continue;
      if (getxattr_at(dir_fd, name, "system.posix_acl_access") > 0) acls++;
      if (!S_ISDIR(st.stx_mode)) continue;
      getxattr_at(dir_fd, name, "system.posix_acl_default");
      int child = openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (child >= 0) { walk(child); close(child); }
    }
  }
}

int main(int argc, char **argv) {
  if (argc != 2) { fprintf(stderr, "usage: walk-floor <tree>\n"); return 2; }
  int root = open(argv[1], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (root < 0) { perror(argv[1]); return 1; }
  walk(root);
  struct rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  printf("{\"entries\":%ld,\"acls\":%ld,\"user\":%.3f,\"sys\":%.3f}\n", entries, acls,
         usage.ru_utime.tv_sec + usage.ru_utime.tv_usec / 1e6, usage.ru_stime.tv_sec + usage.ru_stime.tv_usec / 1e6);
  return 0;
}
