// Durable, atomic file replacement with plain POSIX calls (see the header).
// open and write are retried on EINTR; close is not (on Linux the descriptor
// is gone either way), nor is a failed fsync, which is final by design.
#include "rp/durable_write.h"

#include "posix_io.h"

#include <algorithm>
#include <cerrno>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace rp {

IoError::IoError(int err, std::string syscall, std::string path)
    : std::system_error(err, std::generic_category(), syscall + " " + path),
      syscall_(std::move(syscall)),
      path_(std::move(path)) {}

namespace {

// Closes fd, removes path and throws: the cleanup of a temp file we created.
[[noreturn]] void abandon(int fd, const std::string& path, int err, const char* syscall) {
  if (fd >= 0) ::close(fd);
  ::unlink(path.c_str());
  throw IoError(err, syscall, path);
}

}  // namespace

void sync_directory(const std::string& dir) {
  const int fd = open_retry(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
  if (fd < 0) throw IoError(errno, "open", dir);
  if (::fsync(fd) != 0) {
    const int err = errno;
    ::close(fd);
    throw IoError(err, "fsync", dir);
  }
  ::close(fd);
}

void write_file_durable(const std::string& dir, const std::string& name,
                        const std::string& temp_name, const uint8_t* data,
                        size_t len) {
  const std::string temp = dir + "/" + temp_name;
  const std::string target = dir + "/" + name;
  const int fd = open_retry(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  // Not created by us (EEXIST) or not created at all: there is nothing of ours to remove.
  if (fd < 0) throw IoError(errno, "open", temp);

  size_t done = 0;
  while (done < len) {
    // Linux writes at most ~2 GiB per call; larger files take several.
    const size_t chunk = std::min<size_t>(len - done, size_t{1} << 30);
    const ssize_t n = ::write(fd, data + done, chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) abandon(fd, temp, errno, "write");
    if (n == 0) abandon(fd, temp, EIO, "write");  // no progress and no error: give up
    done += static_cast<size_t>(n);
  }
  // After a failed fsync the kernel may have dropped the dirty pages; a retry
  // that succeeds would prove nothing, so the write fails here.
  if (::fsync(fd) != 0) abandon(fd, temp, errno, "fsync");
  if (::close(fd) != 0) abandon(-1, temp, errno, "close");
  if (::rename(temp.c_str(), target.c_str()) != 0) abandon(-1, temp, errno, "rename");
  try {
    sync_directory(dir);
  } catch (const IoError&) {
    // The rename may not be durable: the write failed, and must not leave a
    // file that readers would take as the newest step.
    ::unlink(target.c_str());
    throw;
  }
}

std::vector<RemoveFailure> remove_files(const std::string& dir,
                                        const std::vector<std::string>& names) {
  std::vector<RemoveFailure> failed;
  for (const std::string& name : names) {
    const std::string path = dir + "/" + name;
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) failed.push_back({name, errno});
  }
  return failed;
}

}  // namespace rp
