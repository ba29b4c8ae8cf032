# CMake toolchain for the linux-arm64 prebuild and native tests, cross-built on
# an x86-64 Debian host with Debian's g++-aarch64-linux-gnu (its glibc and
# headers live in /usr/aarch64-linux-gnu). Used by scripts/prebuild.mjs and
# scripts/test-prebuilds.mjs.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(RP_CROSS_TRIPLE aarch64-linux-gnu)

set(CMAKE_C_COMPILER ${RP_CROSS_TRIPLE}-gcc)
set(CMAKE_CXX_COMPILER ${RP_CROSS_TRIPLE}-g++)
set(CMAKE_STRIP ${RP_CROSS_TRIPLE}-strip)

# Libraries and headers from the target's tree only; programs from the host.
set(CMAKE_FIND_ROOT_PATH /usr/${RP_CROSS_TRIPLE})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# Test binaries run through qemu (ctest and try_run use this).
find_program(RP_QEMU_AARCH64 NAMES qemu-aarch64-static qemu-aarch64)
if(RP_QEMU_AARCH64)
  set(CMAKE_CROSSCOMPILING_EMULATOR ${RP_QEMU_AARCH64} -L /usr/${RP_CROSS_TRIPLE})
endif()
