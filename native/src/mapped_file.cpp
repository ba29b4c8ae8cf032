// mmap of a whole file, plus private copy-on-write views of parts of it.
#include "rp/mapped_file.h"

#include "posix_io.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <stdexcept>
#include <system_error>
#include <utility>

namespace rp {
namespace {

[[noreturn]] void fail(int err, const std::string& path) {
  throw std::system_error(err, std::generic_category(), "cannot map " + path);
}

}  // namespace

void PrivateMapping::unmap(const PrivateMapping& m) {
  if (m.base != nullptr && m.mapped != 0) ::munmap(m.base, m.mapped);
}

MappedFile::MappedFile(const std::string& path) : path_(path) {
  // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a
  // writer; the fstat below then refuses anything but a regular file.
  fd_ = open_retry(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd_ < 0) fail(errno, path);

  struct stat st;
  if (::fstat(fd_, &st) != 0) {
    const int err = errno;
    reset();
    fail(err, path);
  }
  if (!S_ISREG(st.st_mode)) {
    reset();
    if (S_ISDIR(st.st_mode)) fail(EISDIR, path);
    throw std::system_error(EINVAL, std::generic_category(),
                            "cannot map " + path + ": not a regular file");
  }
  const size_t size = static_cast<size_t>(st.st_size);
  if (size == 0) return;  // mmap rejects a zero length
  void* p = ::mmap(nullptr, size, PROT_READ, MAP_SHARED, fd_, 0);
  if (p == MAP_FAILED) {
    const int err = errno;
    reset();
    fail(err, path);
  }
  data_ = static_cast<const uint8_t*>(p);
  size_ = size;
}

MappedFile::~MappedFile() { reset(); }

void MappedFile::reset() noexcept {
  if (data_ != nullptr) ::munmap(const_cast<uint8_t*>(data_), size_);
  if (fd_ >= 0) ::close(fd_);
  data_ = nullptr;
  size_ = 0;
  fd_ = -1;
}

MappedFile::MappedFile(MappedFile&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      data_(std::exchange(other.data_, nullptr)),
      size_(std::exchange(other.size_, 0)),
      path_(std::move(other.path_)) {}

MappedFile& MappedFile::operator=(MappedFile&& other) noexcept {
  if (this != &other) {
    reset();
    fd_ = std::exchange(other.fd_, -1);
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
    path_ = std::move(other.path_);
  }
  return *this;
}

PrivateMapping MappedFile::map_private(uint64_t offset, size_t length) const {
  if (length == 0 || offset > size_ || length > size_ - offset) {
    throw std::out_of_range("private view [" + std::to_string(offset) + ", +" +
                            std::to_string(length) + ") is outside " + path_ + " (" +
                            std::to_string(size_) + " bytes)");
  }
  const uint64_t page = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
  const uint64_t start = offset / page * page;
  const size_t mapped = static_cast<size_t>(offset - start) + length;
  void* p = ::mmap(nullptr, mapped, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd_, static_cast<off_t>(start));
  if (p == MAP_FAILED) fail(errno, path_);
  PrivateMapping m;
  m.base = p;
  m.mapped = mapped;
  m.data = static_cast<uint8_t*>(p) + (offset - start);
  return m;
}

}  // namespace rp
