// gather(source, rowLength, indices, out): batch assembly straight from the
// caller's memory (no copy of the source), on the core's thread pool. Called
// once per batch, so arguments are read with one N-API call each (ViewArg).
#include "args.h"
#include "external_memory.h"
#include "modules.h"
#include "result_memory.h"
#include "rp/gather.h"
#include "rp/thread_pool.h"

#include <stdexcept>

namespace rpb {
namespace {

// A new array of source's kind for count rows (pooled memory when large).
napi_value NewResult(Napi::Env env, const View& source, size_t count, uint64_t row_length) {
  if (count != 0 && row_length > kMaxExternalBytes / source.element_size / count) {
    ThrowRange(env, "the result of " + std::to_string(count) + " rows of " +
                        std::to_string(row_length) + " elements is too large; pass out");
  }
  const size_t elements = count * row_length;
  Napi::ArrayBuffer buffer = NewResultBuffer(env, elements * source.element_size);
  napi_value array = nullptr;
  NAPI_THROW_IF_FAILED(env, napi_create_typedarray(env, source.type, elements, buffer, 0, &array),
                       nullptr);
  return array;
}

Napi::Value Gather(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  View source = ViewArg(info, 0, "source");
  uint64_t row_length = IntegerArg(info, 1, "rowLength", 1, uint64_t{1} << 40);
  View indices = ViewArg(info, 2, "indices");
  if (indices.type != napi_uint32_array) ThrowType(env, "indices must be a Uint32Array");
  if (source.length % row_length != 0) {
    ThrowRange(env, "source length " + std::to_string(source.length) +
                        " is not a multiple of rowLength " + std::to_string(row_length));
  }
  size_t count = indices.length;
  napi_value result = info[3];
  if (info[3].IsUndefined()) result = NewResult(env, source, count, row_length);
  View out = ViewOf(env, result, "out");
  if (out.type != source.type) {
    ThrowType(env, "out must be the same kind of TypedArray as source");
  }
  if (out.length / row_length < count) {  // count * row_length may overflow
    ThrowRange(env, "out holds " + std::to_string(out.length) + " elements, needs " +
                        std::to_string(count) + " rows of " + std::to_string(row_length));
  }
  try {
    rp::gather_rows(source.data, source.length / row_length, row_length * source.element_size,
                    reinterpret_cast<const uint32_t*>(indices.data), count, out.data,
                    &rp::ThreadPool::shared());
  } catch (const std::out_of_range& e) {
    ThrowRange(env, e.what());
  } catch (const std::invalid_argument&) {
    ThrowRange(env, "out must not overlap indices (the indices are read while out is written)",
               kBufferOverlap);
  }
  return Napi::Value(env, result);
}

}  // namespace

void InitGather(Napi::Env env, Napi::Object exports) {
  exports.Set("gather", Napi::Function::New(env, Coded<Gather>));
}

}  // namespace rpb
