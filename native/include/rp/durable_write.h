// The step files' write protocol (FORMAT.md §6), as one call so
// that the whole sequence runs on one worker thread: create a temp file with
// O_EXCL, write it all, fsync, close, rename over the target, fsync the
// directory. A failed fsync is never retried.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <system_error>
#include <vector>

namespace rp {

// A failed system call: errno (as code()), the call's name and the path it was given.
class IoError : public std::system_error {
 public:
  IoError(int err, std::string syscall, std::string path);
  const std::string& syscall() const noexcept { return syscall_; }
  const std::string& path() const noexcept { return path_; }

 private:
  std::string syscall_;
  std::string path_;
};

// Writes data[0..len) to dir/name durably and atomically, through dir/temp_name
// (which must not exist: it is created with O_EXCL). Throws IoError. On any
// error the temp file is removed if this call created it; if only the final
// fsync of the directory fails, dir/name is removed as well, so a failed write
// never leaves a file under the target name. Earlier content of dir/name is
// replaced only by the rename, never partially.
void write_file_durable(const std::string& dir, const std::string& name,
                        const std::string& temp_name, const uint8_t* data,
                        size_t len);

// fsync of a directory, so that entries created, renamed or removed in it are
// durable. Throws IoError.
void sync_directory(const std::string& dir);

// Unlinks dir/<name> for each name, for retention after a durable write:
// ENOENT counts as done, and no fsync follows, since the directory's next
// durable write makes these removals durable too (until then a crash may
// bring a pruned file back, which retention removes again). Returns the
// names that could not be removed, with their errno; never throws IoError.
struct RemoveFailure {
  std::string name;
  int error;
};
std::vector<RemoveFailure> remove_files(const std::string& dir, const std::vector<std::string>& names);

}  // namespace rp
