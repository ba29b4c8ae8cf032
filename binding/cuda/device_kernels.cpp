// The device jobs: the permutation and the row gathers (fixed and ragged).
// Arguments are checked here, on the host, before any launch: a kernel never
// sees an index past its source or a row past a buffer.
#include <cuda_runtime_api.h>

#include <string>
#include <vector>

#include "../key.h"
#include "cuda_errors.h"
#include "device_buffer.h"
#include "modules.h"
#include "rp/gather_kernel.h"
#include "rp/permutation.h"
#include "rp/ragged.h"
#include "../../native/src/cuda/kernels.h"

namespace rpb {
namespace cuda {
namespace {

// Device memory for the indices and plans a call uploads, kept per thread and
// grown as needed (a cudaMalloc per batch would cost more than the copy).
class Scratch {
 public:
  ~Scratch() {
    if (ptr_ != nullptr) cudaFree(ptr_);
  }
  uint8_t* Get(Napi::Env env, size_t bytes) {
    if (bytes > bytes_) {
      if (ptr_ != nullptr) cudaFree(ptr_);
      ptr_ = nullptr;
      bytes_ = 0;
      Check(env, cudaMalloc(&ptr_, bytes), "cudaMalloc of scratch memory");
      bytes_ = bytes;
    }
    return static_cast<uint8_t*>(ptr_);
  }

