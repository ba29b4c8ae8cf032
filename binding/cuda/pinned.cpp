// pinnedBuffer(bytes): page-locked host memory (cudaHostAlloc) as an
// ArrayBuffer, so host-to-device copies from it run at the bus's rate and
// need no staging copy. Freed with the buffer (cudaFreeHost), counted as
// external memory meanwhile.
#include <cuda_runtime_api.h>

#include <string>

#include "cuda_errors.h"
#include "modules.h"

namespace rpb {
namespace cuda {
namespace {

void FreePinned(Napi::Env env, void* data, size_t* bytes) {
  cudaFreeHost(data);
  cudaGetLastError();
  int64_t ignored = 0;
  napi_adjust_external_memory(env, -static_cast<int64_t>(*bytes), &ignored);
  delete bytes;
}

Napi::Value PinnedBuffer(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RequireCuda(env);
  const size_t bytes = static_cast<size_t>(IntegerArg(info, 0, "bytes", 1, uint64_t{1} << 32));
  void* data = nullptr;
  Check(env, cudaHostAlloc(&data, bytes, cudaHostAllocPortable), ("cudaHostAlloc of " + std::to_string(bytes) + " bytes").c_str());
  int64_t ignored = 0;
  napi_adjust_external_memory(env, static_cast<int64_t>(bytes), &ignored);
  return Napi::ArrayBuffer::New(env, data, bytes, FreePinned, new size_t(bytes));
}

}  // namespace

void InitPinned(Napi::Env env, Napi::Object exports) {
  exports.Set("pinnedBuffer", Napi::Function::New(env, Coded<PinnedBuffer>));
}

}  // namespace cuda
}  // namespace rpb
