// RP_HOST_DEVICE marks the functions one definition serves on the CPU and, when
// nvcc compiles the header, in a CUDA kernel too: the host tests run the very
// code the GPU runs (native/tests/test_grid_runner.cpp).
#pragma once

#if defined(__CUDACC__)
#define RP_HOST_DEVICE __host__ __device__
#else
#define RP_HOST_DEVICE
#endif