 private:
  void* ptr_ = nullptr;
  size_t bytes_ = 0;
};

thread_local Scratch scratch;

size_t Align(size_t n) { return (n + 255) & ~size_t{255}; }

// permutation(key, n, out?) -> a DeviceBuffer of n uint32 (out, when given:
// the bench reuses one): the order rp::Permutation gives.
Napi::Value Permutation(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RequireCuda(env);
  const rp::Key key = KeyArg(info, 0, "key");
  const uint64_t n = IntegerArg(info, 1, "n", 1, rp::Permutation::kMaxSize);
  if (n > (uint64_t{1} << 31)) ThrowRange(env, "n is too large to materialise; use permutationIndex");
  const rp::Permutation perm(key, n);
  rp::PermutationKernelArgs args{};
  args.n = n;
  args.bits = perm.bits();
  for (int r = 0; r < rp::Permutation::kRounds; ++r) args.round_keys[r] = perm.round_keys()[r];
  Napi::Object out;
  if (info[2].IsUndefined()) {
    out = DeviceBuffer::New(env, n * sizeof(uint32_t));
  } else {
    DeviceBuffer& given = DeviceBuffer::Arg(env, info[2], "out");
    if (given.bytes() != n * sizeof(uint32_t)) ThrowRange(env, "out must hold n uint32 values");
    out = info[2].As<Napi::Object>();
  }
  DeviceBuffer& buf = *DeviceBuffer::Unwrap(out);
  Check(env, static_cast<cudaError_t>(rp::cuda::launch_permutation(args, reinterpret_cast<uint32_t*>(buf.data()), nullptr)),
        "the permutation kernel launch");
  buf.set_index_bound(n);
  return out;
}

// Indices on the device for a gather from `rows` rows, from argument i: a
// host Uint32Array (each checked, then uploaded to scratch at `at`) or a
// DeviceBuffer whose index bound is known (a device permutation, or
// uploadIndices). `count` is set to the number of indices.
const uint32_t* DeviceIndices(const Napi::CallbackInfo& info, size_t i, uint64_t rows, uint8_t* at,
                              uint64_t& count) {
  Napi::Env env = info.Env();
  if (info[i].IsTypedArray()) {
    Napi::Uint32Array host = Uint32ArrayArg(info, i, "indices");
    count = host.ElementLength();
    const uint32_t* idx = host.Data();
    for (uint64_t j = 0; j < count; ++j) {
      if (idx[j] >= rows) {
        ThrowRange(env, "indices[" + std::to_string(j) + "] = " + std::to_string(idx[j]) +
                            " is out of range for a source of " + std::to_string(rows) + " rows");
      }
    }
    if (count > 0) {
      Check(env, cudaMemcpy(at, idx, count * sizeof(uint32_t), cudaMemcpyHostToDevice), "cudaMemcpy of the indices");
    }
    return reinterpret_cast<const uint32_t*>(at);
  }
  DeviceBuffer& dev = DeviceBuffer::Arg(env, info[i], "indices");
  if (dev.index_bound() == 0) {
    ThrowType(env, "indices on the device must come from random.permutation or cuda.uploadIndices");
  }
  if (dev.index_bound() > rows) {
    ThrowRange(env, "indices may be up to " + std::to_string(dev.index_bound() - 1) +
                        ", out of range for a source of " + std::to_string(rows) + " rows");
  }
  count = dev.bytes() / sizeof(uint32_t);
  return reinterpret_cast<const uint32_t*>(dev.data());
}

// Bytes the host indices of argument i need in scratch (0 for device indices).
size_t HostIndexBytes(const Napi::CallbackInfo& info, size_t i) {
  return info[i].IsTypedArray() ? Align(info[i].As<Napi::TypedArray>().ByteLength()) : 0;
}

// uploadIndices(indices, rows) -> a DeviceBuffer of the indices, each checked < rows.
Napi::Value UploadIndices(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RequireCuda(env);
  Napi::Uint32Array host = Uint32ArrayArg(info, 0, "indices");
  const uint64_t rows = IntegerArg(info, 1, "rows", 1, uint64_t{1} << 32);
  Napi::Object out = DeviceBuffer::New(env, host.ByteLength());
  DeviceBuffer& buf = *DeviceBuffer::Unwrap(out);
  uint64_t count = 0;
  DeviceIndices(info, 0, rows, buf.data(), count);
  buf.set_index_bound(rows);
  return out;
}

// gatherFixed(src, srcRows, rowBytes, indices, dst, dstOffset): row j of
// dst (from byte dstOffset) = row indices[j] of src.
Napi::Value GatherFixed(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RequireCuda(env);
  DeviceBuffer& src = DeviceBuffer::Arg(env, info[0], "src");
  const uint64_t rows = IntegerArg(info, 1, "srcRows", 0, uint64_t{1} << 32);
  const uint64_t row_bytes = IntegerArg(info, 2, "rowBytes", 1, uint64_t{1} << 40);
  if (rows * row_bytes > src.bytes()) {
    ThrowRange(env, "src holds " + std::to_string(src.bytes()) + " bytes, less than " + std::to_string(rows) +
                        " rows of " + std::to_string(row_bytes));
  }
  DeviceBuffer& dst = DeviceBuffer::Arg(env, info[4], "dst");
  const uint64_t dst_offset = IntegerArg(info, 5, "dstOffset", 0, dst.bytes());
  uint64_t count = 0;
  const uint32_t* idx = DeviceIndices(info, 3, rows, scratch.Get(env, HostIndexBytes(info, 3) + 256), count);
  if (count * row_bytes > dst.bytes() - dst_offset) {
    ThrowRange(env, "dst has " + std::to_string(dst.bytes() - dst_offset) + " bytes from dstOffset, the batch needs " +
                        std::to_string(count * row_bytes));
  }
  rp::FixedGatherArgs args{};
  args.src = src.data();
  args.dst = dst.data() + dst_offset;
  args.idx = idx;
  args.rows = count;
  args.row_bytes = row_bytes;
  args.unit = rp::gather_unit(row_bytes, reinterpret_cast<uintptr_t>(args.src), reinterpret_cast<uintptr_t>(args.dst));
  args.units_per_row = row_bytes / args.unit;
  Check(env, static_cast<cudaError_t>(rp::cuda::launch_fixed_gather(args, nullptr)), "the gather kernel launch");
  return env.Undefined();
}

// A ragged column's offsets argument: an Int32Array or BigInt64Array.
const uint8_t* OffsetsArg(const Napi::CallbackInfo& info, size_t i, const char* name, bool& offsets64, uint64_t& length) {
  Napi::TypedArray ta = TypedArrayArg(info, i, name);
  if (ta.TypedArrayType() != napi_int32_array && ta.TypedArrayType() != napi_bigint64_array) {
    ThrowType(info.Env(), std::string(name) + " must be an Int32Array or a BigInt64Array");
  }
  offsets64 = ta.TypedArrayType() == napi_bigint64_array;
  length = ta.ElementLength();
  return Bytes(ta);
}

// gatherRagged(values, valueCount, elementBytes, starts, ends | undefined,
// rows, indices, outOffsets) -> a new DeviceBuffer of the batch's values.
// Plans on the host (rp::plan_ragged: bounds checked, outOffsets = the
// batch's offsets from 0, indices.length + 1 entries), then copies on the device.
Napi::Value GatherRagged(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RequireCuda(env);
  DeviceBuffer& values = DeviceBuffer::Arg(env, info[0], "values");
  rp::RaggedColumn col;
  col.value_count = IntegerArg(info, 1, "valueCount", 0, uint64_t{1} << 53);
  col.element_bytes = static_cast<size_t>(IntegerArg(info, 2, "elementBytes", 1, 16));
  if (col.value_count * col.element_bytes > values.bytes()) {
    ThrowRange(env, "values holds " + std::to_string(values.bytes()) + " bytes, less than valueCount × elementBytes");
  }
  col.values = values.data();  // plan_ragged only adds to it: the plan holds device addresses
  uint64_t starts_length = 0;
  col.starts = OffsetsArg(info, 3, "starts", col.offsets64, starts_length);
  col.rows = IntegerArg(info, 5, "rows", 0, uint64_t{1} << 32);
  if (!info[4].IsUndefined()) {
    bool ends64 = false;
    uint64_t ends_length = 0;
    col.ends = OffsetsArg(info, 4, "ends", ends64, ends_length);
    if (ends64 != col.offsets64 || starts_length < col.rows || ends_length < col.rows) {
      ThrowRange(env, "starts and ends must be of one type with at least rows entries each");
    }
  } else if (starts_length < col.rows + 1) {
    ThrowRange(env, "offsets must have rows + 1 entries");
  }
  Napi::Uint32Array indices = Uint32ArrayArg(info, 6, "indices");
  Napi::Int32Array out_offsets = TypedArrayArgOf<Napi::Int32Array>(info, 7, "outOffsets", napi_int32_array, "Int32Array");
  const size_t count = indices.ElementLength();
  if (out_offsets.ElementLength() != count + 1) ThrowRange(env, "outOffsets must have indices.length + 1 entries");

  std::vector<const uint8_t*> src(count);
  const uint64_t total = rp::plan_ragged(col, indices.Data(), count, out_offsets.Data(), src.data());
  Napi::Object out = DeviceBuffer::New(env, total * col.element_bytes);
  DeviceBuffer& dst = *DeviceBuffer::Unwrap(out);
  if (total == 0) return out;
  std::vector<uint64_t> src_offsets(count);
  for (size_t j = 0; j < count; ++j) src_offsets[j] = static_cast<uint64_t>(src[j] - values.data());
  const size_t offsets_bytes = Align(count * sizeof(uint64_t));
  uint8_t* at = scratch.Get(env, offsets_bytes + Align((count + 1) * sizeof(int32_t)));
  Check(env, cudaMemcpy(at, src_offsets.data(), count * sizeof(uint64_t), cudaMemcpyHostToDevice), "cudaMemcpy of the plan");
  Check(env, cudaMemcpy(at + offsets_bytes, out_offsets.Data(), (count + 1) * sizeof(int32_t), cudaMemcpyHostToDevice),
        "cudaMemcpy of the plan");
  rp::RaggedGatherArgs args{};
  args.src = values.data();
  args.dst = dst.data();
  args.src_offsets = reinterpret_cast<const uint64_t*>(at);
  args.dst_offsets = reinterpret_cast<const int32_t*>(at + offsets_bytes);
  args.rows = count;
  args.element_bytes = static_cast<uint32_t>(col.element_bytes);
  Check(env, static_cast<cudaError_t>(rp::cuda::launch_ragged_gather(args, nullptr)), "the ragged gather kernel launch");
  return out;
}

// synchronize(): waits for every launch and copy so far; a kernel's fault surfaces here.
Napi::Value Synchronize(const Napi::CallbackInfo& info) {
  RequireCuda(info.Env());
  Check(info.Env(), cudaDeviceSynchronize(), "cudaDeviceSynchronize");
  return info.Env().Undefined();
}

}  // namespace

void InitDeviceKernels(Napi::Env env, Napi::Object exports) {
  exports.Set("permutation", Napi::Function::New(env, Coded<Permutation>));
  exports.Set("uploadIndices", Napi::Function::New(env, Coded<UploadIndices>));
  exports.Set("gatherFixed", Napi::Function::New(env, Coded<GatherFixed>));
  exports.Set("gatherRagged", Napi::Function::New(env, Coded<GatherRagged>));
  exports.Set("synchronize", Napi::Function::New(env, Coded<Synchronize>));
}

}  // namespace cuda
}  // namespace rpb
