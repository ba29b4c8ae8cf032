// A whole file mapped read-only (mmap PROT_READ, MAP_SHARED): the kernel pages
// it in on demand and may drop clean pages under memory pressure, so datasets
// larger than RAM can be read as if they were in memory.
//
// Memory handed to JavaScript must never be read-only (a write from JS would
// kill the process with SIGSEGV), so views for JS come from map_private(): a
// separate copy-on-write mapping where a write only changes a private copy of
// the page, never the file.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace rp {

// A private copy-on-write mapping; release it with unmap().
struct PrivateMapping {
  void* base = nullptr;   // what mmap returned (page-aligned)
  size_t mapped = 0;      // bytes mapped from base
  uint8_t* data = nullptr;  // the requested offset within it
  static void unmap(const PrivateMapping& m);
};

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

  // A writable, private view of [offset, offset + length) of the same file
  // (length > 0, within size()). Throws std::out_of_range or std::system_error.
  PrivateMapping map_private(uint64_t offset, size_t length) const;

 private:
  void reset() noexcept;

  int fd_ = -1;  // kept open for map_private()
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
  std::string path_;
};

}  // namespace rp
