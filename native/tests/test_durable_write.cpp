// write_file_durable / sync_directory: content and replacement, no temp file
// left behind on success or failure, someone else's temp file never removed,
// and errors carrying errno, the call and the path.
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <dirent.h>
#include <fstream>
#include <iterator>
#include <string>
#include <system_error>
#include <vector>

#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "temp_dir.h"
#include "rp/durable_write.h"

namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::vector<std::string> names(const std::string& dir) {
  std::vector<std::string> out;
  DIR* d = ::opendir(dir.c_str());
  while (dirent* e = ::readdir(d)) {
    const std::string n = e->d_name;
    if (n != "." && n != "..") out.push_back(n);
  }
  ::closedir(d);
  return out;
}

void write(const std::string& dir, const std::string& name, const std::string& temp, const std::string& text) {
  rp::write_file_durable(dir, name, temp, reinterpret_cast<const uint8_t*>(text.data()), text.size());
}

void remove_all(const std::string& dir) {
  for (const std::string& n : names(dir)) ::unlink((dir + "/" + n).c_str());
  ::rmdir(dir.c_str());
}

}  // namespace

TEST(writes_and_replaces_leaving_no_temp_file) {
  const std::string dir = temp_dir();
  write(dir, "step_1.msgpack", ".t1", "first");
  CHECK_EQ(read_file(dir + "/step_1.msgpack"), std::string("first"));
  write(dir, "step_1.msgpack", ".t2", "second, longer");
  CHECK_EQ(read_file(dir + "/step_1.msgpack"), std::string("second, longer"));
  write(dir, "empty", ".t3", "");
  CHECK_EQ(read_file(dir + "/empty"), std::string(""));
  CHECK_EQ(names(dir).size(), size_t{2});
  struct stat st;
  CHECK_EQ(::stat((dir + "/step_1.msgpack").c_str(), &st), 0);
  CHECK_EQ(st.st_size, 14);
  rp::sync_directory(dir);
  remove_all(dir);
}

TEST(an_existing_temp_name_fails_and_is_not_removed) {
  const std::string dir = temp_dir();
  { std::ofstream(dir + "/.busy") << "another writer's"; }
  bool threw = false;
  try {
    write(dir, "target", ".busy", "mine");
  } catch (const rp::IoError& e) {
    threw = true;
    CHECK_EQ(e.code().value(), EEXIST);
    CHECK_EQ(e.syscall(), std::string("open"));
    CHECK_EQ(e.path(), dir + "/.busy");
  }
  CHECK(threw);
  CHECK_EQ(read_file(dir + "/.busy"), std::string("another writer's"));
  CHECK_EQ(names(dir).size(), size_t{1});  // no target either
  remove_all(dir);
}

TEST(a_failed_rename_removes_the_temp_file_and_keeps_the_target) {
  const std::string dir = temp_dir();
  ::mkdir((dir + "/target").c_str(), 0755);  // renaming a file over a directory fails (EISDIR)
  { std::ofstream(dir + "/target/inside") << "x"; }
  bool threw = false;
  try {
    write(dir, "target", ".t", "data");
  } catch (const rp::IoError& e) {
    threw = true;
    CHECK_EQ(e.code().value(), EISDIR);
    CHECK_EQ(e.syscall(), std::string("rename"));
  }
  CHECK(threw);
  CHECK_EQ(names(dir).size(), size_t{1});  // the temp file is gone
  CHECK_EQ(read_file(dir + "/target/inside"), std::string("x"));
  ::unlink((dir + "/target/inside").c_str());
  ::rmdir((dir + "/target").c_str());
  ::rmdir(dir.c_str());
}

TEST(a_missing_directory_reports_errno_and_path) {
  bool threw = false;
  try {
    write("/nonexistent-rp-dir", "a", ".t", "x");
  } catch (const rp::IoError& e) {
    threw = true;
    CHECK_EQ(e.code().value(), ENOENT);
    CHECK_EQ(std::string(e.what()).find("open /nonexistent-rp-dir/.t"), size_t{0});
  }
  CHECK(threw);
  threw = false;
  try {
    rp::sync_directory("/nonexistent-rp-dir");
  } catch (const rp::IoError& e) {
    threw = true;
    CHECK_EQ(e.code().value(), ENOENT);
  }
  CHECK(threw);
}

TEST(large_writes_arrive_whole) {
  const std::string dir = temp_dir();
  std::string big(3 << 20, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 7919);
  write(dir, "big", ".t", big);
  CHECK(read_file(dir + "/big") == big);
  remove_all(dir);
}

RP_TEST_MAIN()
