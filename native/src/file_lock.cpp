// Single-writer guard: flock() is tied to the open file description and is
// released by the kernel when the last descriptor closes, including on a
// crash, so no stale lock can survive its process (unlike a pid file).
#include "rp/file_lock.h"

#include "posix_io.h"

#include <cerrno>
#include <system_error>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

namespace rp {

int try_lock_file(const std::string& path) {
  int fd = open_retry(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    throw std::system_error(errno, std::generic_category(), "open " + path);
  }
  int rc;
  do {
    rc = ::flock(fd, LOCK_EX | LOCK_NB);
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) {
    const int err = errno;
    ::close(fd);
    if (err == EWOULDBLOCK || err == EAGAIN) return -1;  // held elsewhere
    throw std::system_error(err, std::generic_category(), "flock " + path);
  }
  return fd;
}

void unlock_file(int fd) {
  if (fd < 0) return;
  // close() alone would drop the lock; the explicit LOCK_UN also releases it
  // for any descriptor duplicated from fd (e.g. inherited across fork).
  // Errors are ignored: this runs from cleanup paths that must not throw.
  ::flock(fd, LOCK_UN);
  ::close(fd);
}

}  // namespace rp
