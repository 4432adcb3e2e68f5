// The kernel's share of remediating one file, with no runtime around it: open, stat,
// read the access ACL (the snapshot), set the target ACL, read it back (the verify),
// close. Paths come one per line on stdin; the target ACL is the access ACL of argv[1].
// Prints the CPU the process used. Built and run by scripts/bench-floors.ts.
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#define ACCESS "system.posix_acl_access"

int main(int argc, char **argv) {
  static char target[65536], before[65536], after[65536], line[16384];
  if (argc != 2) { fprintf(stderr, "usage: acl-apply-floor <file with the target ACL> < paths\n"); return 2; }
  ssize_t size = getxattr(argv[1], ACCESS, target, sizeof target);
  if (size < 0) { perror(argv[1]); return 1; }
  long files = 0;
  while (fgets(line, sizeof line, stdin)) {
    line[strcspn(line, "\n")] = 0;
    int fd = open(line, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) { perror(line); return 1; }
    struct stat st;
    fstat(fd, &st);
    fgetxattr(fd, ACCESS, before, sizeof before);
    if (fsetxattr(fd, ACCESS, target, size, 0) < 0) { perror(line); return 1; }
    if (fgetxattr(fd, ACCESS, after, sizeof after) != size || memcmp(after, target, size) != 0) {
      fprintf(stderr, "%s: read back differs\n", line);
      return 1;
    }
    close(fd);
    files++;
  }
  struct rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  printf("{\"files\":%ld,\"user\":%.3f,\"sys\":%.3f}\n", files,
         usage.ru_utime.tv_sec + usage.ru_utime.tv_usec / 1e6, usage.ru_stime.tv_sec + usage.ru_stime.tv_usec / 1e6);
  return 0;
}
