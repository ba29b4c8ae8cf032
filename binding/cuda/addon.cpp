// The CUDA addon's entry point (resumable_pipeline_cuda.node): a module of its
// own, loaded only when a program asks for CUDA (src/cuda/cuda-addon.ts), so
// the main addon never needs CUDA's libraries. CUDA's runtime is linked in
// statically and finds the driver (libcuda) at run time: without one, the
// addon still loads and status() says why CUDA cannot run.
#include "device_buffer.h"
#include "modules.h"

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  rpb::cuda::DeviceBuffer::Init(env, exports);
  rpb::cuda::InitDevices(env, exports);
  rpb::cuda::InitDeviceKernels(env, exports);
  rpb::cuda::InitPinned(env, exports);
  return exports;
}

NODE_API_MODULE(resumable_pipeline_cuda, Init)
