// A whole file mapped read-only (mmap PROT_READ, MAP_SHARED): the kernel pages
// it in on demand and may drop clean pages under memory pressure, so datasets
// larger than RAM can be read as if they were in memory.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace rp {

class MappedFile {
 public:
  // Maps the regular file at path. Throws std::system_error whose message
  // names the path (ENOENT, EACCES, EISDIR for a directory, ...). An empty
  // file gives an empty mapping (data() == nullptr, size() == 0).
  explicit MappedFile(const std::string& path);
  ~MappedFile();

  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&& other) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }

  // Hands the mapping to the caller, who must pass it to unmap() later.
  const uint8_t* release();

  // Unmaps a region that release() handed out (no-op for an empty one).
  static void unmap(const void* data, size_t size);

 private:
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace rp
