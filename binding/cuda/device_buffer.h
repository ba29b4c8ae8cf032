// DeviceBuffer: device memory owned by a JavaScript object (the native half
// of src/cuda/device-array.ts). Freed by free() or, failing that, by the
// object's finalizer; either way once, and Node's external-memory count
// (napi_adjust_external_memory) tracks it, so the GC feels device memory it
// holds alive.
#pragma once
#include <napi.h>

#include <cstddef>
#include <cstdint>

#include "../args.h"

namespace rpb {
namespace cuda {

class DeviceBuffer : public Napi::ObjectWrap<DeviceBuffer> {
 public:
  static void Init(Napi::Env env, Napi::Object exports);
  // A new buffer of `bytes` (0 allowed: no allocation), uninitialised.
  static Napi::Object New(Napi::Env env, size_t bytes);
  // The DeviceBuffer `v` wraps, or a TypeError naming `name`; a freed one is a TypeError too.
  static DeviceBuffer& Arg(Napi::Env env, const Napi::Value& v, const char* name);

  explicit DeviceBuffer(const Napi::CallbackInfo& info);
  ~DeviceBuffer() override;

  uint8_t* data() const { return static_cast<uint8_t*>(ptr_); }
  size_t bytes() const { return bytes_; }
  // When the buffer holds uint32 indices: every one is below index_bound (0: unknown).
  uint64_t index_bound() const { return index_bound_; }
  void set_index_bound(uint64_t bound) { index_bound_ = bound; }

 private:
  RPB_CODED_METHODS(DeviceBuffer)

  void Release();
  Napi::Value Pointer(const Napi::CallbackInfo& info);
  Napi::Value ByteLength(const Napi::CallbackInfo& info);
  Napi::Value Freed(const Napi::CallbackInfo& info);
  Napi::Value Free(const Napi::CallbackInfo& info);
  // toHost(view, srcByteOffset): copies view.byteLength bytes from the buffer.
  Napi::Value ToHost(const Napi::CallbackInfo& info);
  // fromHost(view, dstByteOffset): copies the view's bytes into the buffer.
  Napi::Value FromHost(const Napi::CallbackInfo& info);
  Napi::Value HostCopy(const Napi::CallbackInfo& info, bool to_host);
  // copyFrom(src, srcByteOffset, dstByteOffset, bytes): device to device.
  Napi::Value CopyFrom(const Napi::CallbackInfo& info);

  void* ptr_ = nullptr;
  size_t bytes_ = 0;
  bool freed_ = false;
  uint64_t index_bound_ = 0;
  napi_env env_ = nullptr;
};

}  // namespace cuda
}  // namespace rpb
