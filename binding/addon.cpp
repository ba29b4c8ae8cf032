// Module entry point: gathers each concept's functions into one exports object.
#include "backing_store.h"
#include "modules.h"

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  rpb::InitBackingStore(env);
  rpb::InitRandom(env, exports);
  rpb::InitPermutation(env, exports);
  rpb::InitGather(env, exports);
  rpb::InitCrc32c(env, exports);
  rpb::InitFileLock(env, exports);
  rpb::InitMappedFile(env, exports);
  rpb::InitPrefetchQueue(env, exports);
  rpb::InitDurableWrite(env, exports);
  rpb::InitHugePages(env, exports);
  rpb::InitLineIndex(env, exports);
  rpb::InitRaggedColumn(env, exports);
  rpb::InitResultMemory(env, exports);
  rpb::InitMix(env, exports);
  rpb::InitPack(env, exports);
  return exports;
}

NODE_API_MODULE(resumable_pipeline, Init)
