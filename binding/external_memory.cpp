// The registry of live external regions, by start address. Process-wide (a
// buffer may be read by a queue of another worker's environment), so guarded
// by a mutex; it is touched only when a buffer is made or freed and when a
// queue is built.
#include "external_memory.h"

#include "args.h"

#include <map>
#include <mutex>
#include <string>

namespace rpb {
namespace {

struct Region {
  uintptr_t end;
  std::weak_ptr<void> owner;
};

std::mutex& RegistryMutex() {
  static auto* mu = new std::mutex;  // never destroyed: finalizers may run at exit
  return *mu;
}
std::map<uintptr_t, Region>& Registry() {
  static auto* regions = new std::map<uintptr_t, Region>;
  return *regions;
}

struct Hint {
  uintptr_t begin;
  MemoryShare owner;
};

void Finalize(napi_env /*env*/, void* /*data*/, void* hint) {
  auto* h = static_cast<Hint*>(hint);
  {
    std::lock_guard<std::mutex> lk(RegistryMutex());
    Registry().erase(h->begin);
  }
  delete h;  // drops the buffer's share; a queue may still hold one
}

}  // namespace

Napi::ArrayBuffer NewExternalArrayBuffer(Napi::Env env, uint8_t* data, size_t bytes,
                                         MemoryShare owner) {
  if (bytes > kMaxExternalBytes) {  // Node refuses these; the owner frees the memory here
    ThrowRange(env, "an external ArrayBuffer holds at most 4 GiB, asked for " +
                        std::to_string(bytes) + " bytes");
  }
  const auto begin = reinterpret_cast<uintptr_t>(data);
  auto* hint = new Hint{begin, owner};
  {
    std::lock_guard<std::mutex> lk(RegistryMutex());
    Registry()[begin] = Region{begin + bytes, owner};
  }
  owner.reset();
  napi_value result = nullptr;
  const napi_status status =
      napi_create_external_arraybuffer(env, data, bytes, Finalize, hint, &result);
  // Refused before anything was made (a runtime without external buffers):
  // ours to free. Any other failure happened inside Node's Buffer code, which
  // has already run the finalizer (calling it again would free twice).
  if (status == napi_no_external_buffers_allowed) Finalize(env, data, hint);
  NAPI_THROW_IF_FAILED(env, status, Napi::ArrayBuffer());
  return Napi::ArrayBuffer(env, result);
}

MemoryShare ShareOf(const uint8_t* p, size_t bytes) {
  const auto begin = reinterpret_cast<uintptr_t>(p);
  std::lock_guard<std::mutex> lk(RegistryMutex());
  auto& regions = Registry();
  auto it = regions.upper_bound(begin);
  if (it == regions.begin()) return nullptr;
  --it;
  if (begin + bytes > it->second.end) return nullptr;
  return it->second.owner.lock();
}

}  // namespace rpb
