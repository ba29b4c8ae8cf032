// Minimal test harness: TEST(name) registers a function, CHECK/CHECK_EQ report
// file:line (and both values) and mark the run failed without aborting it, and
// RP_TEST_MAIN runs everything, returning non-zero on any failure.
#pragma once
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <type_traits>
#include <sstream>
#include <string>
#include <vector>

namespace rp_test {

struct Test {
  const char* name;
  void (*fn)();
};

inline std::vector<Test>& registry() {
  static std::vector<Test> tests;
  return tests;
}

inline int& failures() {
  static int n = 0;
  return n;
}

struct Registrar {
  Registrar(const char* name, void (*fn)()) { registry().push_back({name, fn}); }
};

template <typename T>
std::string show(const T& v) {
  std::ostringstream os;
  if constexpr (std::is_integral<T>::value && !std::is_same<T, bool>::value) {
    os << +v << " (0x" << std::hex << +v << ")";  // + prints (u)int8_t as numbers
  } else {
    os << v;
  }
  return os.str();
}
inline std::string show(const std::string& v) { return "\"" + v + "\""; }
inline std::string show(const char* v) { return show(std::string(v)); }

inline void fail(const char* file, int line, const std::string& what) {
  std::fprintf(stderr, "%s:%d: FAILED: %s\n", file, line, what.c_str());
  ++failures();
}

inline int run_all() {
  for (const Test& t : registry()) {
    const int before = failures();
    std::fprintf(stderr, "[ RUN  ] %s\n", t.name);
    try {
      t.fn();
    } catch (const std::exception& e) {
      fail(__FILE__, __LINE__, std::string("uncaught exception: ") + e.what());
    } catch (...) {
      fail(__FILE__, __LINE__, "uncaught non-std exception");
    }
    std::fprintf(stderr, "[ %s ] %s\n", failures() == before ? " OK " : "FAIL",
                 t.name);
  }
  if (failures() != 0) {
    std::fprintf(stderr, "%d check(s) failed\n", failures());
    return 1;
  }
  std::fprintf(stderr, "all %zu test(s) passed\n", registry().size());
  return 0;
}

}  // namespace rp_test

#define RP_TEST_CAT2(a, b) a##b
#define RP_TEST_CAT(a, b) RP_TEST_CAT2(a, b)

#define TEST(name)                                                   \
  static void name();                                                \
  static ::rp_test::Registrar RP_TEST_CAT(rp_reg_, name)(#name, name); \
  static void name()

#define CHECK(cond)                                           \
  do {                                                        \
    if (!(cond)) ::rp_test::fail(__FILE__, __LINE__, #cond);  \
  } while (0)

#define CHECK_EQ(a, b)                                                    \
  do {                                                                    \
    const auto& rp_a_ = (a);                                              \
    const auto& rp_b_ = (b);                                              \
    if (!(rp_a_ == rp_b_)) {                                              \
      ::rp_test::fail(__FILE__, __LINE__,                                 \
                      std::string(#a " == " #b "  (") +                   \
                          ::rp_test::show(rp_a_) + " vs " +               \
                          ::rp_test::show(rp_b_) + ")");                  \
    }                                                                     \
  } while (0)

// CHECK with a message built from the caller's values (any std::string).
#define CHECK_MSG(cond, msg)                                                  \
  do {                                                                    \
    if (!(cond))                                                          \
      ::rp_test::fail(__FILE__, __LINE__, std::string(#cond ": ") + (msg));  \
  } while (0)

// Passes when `expr` throws `exc_type`; reports anything else.
#define CHECK_THROWS(exc_type, expr)                                      \
  do {                                                                    \
    bool rp_thrown_ = false;                                              \
    try {                                                                 \
      (void)(expr);                                                       \
    } catch (const exc_type&) {                                           \
      rp_thrown_ = true;                                                  \
    } catch (...) {                                                       \
      ::rp_test::fail(__FILE__, __LINE__,                                 \
                      #expr " threw something other than " #exc_type);    \
      rp_thrown_ = true;                                                  \
    }                                                                     \
    if (!rp_thrown_)                                                      \
      ::rp_test::fail(__FILE__, __LINE__, #expr " did not throw " #exc_type); \
  } while (0)

// Stops the current test (e.g. after a failure that makes the rest noise).
#define REQUIRE(cond)                                                     \
  do {                                                                    \
    if (!(cond)) {                                                        \
      ::rp_test::fail(__FILE__, __LINE__, "required: " #cond);            \
      return;                                                             \
    }                                                                     \
  } while (0)

#define RP_TEST_MAIN() \
  int main() { return ::rp_test::run_all(); }
