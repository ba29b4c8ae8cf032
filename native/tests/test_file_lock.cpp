// try_lock_file/unlock_file: exclusivity between open file descriptions (even
// within one process), release, and real errors surfacing as system_error.
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <system_error>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "temp_dir.h"
#include "rp/file_lock.h"

TEST(lock_excludes_second_open_and_releases) {
  const std::string dir = temp_dir();
  const std::string path = dir + "/LOCK";
  const int fd = rp::try_lock_file(path);
  CHECK(fd >= 0);
  struct stat st;
  CHECK_EQ(::stat(path.c_str(), &st), 0);  // created
  CHECK_EQ(st.st_mode & 0777, mode_t{0644} & ~[] {
    mode_t m = ::umask(0);
    ::umask(m);
    return m;
  }());
  // flock locks belong to the open file description, so a second open in the
  // same process conflicts just as another process would.
  CHECK_EQ(rp::try_lock_file(path), -1);
  CHECK_EQ(rp::try_lock_file(path), -1);  // and the failed try leaked nothing
  rp::unlock_file(fd);
  const int fd2 = rp::try_lock_file(path);
  CHECK(fd2 >= 0);
  CHECK_EQ(rp::try_lock_file(path), -1);
  rp::unlock_file(fd2);
  rp::unlock_file(-1);  // no-op
  ::unlink(path.c_str());
  ::rmdir(dir.c_str());
}

TEST(descriptor_is_cloexec) {
  const std::string dir = temp_dir();
  const std::string path = dir + "/LOCK";
  const int fd = rp::try_lock_file(path);
  CHECK(fd >= 0);
  CHECK((::fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0);
  rp::unlock_file(fd);
  ::unlink(path.c_str());
  ::rmdir(dir.c_str());
}

TEST(missing_directory_throws) {
  const std::string dir = temp_dir();
  bool threw = false;
  try {
    rp::try_lock_file(dir + "/no/such/dir/LOCK");
  } catch (const std::system_error& e) {
    threw = true;
    CHECK(e.code() == std::errc::no_such_file_or_directory);
    CHECK(std::string(e.what()).find(dir + "/no/such/dir/LOCK") !=
          std::string::npos);
  }
  CHECK(threw);
  // A directory cannot be opened O_RDWR either.
  CHECK_THROWS(std::system_error, rp::try_lock_file(dir));
  ::rmdir(dir.c_str());
}

RP_TEST_MAIN()
