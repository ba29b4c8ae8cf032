// gather(source, rowLength, indices, out): batch assembly straight from the
// caller's memory (no copy of the source), on the core's thread pool. Called
// once per batch, so arguments are read with one N-API call each (ViewArg).
#include "args.h"
#include "modules.h"
#include "rp/gather.h"
#include "rp/thread_pool.h"

#include <stdexcept>

namespace rpb {
namespace {

Napi::Value Gather(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  View source = ViewArg(info, 0, "source");
  uint64_t row_length = IntegerArg(info, 1, "rowLength", 1, uint64_t{1} << 40);
  View indices = ViewArg(info, 2, "indices");
  if (indices.type != napi_uint32_array) ThrowType(env, "indices must be a Uint32Array");
  View out = ViewArg(info, 3, "out");
  if (out.type != source.type) {
    ThrowType(env, "out must be the same kind of TypedArray as source");
  }
  if (source.length % row_length != 0) {
    ThrowRange(env, "source length " + std::to_string(source.length) +
                        " is not a multiple of rowLength " + std::to_string(row_length));
  }
  size_t count = indices.length;
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
  return info[3];
}

}  // namespace

void InitGather(Napi::Env env, Napi::Object exports) {
  exports.Set("gather", Napi::Function::New(env, Coded<Gather>));
}

}  // namespace rpb
