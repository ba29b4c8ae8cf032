// A fresh directory under $TMPDIR (or /tmp) for a test's files; throws if it cannot be made.
#pragma once
#include <cerrno>
#include <cstdlib>
#include <string>
#include <system_error>

#include <unistd.h>

inline std::string temp_dir() {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base && *base ? base : "/tmp") + "/rp-native-test-XXXXXX";
  if (::mkdtemp(&tmpl[0]) == nullptr) throw std::system_error(errno, std::generic_category(), "mkdtemp");
  return tmpl;
}
