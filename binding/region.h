// A region of memory the core reads in place, as JavaScript describes it:
// { data: TypedArray } or { file: MappedFile, offset, bytes } (src/native.ts,
// NativeRegion). Reading one checks it and collects what keeps it alive while
// a thread reads it: the ArrayBuffer (to pin), a share of our own external
// memory, or the mapping.
#pragma once
#include <napi.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "external_memory.h"
#include "rp/mapped_file.h"

namespace rpb {

struct Region {
  const uint8_t* data = nullptr;
  uint64_t bytes = 0;
  napi_typedarray_type type = napi_uint8_array;  // TypedArray regions only
  bool typed_array = false;
  Napi::ArrayBuffer buffer;                // TypedArray regions: its real buffer
  MemoryShare share;                       // TypedArray regions over our external memory
  std::shared_ptr<rp::MappedFile> file;    // file regions
};

// Reads the region at `value`; errors name it as `name` (RP_INVALID_ARGUMENT,
// RP_BUFFER_DETACHED, RP_BUFFER_RESIZABLE). `align`: its start must be a
// multiple of it (elements the core reads as integers).
Region ReadRegion(Napi::Env env, Napi::Value value, const std::string& name, size_t align = 1);

}  // namespace rpb
