// One writer per directory: an exclusive, non-blocking flock on a lock file.
// The kernel drops the lock when the process dies, so a crash never leaves
// a directory locked.
#pragma once
#include <string>

namespace rp {

// Opens (creating if needed, mode 0644) path and takes LOCK_EX|LOCK_NB.
// Returns the open descriptor on success, or -1 when another open file
// description holds the lock. Throws std::system_error for any other error
// (ENOENT directory, EACCES, EROFS, ...). The descriptor is O_CLOEXEC.
int try_lock_file(const std::string& path);

// Releases the lock and closes fd; ignores errors (safe from finalizers). POSIX only.
void unlock_file(int fd);

}  // namespace rp
