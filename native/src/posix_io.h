// Small POSIX helpers shared by the core's file code (internal, not installed).
#pragma once
#include <cerrno>

#include <fcntl.h>
#include <sys/types.h>

namespace rp {

// open(2), retried while a signal interrupts it.
inline int open_retry(const char* path, int flags, mode_t mode = 0) {
  int fd;
  do {
    fd = ::open(path, flags, mode);
  } while (fd < 0 && errno == EINTR);
  return fd;
}

}  // namespace rp
