// Linked into the prebuilds only (CMake option RP_PORTABLE, set by
// scripts/prebuild.mjs). The prebuild is linked on Debian 12 (glibc 2.36) but
// must load on glibc 2.28 (RHEL 8). A symbol newer than 2.28 is either bound
// to its oldest version, which every glibc since then still exports, or
// replaced. The linker sends every reference to a listed name (from our
// objects and from the static libstdc++) here: CMakeLists.txt passes
// -Wl,--wrap=<name> for each __wrap_<name> this file defines.
// scripts/test-prebuilds.mjs reads the result with objdump and fails on any
// version above 2.28.
#include <pthread.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>

#include <unistd.h>

#if defined(__x86_64__)
#define RP_GLIBC_BASE "GLIBC_2.2.5"  // the first glibc version of the x86-64 port
#define RP_STAT_VER 1                // _STAT_VER_LINUX, which __fxstat expects
#elif defined(__aarch64__)
#define RP_GLIBC_BASE "GLIBC_2.17"   // the first glibc version of the AArch64 port
#define RP_STAT_VER 0                // _STAT_VER_KERNEL
#else
#error "portable/glibc_floor.cpp knows the base glibc versions of x86_64 and aarch64 only"
#endif

#define RP_HIDDEN __attribute__((visibility("hidden")))

// Forwards __wrap_<name> to <name>@<base version>. glibc 2.34 moved libpthread
// into libc and gave these functions a new default version; the old one is
// the same function (found in libpthread.so.0 on older glibc).
#define RP_PIN(ret, name, params, args)                                     \
  extern "C" ret rp_old_##name params;                                      \
  __asm__(".symver rp_old_" #name "," #name "@" RP_GLIBC_BASE);             \
  extern "C" RP_HIDDEN ret __wrap_##name params { return rp_old_##name args; }

RP_PIN(int, pthread_create, (pthread_t * t, const pthread_attr_t* a, void* (*f)(void*), void* arg), (t, a, f, arg))
RP_PIN(int, pthread_join, (pthread_t t, void** result), (t, result))
RP_PIN(int, pthread_detach, (pthread_t t), (t))
RP_PIN(int, pthread_once, (pthread_once_t * once, void (*f)()), (once, f))
RP_PIN(int, pthread_key_create, (pthread_key_t * key, void (*destroy)(void*)), (key, destroy))
RP_PIN(int, __pthread_key_create, (pthread_key_t * key, void (*destroy)(void*)), (key, destroy))
RP_PIN(int, pthread_key_delete, (pthread_key_t key), (key))
RP_PIN(void*, pthread_getspecific, (pthread_key_t key), (key))
RP_PIN(int, pthread_setspecific, (pthread_key_t key, const void* value), (key, value))

// fstat became a libc symbol in 2.33; before, <sys/stat.h> turned it into
// __fxstat, which glibc still exports under its base version.
extern "C" int rp_old___fxstat(int version, int fd, struct stat* st);
__asm__(".symver rp_old___fxstat,__fxstat@" RP_GLIBC_BASE);
extern "C" RP_HIDDEN int __wrap_fstat(int fd, struct stat* st) { return rp_old___fxstat(RP_STAT_VER, fd, st); }

// libstdc++'s std::random_device (2.36's arc4random) from getentropy (2.25).
// Like arc4random, it never fails: with no kernel entropy there is nothing
// safe to return.
extern "C" RP_HIDDEN std::uint32_t __wrap_arc4random() {
  std::uint32_t value;
  if (getentropy(&value, sizeof value) != 0) std::abort();
  return value;
}

// libstdc++'s headers read glibc 2.32's __libc_single_threaded to skip atomic
// reference counts in single-threaded processes. Ours says "maybe threaded"
// (0), which is always correct: the count stays atomic, as before 2.32.
extern "C" {
RP_HIDDEN char __wrap___libc_single_threaded = 0;
}
