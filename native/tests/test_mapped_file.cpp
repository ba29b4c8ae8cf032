// MappedFile: maps the exact bytes, handles empty files, names the path in
// its errors, and moves ownership cleanly.
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "check.h"
#include "temp_dir.h"
#include "rp/mapped_file.h"

namespace {

void write_file(const std::string& path, const std::vector<uint8_t>& bytes) {
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) return;
  if (!bytes.empty()) std::fwrite(bytes.data(), 1, bytes.size(), f);
  std::fclose(f);
}

}  // namespace

TEST(maps_exact_bytes) {
  const std::string dir = temp_dir();
  REQUIRE(!dir.empty());
  std::vector<uint8_t> bytes(100003);
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<uint8_t>(i * 31 + 7);
  const std::string path = dir + "/data.bin";
  write_file(path, bytes);
  {
    rp::MappedFile f(path);
    CHECK_EQ(f.size(), bytes.size());
    REQUIRE(f.data() != nullptr);
    CHECK(std::memcmp(f.data(), bytes.data(), bytes.size()) == 0);
  }
  std::remove(path.c_str());
  rmdir(dir.c_str());
}

TEST(empty_file_gives_empty_mapping) {
  const std::string dir = temp_dir();
  REQUIRE(!dir.empty());
  const std::string path = dir + "/empty.bin";
  write_file(path, {});
  rp::MappedFile f(path);
  CHECK_EQ(f.size(), size_t{0});
  CHECK(f.data() == nullptr);
  std::remove(path.c_str());
  rmdir(dir.c_str());
}

TEST(errors_name_the_path) {
  const std::string dir = temp_dir();
  REQUIRE(!dir.empty());
  const std::string missing = dir + "/missing.npy";
  bool threw = false;
  try {
    rp::MappedFile f(missing);
  } catch (const std::system_error& e) {
    threw = true;
    CHECK_EQ(e.code().value(), ENOENT);
    CHECK(std::string(e.what()).find(missing) != std::string::npos);
  }
  CHECK(threw);

  threw = false;
  try {
    rp::MappedFile f(dir);
  } catch (const std::system_error& e) {
    threw = true;
    CHECK_EQ(e.code().value(), EISDIR);
    CHECK(std::string(e.what()).find(dir) != std::string::npos);
  }
  CHECK(threw);

  // A FIFO: refused at once (opening it must not wait for a writer).
  const std::string fifo = dir + "/fifo.npy";
  REQUIRE(mkfifo(fifo.c_str(), 0600) == 0);
  threw = false;
  try {
    rp::MappedFile f(fifo);
  } catch (const std::system_error& e) {
    threw = true;
    CHECK_EQ(e.code().value(), EINVAL);
    CHECK(std::string(e.what()).find("not a regular file") != std::string::npos);
  }
  CHECK(threw);
  unlink(fifo.c_str());
  rmdir(dir.c_str());
}

TEST(move_semantics) {
  const std::string dir = temp_dir();
  REQUIRE(!dir.empty());
  const std::string path = dir + "/m.bin";
  write_file(path, std::vector<uint8_t>(5000, 0xAB));
  rp::MappedFile a(path);
  const uint8_t* p = a.data();
  rp::MappedFile b(std::move(a));
  CHECK(a.data() == nullptr);
  CHECK_EQ(a.size(), size_t{0});
  CHECK(b.data() == p);
  rp::MappedFile c(path);
  c = std::move(b);  // unmaps c's own mapping first
  CHECK(c.data() == p);
  CHECK_EQ(c.size(), size_t{5000});
  CHECK_EQ(c.data()[4999], uint8_t{0xAB});
  std::remove(path.c_str());
  rmdir(dir.c_str());
}

TEST(private_views_are_copy_on_write) {
  const std::string dir = temp_dir();
  REQUIRE(!dir.empty());
  const std::string path = dir + "/cow.bin";
  std::vector<uint8_t> bytes(3 * 4096 + 123);
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<uint8_t>(i % 251);
  write_file(path, bytes);
  rp::MappedFile f(path);
  // An offset that is not page-aligned, spanning pages.
  rp::PrivateMapping v = f.map_private(4000, 5000);
  CHECK(std::memcmp(v.data, bytes.data() + 4000, 5000) == 0);
  v.data[0] = 0xFF;  // writable, and private
  v.data[4999] = 0xEE;
  CHECK_EQ(f.data()[4000], bytes[4000]);
  CHECK_EQ(f.data()[8999], bytes[8999]);
  rp::PrivateMapping::unmap(v);
  rp::MappedFile again(path);
  CHECK(std::memcmp(again.data(), bytes.data(), bytes.size()) == 0);  // the file is unchanged
  CHECK_THROWS(std::out_of_range, f.map_private(0, 0));
  CHECK_THROWS(std::out_of_range, f.map_private(bytes.size() - 10, 11));
  CHECK_THROWS(std::out_of_range, f.map_private(bytes.size() + 1, 1));
  std::remove(path.c_str());
  rmdir(dir.c_str());
}

RP_TEST_MAIN()
