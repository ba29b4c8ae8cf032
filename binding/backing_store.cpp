// Resizable ArrayBuffers (and growable SharedArrayBuffers) are told apart by
// the getters ArrayBuffer.prototype.resizable and SharedArrayBuffer.prototype.growable,
// called on the real buffer. Node-API has no direct query for it.
#include "backing_store.h"

namespace rpb {
namespace {

struct Getters {
  Napi::FunctionReference resizable;  // ArrayBuffer.prototype.resizable's getter
  Napi::FunctionReference growable;   // SharedArrayBuffer.prototype.growable's getter
  Napi::FunctionReference untransferable;  // worker_threads.markAsUntransferable
};

// worker_threads.markAsUntransferable, through process.getBuiltinModule
// (Node >= 20.16); empty where that is missing.
Napi::FunctionReference MarkFunction(Napi::Env env) {
  Napi::Value process = env.Global().Get("process");
  if (!process.IsObject()) return Napi::FunctionReference();
  Napi::Value get = process.As<Napi::Object>().Get("getBuiltinModule");
  if (!get.IsFunction()) return Napi::FunctionReference();
  Napi::Value wt = get.As<Napi::Function>().Call(process, {Napi::String::New(env, "node:worker_threads")});
  if (!wt.IsObject()) return Napi::FunctionReference();
  Napi::Value mark = wt.As<Napi::Object>().Get("markAsUntransferable");
  if (!mark.IsFunction()) return Napi::FunctionReference();
  return Napi::Persistent(mark.As<Napi::Function>());
}

Napi::FunctionReference GetterOf(Napi::Env env, const char* ctor, const char* property) {
  Napi::Object global = env.Global();
  Napi::Value c = global.Get(ctor);
  if (!c.IsFunction()) return Napi::FunctionReference();
  Napi::Value proto = c.As<Napi::Object>().Get("prototype");
  Napi::Function describe =
      global.Get("Object").As<Napi::Object>().Get("getOwnPropertyDescriptor").As<Napi::Function>();
  Napi::Value desc = describe.Call({proto, Napi::String::New(env, property)});
  if (!desc.IsObject()) return Napi::FunctionReference();  // an engine without resizable buffers
  Napi::Value get = desc.As<Napi::Object>().Get("get");
  if (!get.IsFunction()) return Napi::FunctionReference();
  return Napi::Persistent(get.As<Napi::Function>());
}

}  // namespace

void InitBackingStore(Napi::Env env) {
  auto* getters = new Getters{GetterOf(env, "ArrayBuffer", "resizable"),
                              GetterOf(env, "SharedArrayBuffer", "growable"), MarkFunction(env)};
  env.SetInstanceData<Getters>(getters);
}

bool IsResizable(Napi::Env env, napi_value buffer) {
  Getters* g = env.GetInstanceData<Getters>();
  bool is_arraybuffer = false;
  NAPI_THROW_IF_FAILED(env, napi_is_arraybuffer(env, buffer, &is_arraybuffer), false);
  const Napi::FunctionReference& getter = is_arraybuffer ? g->resizable : g->growable;
  if (getter.IsEmpty()) return false;
  return getter.Call(Napi::Value(env, buffer), {}).ToBoolean().Value();
}

void MarkUntransferable(Napi::Env env, napi_value buffer) {
  Getters* g = env.GetInstanceData<Getters>();
  bool is_arraybuffer = false;
  NAPI_THROW_IF_FAILED_VOID(env, napi_is_arraybuffer(env, buffer, &is_arraybuffer));
  if (!is_arraybuffer || g->untransferable.IsEmpty()) return;
  g->untransferable.Call({Napi::Value(env, buffer)});
}

}  // namespace rpb
