// Each binding file adds its functions to the addon's exports.
#pragma once
#include <napi.h>

namespace rpb {
void InitRandom(Napi::Env env, Napi::Object exports);
void InitPermutation(Napi::Env env, Napi::Object exports);
void InitGather(Napi::Env env, Napi::Object exports);
void InitCrc32c(Napi::Env env, Napi::Object exports);
void InitFileLock(Napi::Env env, Napi::Object exports);
void InitMappedFile(Napi::Env env, Napi::Object exports);
void InitPrefetchQueue(Napi::Env env, Napi::Object exports);
void InitDurableWrite(Napi::Env env, Napi::Object exports);
void InitHugePages(Napi::Env env, Napi::Object exports);
void InitLineIndex(Napi::Env env, Napi::Object exports);
void InitRaggedColumn(Napi::Env env, Napi::Object exports);
void InitResultMemory(Napi::Env env, Napi::Object exports);
void InitMix(Napi::Env env, Napi::Object exports);
void InitPack(Napi::Env env, Napi::Object exports);
}  // namespace rpb
