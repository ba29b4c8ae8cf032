# The CUDA addon, included by CMakeLists.txt with RP_CUDA_MODE set to AUTO, a
# true value (required) or a false one (skipped).
#
# Targets: sm_75, sm_80, sm_86, sm_89, sm_90 as machine code, plus compute_90
# PTX that newer GPUs' drivers compile on load. cudart is linked statically:
# the addon needs only the driver (libcuda, found at run time), and without
# one it still loads and says so (cuda.available() === false, "no driver").
set(RP_CUDA_BUILT OFF)
string(CONCAT RP_CUDA_HINT
  "To build it, put nvcc (CUDA >= 11.8) on PATH or set CUDACXX to it, then run "
  "\"RP_CUDA=1 npm rebuild resumable-pipeline\". Without a system toolkit, the pip wheels "
  "nvidia-cuda-nvcc, nvidia-cuda-runtime, nvidia-cuda-cccl, nvidia-cuda-crt and nvidia-nvvm hold the same "
  "toolchain (then CUDACXX=<site-packages>/nvidia/cuda_nvcc/bin/nvcc).")

if(RP_CUDA_MODE STREQUAL "AUTO")
  set(RP_CUDA_REQUIRED OFF)
elseif(RP_CUDA_MODE)
  set(RP_CUDA_REQUIRED ON)
else()
  message(STATUS "CUDA addon: off (RP_CUDA=${RP_CUDA_MODE})")
  return()
endif()

if(CMAKE_CROSSCOMPILING)
  if(RP_CUDA_REQUIRED)
    message(FATAL_ERROR "CUDA addon: RP_CUDA=${RP_CUDA_MODE} asks for it, but this is a cross build")
  endif()
  message(STATUS "CUDA addon: off (cross build)")
  return()
endif()

include(CheckLanguage)
if(NOT CMAKE_CUDA_COMPILER)
  # nvcc on PATH may be a wrapper script; CMake then needs the toolkit's own
  # nvcc, which `nvcc --dryrun` names through TOP=.
  find_program(RP_NVCC nvcc)
  if(RP_NVCC)
    file(WRITE ${CMAKE_CURRENT_BINARY_DIR}/rp_probe.cu "")
    execute_process(COMMAND ${RP_NVCC} --dryrun ${CMAKE_CURRENT_BINARY_DIR}/rp_probe.cu
      ERROR_VARIABLE RP_NVCC_DRYRUN OUTPUT_VARIABLE RP_NVCC_DRYRUN_OUT RESULT_VARIABLE RP_NVCC_RESULT)
    if(RP_NVCC_DRYRUN MATCHES "TOP=([^\r\n]*)")
      get_filename_component(RP_CUDA_TOP "${CMAKE_MATCH_1}" REALPATH)
      if(EXISTS "${RP_CUDA_TOP}/bin/nvcc" AND NOT DEFINED ENV{CUDACXX})
        set(ENV{CUDACXX} "${RP_CUDA_TOP}/bin/nvcc")
      endif()
    endif()
  endif()
endif()
check_language(CUDA)
if(NOT CMAKE_CUDA_COMPILER)
  if(RP_CUDA_REQUIRED)
    message(FATAL_ERROR "CUDA addon: RP_CUDA=${RP_CUDA_MODE} asks for it, but no CUDA compiler was found. ${RP_CUDA_HINT}")
  endif()
  message(STATUS "CUDA addon: not built, no CUDA compiler found (the CPU addon is complete without it). ${RP_CUDA_HINT}")
  return()
endif()

if(NOT CMAKE_CUDA_ARCHITECTURES)
  set(CMAKE_CUDA_ARCHITECTURES 75-real 80-real 86-real 89-real 90)
endif()
set(CMAKE_CUDA_STANDARD 17)
set(CMAKE_CUDA_STANDARD_REQUIRED ON)
enable_language(CUDA)
find_package(CUDAToolkit REQUIRED)

file(GLOB RP_CUDA_BINDING_SOURCES CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/binding/cuda/*.cpp)
file(GLOB RP_CUDA_KERNEL_SOURCES CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/native/src/cuda/*.cu)
add_library(resumable_pipeline_cuda SHARED ${RP_CUDA_BINDING_SOURCES} ${RP_CUDA_KERNEL_SOURCES} ${CMAKE_JS_SRC})
set_target_properties(resumable_pipeline_cuda PROPERTIES
  PREFIX "" SUFFIX ".node"
  CUDA_RUNTIME_LIBRARY Static
  CUDA_SEPARABLE_COMPILATION OFF
  # A folder of its own: node-gyp-build takes the first .node file in build/Release.
  LIBRARY_OUTPUT_DIRECTORY ${CMAKE_LIBRARY_OUTPUT_DIRECTORY}/cuda)
target_include_directories(resumable_pipeline_cuda PRIVATE ${CMAKE_JS_INC})
target_link_libraries(resumable_pipeline_cuda PRIVATE rp_core CUDA::cudart_static ${CMAKE_JS_LIB})
target_compile_definitions(resumable_pipeline_cuda PRIVATE
  NAPI_VERSION=${RP_NAPI_VERSION}
  NODE_ADDON_API_CPP_EXCEPTIONS
  NODE_ADDON_API_CPP_EXCEPTIONS_ALL
  NODE_ADDON_API_DISABLE_DEPRECATED
  NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS)
if(CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
  target_compile_options(resumable_pipeline_cuda PRIVATE $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra>)
endif()
if(CMAKE_SYSTEM_NAME STREQUAL "Linux")
  target_link_options(resumable_pipeline_cuda PRIVATE -Wl,-z,nodelete)
endif()
set(RP_CUDA_BUILT ON)
message(STATUS "CUDA addon: building with ${CMAKE_CUDA_COMPILER} (CUDA ${CUDAToolkit_VERSION}) for ${CMAKE_CUDA_ARCHITECTURES}")
