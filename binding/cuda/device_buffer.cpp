#include "device_buffer.h"

#include <cuda_runtime_api.h>

#include <string>

#include "cuda_errors.h"
#include "device_pool.h"

namespace rpb {
namespace cuda {

// The class's constructor, per environment (the main thread and each worker
// load the addon into an environment of their own): the addon's instance data.
static Napi::FunctionReference& Constructor(Napi::Env env) {
  return *env.GetInstanceData<Napi::FunctionReference>();
}

void DeviceBuffer::Init(Napi::Env env, Napi::Object exports) {
  Napi::Function cls = DefineClass(
      env, "DeviceBuffer",
      {
          InstanceAccessor<&DeviceBuffer::Pointer>("pointer"),
          InstanceAccessor<&DeviceBuffer::ByteLength>("byteLength"),
          InstanceAccessor<&DeviceBuffer::Freed>("freed"),
          InstanceMethod<&DeviceBuffer::Coded<&DeviceBuffer::Free>>("free"),
          InstanceMethod<&DeviceBuffer::Coded<&DeviceBuffer::ToHost>>("toHost"),
          InstanceMethod<&DeviceBuffer::Coded<&DeviceBuffer::FromHost>>("fromHost"),
          InstanceMethod<&DeviceBuffer::Coded<&DeviceBuffer::CopyFrom>>("copyFrom"),
      });
  env.SetInstanceData(new Napi::FunctionReference(Napi::Persistent(cls)));  // freed with the environment
  exports.Set("DeviceBuffer", cls);
}

Napi::Object DeviceBuffer::New(Napi::Env env, size_t bytes) {
  return Constructor(env).New({Napi::Number::New(env, static_cast<double>(bytes))});
}

DeviceBuffer& DeviceBuffer::Arg(Napi::Env env, const Napi::Value& v, const char* name) {
  if (!v.IsObject() || !v.As<Napi::Object>().InstanceOf(Constructor(env).Value())) {
    ThrowType(env, std::string(name) + " must be a device buffer, got " + Describe(v));
  }
  DeviceBuffer* b = Unwrap(v.As<Napi::Object>());
  if (b->freed_) ThrowType(env, std::string(name) + " has been freed");
  return *b;
}

DeviceBuffer::DeviceBuffer(const Napi::CallbackInfo& info) : Napi::ObjectWrap<DeviceBuffer>(info) {
  Napi::Env env = info.Env();
  RequireCuda(env);
  bytes_ = static_cast<size_t>(IntegerArg(info, 0, "byteLength", 0, uint64_t{1} << 53));
  env_ = env;
  if (bytes_ > 0) {
    Check(env, static_cast<cudaError_t>(PoolAllocate(&ptr_, bytes_)),
          ("cudaMalloc of " + std::to_string(bytes_) + " bytes").c_str());
    int64_t ignored = 0;
    napi_adjust_external_memory(env, static_cast<int64_t>(bytes_), &ignored);
  }
}

DeviceBuffer::~DeviceBuffer() { Release(); }

void DeviceBuffer::Release() {
  if (freed_) return;
  freed_ = true;
  if (ptr_ != nullptr) {
    // Kept for the next buffer of its size: the work queued on it runs in
    // stream order before any later use of the block.
    PoolRelease(ptr_, bytes_);
    int64_t ignored = 0;
    napi_adjust_external_memory(env_, -static_cast<int64_t>(bytes_), &ignored);
    ptr_ = nullptr;
  }
}

Napi::Value DeviceBuffer::Pointer(const Napi::CallbackInfo& info) {
  return Napi::BigInt::New(info.Env(), static_cast<uint64_t>(reinterpret_cast<uintptr_t>(ptr_)));
}

Napi::Value DeviceBuffer::ByteLength(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(freed_ ? 0 : bytes_));
}

Napi::Value DeviceBuffer::Freed(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), freed_);
}

Napi::Value DeviceBuffer::Free(const Napi::CallbackInfo& info) {
  Release();
  return info.Env().Undefined();
}

namespace {

// [offset, offset + bytes) within a buffer of `size` bytes, or a RangeError.
void CheckSpan(Napi::Env env, uint64_t offset, uint64_t bytes, uint64_t size, const char* what) {
  if (offset > size || bytes > size - offset) {
    ThrowRange(env, std::string(what) + ": bytes [" + std::to_string(offset) + ", " +
                        std::to_string(offset + bytes) + ") are outside the device buffer's " +
                        std::to_string(size));
  }
}

}  // namespace

// toHost(out, offset) / fromHost(data, offset): a view's bytes from or to [offset, offset + its length).
Napi::Value DeviceBuffer::HostCopy(const Napi::CallbackInfo& info, bool to_host) {
  Napi::Env env = info.Env();
  if (freed_) ThrowType(env, "the device array has been freed");
  View view = ViewArg(info, 0, to_host ? "out" : "data");
  const uint64_t offset = IntegerArg(info, 1, "offset", 0, bytes_);
  const uint64_t n = uint64_t{view.length} * view.element_size;
  CheckSpan(env, offset, n, bytes_, to_host ? "toHost" : "fromHost");
  if (n > 0) {
    Check(env,
          to_host ? cudaMemcpy(view.data, data() + offset, n, cudaMemcpyDeviceToHost)
                  : cudaMemcpy(data() + offset, view.data, n, cudaMemcpyHostToDevice),
          to_host ? "cudaMemcpy to the host" : "cudaMemcpy to the device");
  }
  return env.Undefined();
}

Napi::Value DeviceBuffer::ToHost(const Napi::CallbackInfo& info) { return HostCopy(info, true); }

Napi::Value DeviceBuffer::FromHost(const Napi::CallbackInfo& info) { return HostCopy(info, false); }

Napi::Value DeviceBuffer::CopyFrom(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (freed_) ThrowType(env, "the device array has been freed");
  DeviceBuffer& src = Arg(env, info[0], "src");
  const uint64_t src_offset = IntegerArg(info, 1, "srcOffset", 0, src.bytes_);
  const uint64_t dst_offset = IntegerArg(info, 2, "dstOffset", 0, bytes_);
  const uint64_t n = IntegerArg(info, 3, "bytes", 0, uint64_t{1} << 53);
  CheckSpan(env, src_offset, n, src.bytes_, "copyFrom (source)");
  CheckSpan(env, dst_offset, n, bytes_, "copyFrom (destination)");
  if (n > 0) {
    Check(env, cudaMemcpyAsync(data() + dst_offset, src.data() + src_offset, n, cudaMemcpyDeviceToDevice, nullptr),
          "cudaMemcpy device to device");
  }
  return info.Env().Undefined();
}

}  // namespace cuda
}  // namespace rpb
