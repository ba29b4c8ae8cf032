// PrefetchQueue: the DataLoader's native half. It owns an rp::Prefetcher and
// all the memory its thread writes (a BatchMemory), so a thread never touches
// memory JavaScript could detach or free:
//  - large batches: take() hands the filled block over as an external
//    ArrayBuffer (no copy), which returns to the queue's arena when it is
//    collected or recycled, and lends the prefetcher another block;
//  - small blocks (slabBlocks): take() copies the batch into the caller's
//    slab on the calling thread (cheaper than an ArrayBuffer per batch).
// Source columns are pinned (strong references, detach checked on take(),
// shares of our own external memory), and an environment cleanup hook stops
// the thread when the environment is torn down. Per-batch scalars travel
// through a caller-owned Float64Array (`info`) instead of a new object, laid
// out as Info says (exported to JavaScript as `infoLayout`, its one source).
#include <algorithm>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

#include "args.h"
#include "mix.h"
#include "backing_store.h"
#include "batch_memory.h"
#include "external_memory.h"
#include "mapped_file.h"
#include "modules.h"
#include "region.h"
#include "rp/prefetcher.h"
#include "rp/thread_pool.h"

namespace rpb {
namespace {

// The slots of `info`, per batch.
enum Info : size_t {
  kEpoch,          // the batch's epoch
  kRows,           // its records
  kAfterEpoch,     // the cursor once it is returned
  kAfterPosition,
  kKey0,           // its key's two words
  kKey1,
  kBlockOffset,    // its block's byte offset in the returned buffer
  kColumns,        // from here, kPerColumn slots per column (indices are at 0):
};
// A column's slots (at kColumns + kPerColumn * c): byte offsets within the block.
enum ColumnInfo : size_t {
  kDataOffset,  // its rows (fixed, padded) or values (ragged)
  kDataLength,  // their elements
  kAuxOffset,   // ragged: its int32 offsets (rows + 1); padded: its int32 lengths (rows)
  kPerColumn,
};
constexpr uint64_t kMaxSafe = (uint64_t{1} << 53) - 1;
// Blocks up to this size are the queue's own and copied out into the
// caller's slab (a copy this small costs less than an ArrayBuffer per batch).
constexpr size_t kSlabMaxBlock = size_t{4} << 10;

// Field checks for the options object; messages name "options.<field>".
uint64_t IntegerField(Napi::Object obj, const std::string& name, uint64_t min, uint64_t max) {
  Napi::Env env = obj.Env();
  Napi::Value v = obj.Get(name.substr(name.rfind('.') + 1));
  if (!v.IsNumber()) ThrowType(env, name + " must be a number, got " + Describe(v));
  double d = v.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(d) || std::floor(d) != d || d < static_cast<double>(min) ||
      d > static_cast<double>(max)) {
    ThrowRange(env, name + " must be an integer in [" + std::to_string(min) + ", " +
                        std::to_string(max) + "], got " + v.ToString().Utf8Value());
  }
  return static_cast<uint64_t>(d);
}

bool BoolField(Napi::Object obj, const std::string& name) {
  Napi::Value v = obj.Get(name.substr(name.rfind('.') + 1));
  if (!v.IsBoolean()) ThrowType(obj.Env(), name + " must be a boolean, got " + Describe(v));
  return v.As<Napi::Boolean>().Value();
}

class PrefetchQueue;

// The thread-safe function's context. It outlives the queue when the queue
// goes first (owner becomes null), and is freed by the function's finalizer.
struct Channel {
  PrefetchQueue* owner;
};

void CallJs(Napi::Env env, Napi::Function, Channel* channel, void*);
using ReadySignal = Napi::TypedThreadSafeFunction<Channel, void, CallJs>;

class PrefetchQueue : public Napi::ObjectWrap<PrefetchQueue> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "PrefetchQueue",
                       {InstanceAccessor<&PrefetchQueue::BlockBytes>("blockBytes"),
                        InstanceAccessor<&PrefetchQueue::SlabBlocks>("slabBlocks"),
                        InstanceAccessor<&PrefetchQueue::ArenaBlocks>("arenaBlocks"),
                        InstanceAccessor<&PrefetchQueue::PokeBytes>("pokeBytes"),
                        InstanceMethod<&PrefetchQueue::Coded<&PrefetchQueue::Recycle>>("recycle"),
                        InstanceMethod<&PrefetchQueue::Coded<&PrefetchQueue::Take>>("take"),
                        InstanceMethod<&PrefetchQueue::Coded<&PrefetchQueue::Wait>>("wait"),
                        InstanceMethod<&PrefetchQueue::Coded<&PrefetchQueue::Ready>>("ready"),
                        InstanceMethod<&PrefetchQueue::Coded<&PrefetchQueue::Reset>>("reset"),
                        InstanceMethod<&PrefetchQueue::Coded<&PrefetchQueue::Close>>("close")});
  }

  RPB_CODED_METHODS(PrefetchQueue)

  // A function-try-block, so C++ exceptions (e.g. std::bad_alloc) reach JavaScript coded.
  explicit PrefetchQueue(const Napi::CallbackInfo& info) try : Napi::ObjectWrap<PrefetchQueue>(info) {
    Napi::Env env = info.Env();
    if (!info[0].IsObject()) ThrowType(env, "options must be an object, got " + Describe(info[0]));
    Napi::Object o = info[0].As<Napi::Object>();

    const uint64_t n = IntegerField(o, "options.n", 1, rp::BatchSchedule::kMaxRecords);
    const uint64_t batch = IntegerField(o, "options.batchSize", 1, rp::BatchSchedule::kMaxRecords);
    const uint64_t shards = IntegerField(o, "options.shardCount", 1, rp::BatchSchedule::kMaxShards);
    const uint64_t shard = IntegerField(o, "options.shardIndex", 0, shards - 1);
    const bool drop = BoolField(o, "options.dropRemainder");
    uint64_t epochs = rp::BatchSchedule::kForever;
    Napi::Value ne = o.Get("numEpochs");
    if (!(ne.IsNumber() && std::isinf(ne.As<Napi::Number>().DoubleValue()) &&
          ne.As<Napi::Number>().DoubleValue() > 0)) {
      epochs = IntegerField(o, "options.numEpochs", 1, kMaxSafe);
    }
    Napi::Value seed_v = o.Get("seed");
    if (!seed_v.IsBigInt()) ThrowType(env, "options.seed must be a bigint, got " + Describe(seed_v));
    bool lossless = false;
    const uint64_t seed = seed_v.As<Napi::BigInt>().Uint64Value(&lossless);
    if (!lossless) ThrowRange(env, "options.seed must be in [0, 2^64)");
    const bool shuffle = BoolField(o, "options.shuffle");
    const uint64_t depth = IntegerField(o, "options.prefetch", 0, rp::Prefetcher::kMaxDepth);
    const uint64_t epoch = IntegerField(o, "options.epoch", 0, kMaxSafe);
    const uint64_t position = IntegerField(o, "options.position", 0, n - 1);

    std::unique_ptr<rp::BatchSchedule> schedule;
    try {
      schedule = std::make_unique<rp::BatchSchedule>(n, batch, shards, shard, drop, epochs);
    } catch (const std::invalid_argument& e) {
      ThrowRange(env, e.what());
    }

    rp::PrefetchConfig config;
    config.seed = seed;
    config.shuffle = shuffle;
    config.depth = static_cast<size_t>(depth);
    config.pool = &rp::ThreadPool::shared();
    Napi::Value cols_v = o.Get("columns");
    if (!cols_v.IsArray()) ThrowType(env, "options.columns must be an array, got " + Describe(cols_v));
    Napi::Array cols = cols_v.As<Napi::Array>();
    for (uint32_t i = 0; i < cols.Length(); ++i) {
      const std::string name = "options.columns[" + std::to_string(i) + "]";
      Napi::Value cv = cols.Get(i);
      if (!cv.IsObject()) ThrowType(env, name + " must be an object, got " + Describe(cv));
      config.columns.push_back(ReadColumn(cv.As<Napi::Object>(), name, n));
    }
    mixes_.clear();
    const size_t block = rp::Prefetcher::block_bytes(*schedule, config.columns);
    if (block > (uint64_t{1} << 32)) {
      ThrowRange(env, "a batch of " + std::to_string(batch) + " rows takes " +
                          std::to_string(block) + " bytes, over the 4 GiB limit; lower batchSize");
    }
    block_bytes_ = block;
    config.depth = rp::Prefetcher::effective_depth(config.depth, block);
    config.inline_assembly = config.depth == 0 && block <= rp::Prefetcher::kInlineBytes;
    // Slabs take blocks whole, and a ragged batch may outgrow its block
    // (the sizes come from hints, which are not trusted): ragged batches
    // always come as buffers of their own.
    slab_blocks_ = block <= kSlabMaxBlock && !ragged_;
    const size_t slots = rp::Prefetcher::slots_for_depth(config.depth);
    // The pool: blocks past the hidden budget's worth (plus the slots) go
    // back to the OS when returned, rather than wait for reuse.
    const size_t hidden = std::max(kLoaderHiddenBytes, 3 * block);
    memory_ = BatchMemory::ForLoader(env, block, hidden / block + slots + 1, hidden);
    std::vector<uint8_t*> blocks;
    for (size_t s = 0; s < slots; ++s) blocks.push_back(memory_->Acquire(env));
    // Slab mode: one more, as a taken block is copied out, then lent again.
    if (slab_blocks_) spare_ = memory_->Acquire(env);
    columns_ = config.columns.size();
    for (const rp::SourceColumn& c : config.columns) {
      element_bytes_.push_back(c.kind == rp::ColumnKind::kFixed ? 0 : c.ragged.element_bytes);
    }
    prefetcher_ = std::make_unique<rp::Prefetcher>(*schedule, std::move(config), std::move(blocks),
                                                   rp::Cursor{epoch, position});
    // Last, so nothing after it can throw: the hook must not outlive a queue
    // that failed to construct.
    NAPI_THROW_IF_FAILED_VOID(env, napi_add_env_cleanup_hook(env, OnEnvCleanup, this));
    cleanup_hook_ = true;
  } catch (...) {
    ThrowNative(info.Env());
  }

  ~PrefetchQueue() override { Shutdown(); }

  // The environment is being torn down (process exit, worker end) and is about
  // to free buffers, sources included: the thread must stop reading them now,
  // before the queue's own finalizer would run.
  static void OnEnvCleanup(void* arg) {
    auto* self = static_cast<PrefetchQueue*>(arg);
    self->cleanup_hook_ = false;
    if (self->prefetcher_) self->prefetcher_->stop();
  }

  // The thread-safe function is going away (released, or the environment is
  // shutting down): no more calls through it.
  void SignalFinalized() {
    if (prefetcher_) prefetcher_->stop();
    signal_alive_ = false;
  }

  void OnReady(Napi::Env env) {
    if (waiting_) {
      waiting_ = false;
      signal_.Unref(env);
    }
    if (callback_.IsEmpty()) return;
    Napi::Function cb = callback_.Value();
    callback_.Reset();
    cb.Call({});
  }

 private:
  // Keeps a region alive and attached while the thread reads it.
  void Hold(Napi::Env env, const Region& r) {
    if (r.typed_array) {
      MarkUntransferable(env, r.buffer);  // the thread reads it between calls
      buffers_.push_back(Napi::Persistent(r.buffer));
      // Memory of our own external buffers: hold a share, since Node may
      // free the buffer at exit before the cleanup hook stops the thread.
      if (r.share) shares_.push_back(r.share);
    }
    if (r.file) files_.push_back(r.file);
  }

  // One column of options.columns (src/native.ts, NativeColumn), with at least n rows.
  rp::SourceColumn ReadColumn(Napi::Object c, const std::string& name, uint64_t n) {
    Napi::Env env = c.Env();
    const std::string kind = c.Get("kind").IsString() ? c.Get("kind").As<Napi::String>().Utf8Value() : "";
    rp::SourceColumn col;
    Napi::Value name_v = c.Get("name");
    col.name = name_v.IsString() ? name_v.As<Napi::String>().Utf8Value() : name;
    if (kind == "fixed") {
      const uint64_t rb = IntegerField(c, name + ".rowBytes", 1, uint64_t{1} << 40);
      const uint64_t rows = IntegerField(c, name + ".rows", 0, kMaxSafe);
      const Region data = ReadRegion(env, c.Get("data"), name + ".data");
      if (rows > data.bytes / rb) {
        ThrowRange(env, name + ": " + std::to_string(rows) + " rows of " + std::to_string(rb) +
                            " bytes do not fit in its " + std::to_string(data.bytes) + " bytes");
      }
      col.data = data.data;
      col.rows = rows;
      col.row_bytes = static_cast<size_t>(rb);
      Hold(env, data);
    } else if (kind == "ragged") {
      const uint64_t eb = IntegerField(c, name + ".elementBytes", 1, 8);
      const bool wide = BoolField(c, name + ".offsets64");
      const size_t width = wide ? 8 : 4;
      const uint64_t rows = IntegerField(c, name + ".rows", 0, rp::BatchSchedule::kMaxRecords);
      const Region values = ReadRegion(env, c.Get("values"), name + ".values");
      const Region starts = ReadRegion(env, c.Get("starts"), name + ".starts", width);
      const bool arrow = c.Get("ends").IsUndefined();
      Region ends;
      if (!arrow) ends = ReadRegion(env, c.Get("ends"), name + ".ends", width);
      const uint64_t entries = arrow ? rows + 1 : rows;
      if (starts.bytes < entries * width || (!arrow && ends.bytes < entries * width)) {
        ThrowRange(env, name + ": its offsets must hold " + std::to_string(entries) + " entries");
      }
      col.kind = rp::ColumnKind::kRagged;
      col.ragged.values = values.data;
      col.ragged.value_count = values.bytes / eb;
      col.ragged.element_bytes = static_cast<size_t>(eb);
      col.ragged.starts = starts.data;
      col.ragged.ends = arrow ? nullptr : ends.data;
      col.ragged.offsets64 = wide;
      col.ragged.rows = rows;
      // Hints that size the blocks; the gather checks every row itself.
      col.max_row = IntegerField(c, name + ".maxRow", 0, kMaxSafe);
      col.total = IntegerField(c, name + ".totalElements", 0, kMaxSafe);
      const uint64_t pad = IntegerField(c, name + ".padLength", 0, rp::kMaxBatchElements);
      if (pad > 0) {
        col.kind = rp::ColumnKind::kPadded;
        col.pad_length = static_cast<size_t>(pad);
        Napi::Value pb = c.Get("padBytes");
        if (!pb.IsTypedArray() || pb.As<Napi::TypedArray>().ByteLength() != eb) {
          ThrowType(env, name + ".padBytes must be a Uint8Array of " + std::to_string(eb) + " bytes");
        }
        std::memcpy(col.pad, Bytes(pb.As<Napi::TypedArray>()), eb);
      } else {
        ragged_ = true;
      }
      Hold(env, values);
      Hold(env, starts);
      if (!arrow) Hold(env, ends);
    } else if (kind == "chunked") {
      Napi::Value parts_v = c.Get("parts");
      if (!parts_v.IsArray() || parts_v.As<Napi::Array>().Length() == 0) {
        ThrowType(env, name + ".parts must be a non-empty array of columns");
      }
      Napi::Array parts = parts_v.As<Napi::Array>();
      col.chunk_first.push_back(0);
      for (uint32_t k = 0; k < parts.Length(); ++k) {
        const std::string part_name = name + ".parts[" + std::to_string(k) + "]";
        Napi::Value pv = parts.Get(k);
        if (!pv.IsObject() || pv.As<Napi::Object>().Get("kind").StrictEquals(Napi::String::New(env, "chunked"))) {
          ThrowType(env, part_name + " must be a fixed or ragged column");
        }
        rp::SourceColumn part = ReadColumn(pv.As<Napi::Object>(), part_name, 0);
        const bool same = k == 0 || (part.kind == col.kind && part.row_bytes == col.row_bytes &&
                                     part.ragged.element_bytes == col.ragged.element_bytes &&
                                     part.ragged.offsets64 == col.ragged.offsets64 &&
                                     part.pad_length == col.pad_length &&
                                     std::memcmp(part.pad, col.pad, sizeof(col.pad)) == 0);
        if (!same) ThrowType(env, part_name + " differs in kind, row size, element type or padding from parts[0]");
        if (k == 0) {
          col.kind = part.kind;
          col.row_bytes = part.row_bytes;
          col.ragged.element_bytes = part.ragged.element_bytes;
          col.ragged.offsets64 = part.ragged.offsets64;
          col.pad_length = part.pad_length;
          std::memcpy(col.pad, part.pad, sizeof(col.pad));
        }
        col.chunk_first.push_back(col.chunk_first.back() + part.row_count());
        if (col.kind == rp::ColumnKind::kFixed) {
          col.chunk_data.push_back(part.data);
        } else {
          col.chunk_ragged.push_back(part.ragged);
          col.max_row = std::max(col.max_row, part.max_row);
          col.total += part.total;
        }
      }
      if (col.chunk_first.back() > rp::BatchSchedule::kMaxRecords) {
        ThrowRange(env, name + " has more than 2^32 rows");
      }
      if (!c.Get("mix").IsUndefined()) col.mix = MixOf(c.Get("mix"), name + ".mix");
    } else {
      ThrowType(env, name + ".kind must be 'fixed', 'ragged' or 'chunked', got " + Describe(c.Get("kind")));
    }
    const uint64_t rows = col.row_count();
    if (col.mix) {
      const size_t last = col.mix->sources() - 1;
      if (rows != col.mix->base(last) + col.mix->rows(last)) {
        ThrowRange(env, name + " has " + std::to_string(rows) + " rows, not the " +
                            std::to_string(col.mix->base(last) + col.mix->rows(last)) + " of its mix's sources");
      }
    } else if (rows < n) {
      ThrowRange(env, name + " has " + std::to_string(rows) + " rows, fewer than n = " + std::to_string(n));
    }
    return col;
  }

  Napi::Value BlockBytes(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), static_cast<double>(block_bytes_));
  }

  // True: take() copies each batch into the caller's fresh buffer (a slab
  // shared by many batches); false: it hands over a whole buffer per batch.
  Napi::Value SlabBlocks(const Napi::CallbackInfo& info) {
    return Napi::Boolean::New(info.Env(), slab_blocks_);
  }

  // Blocks the queue's arena has made so far (tests read it to see reuse).
  Napi::Value ArenaBlocks(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), memory_ ? static_cast<double>(memory_->total_blocks()) : 0);
  }

  // Bytes of batches handed out between two scavenge pokes (tests read it).
  Napi::Value PokeBytes(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), memory_ ? static_cast<double>(memory_->poke_bytes()) : 0);
  }

  // recycle(buffer): a buffer take() returned goes back at once (detached).
  Napi::Value Recycle(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    CheckOpen(env);
    if (RecycleOwned(env, info[0])) return env.Undefined();
    memory_->Recycle(env, info[0]);
    return env.Undefined();
  }

  void CheckOpen(Napi::Env env) const {
    if (!prefetcher_) ThrowError(env, "the prefetch queue is closed", "RP_LOADER_CLOSED");
  }

  // take(info: Float64Array, slab?: ArrayBuffer, slabOffset?) -> ArrayBuffer | null.
  // Blocks until the next batch is ready; null at the end of the schedule.
  // Large batches come as a buffer of their own (info[7] = 0); small ones
  // (slabBlocks) are copied into slab at slabOffset, and slab is returned.
  Napi::Value Take(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    CheckOpen(env);
    // One N-API call for info: take() is on every batch's path.
    const View info_view = ViewArg(info, 0, "info");
    if (info_view.type != napi_float64_array || info_view.length < kColumns + kPerColumn * columns_) {
      ThrowType(env, "info must be a Float64Array of at least " +
                         std::to_string(kColumns + kPerColumn * columns_) + " elements");
    }
    uint8_t* slab_block = nullptr;
    size_t slab_offset = 0;
    Napi::ArrayBuffer slab;
    if (slab_blocks_) {
      if (!info[1].IsArrayBuffer()) ThrowType(env, "slab must be an ArrayBuffer, got " + Describe(info[1]));
      slab = info[1].As<Napi::ArrayBuffer>();
      if (slab.ByteLength() < block_bytes_) {  // a detached buffer has length 0
        ThrowRange(env, "slab must be an attached ArrayBuffer of at least " +
                            std::to_string(block_bytes_) + " bytes",
                   slab.IsDetached() ? kBufferDetached : kInvalidArgument);
      }
      slab_offset = static_cast<size_t>(
          IntegerArg(info, 2, "slabOffset", 0, slab.ByteLength() - block_bytes_));
      if (slab_offset % rp::BatchLayout::kAlign != 0) {
        ThrowRange(env, "slabOffset must be a multiple of " + std::to_string(rp::BatchLayout::kAlign));
      }
      slab_block = static_cast<uint8_t*>(slab.Data()) + slab_offset;
    }
    for (size_t c = 0; c < buffers_.size(); ++c) {
      if (buffers_[c].Value().IsDetached()) {
        ThrowType(env, "a source column's ArrayBuffer was detached while the loader used it",
                  kBufferDetached);
      }
    }
    uint8_t* replacement = slab_blocks_ ? spare_ : memory_->Acquire(env);
    rp::PreparedBatch b;
    try {
      b = prefetcher_->take(replacement);
    } catch (const std::out_of_range& e) {
      if (!slab_blocks_) memory_->Release(replacement);
      ThrowRange(env, e.what());
    } catch (const rp::SourceDataError& e) {
      if (!slab_blocks_) memory_->Release(replacement);
      ThrowRange(env, e.what(), kSourceInvalid);
    } catch (...) {
      if (!slab_blocks_) memory_->Release(replacement);
      throw;
    }
    if (b.end) {  // the replacement was not taken
      if (!slab_blocks_) memory_->Release(replacement);
      return env.Null();
    }
    double* out = reinterpret_cast<double*>(info_view.data);
    out[kEpoch] = static_cast<double>(b.plan.epoch);
    out[kRows] = static_cast<double>(b.plan.rows);
    out[kAfterEpoch] = static_cast<double>(b.plan.after.epoch);
    out[kAfterPosition] = static_cast<double>(b.plan.after.position);
    out[kKey0] = b.key.k0;
    out[kKey1] = b.key.k1;
    const size_t rows = static_cast<size_t>(b.plan.rows);
    for (size_t c = 0; c < columns_; ++c) {
      const rp::ColumnPlace& p = b.places[c];
      double* slot = out + kColumns + kPerColumn * c;
      slot[kDataOffset] = static_cast<double>(p.data);
      // Fixed columns: the DataLoader knows rows × rowLength; the others vary.
      slot[kDataLength] = element_bytes_[c] == 0 ? 0 : static_cast<double>(p.data_bytes / element_bytes_[c]);
      slot[kAuxOffset] = static_cast<double>(p.aux);
    }
    (void)rows;
    if (slab_blocks_) {
      std::memcpy(slab_block, b.block, b.bytes);
      spare_ = b.block;
      out[kBlockOffset] = static_cast<double>(slab_offset);
      return slab;
    }
    out[kBlockOffset] = 0;
    if (b.owned) {  // a batch that outgrew the block: memory of its own
      memory_->Release(replacement);  // not taken
      Napi::ArrayBuffer ab = NewExternalArrayBuffer(env, b.owned.get(), b.bytes, b.owned);
      TrackOwned(env, ab, b.owned.get());
      return ab;
    }
    // Batches with ragged columns vary in size: only their bytes are handed out.
    return memory_->HandOut(env, b.block, ragged_ ? b.bytes : SIZE_MAX);
  }

  // A batch buffer of its own (see Take), known so recycle() can take it:
  // weak references, pruned as they are collected.
  void TrackOwned(Napi::Env env, Napi::ArrayBuffer ab, uint8_t* data) {
    if (owned_.size() >= 16) {
      for (auto it = owned_.begin(); it != owned_.end();) {
        if (it->second.Value().IsEmpty()) {
          it = owned_.erase(it);
        } else {
          ++it;
        }
      }
    }
    owned_[data] = Napi::Weak(ab);
    (void)env;
  }

  // recycle() of such a buffer: detached at once (its memory goes with it).
  bool RecycleOwned(Napi::Env env, Napi::Value value) {
    if (!value.IsArrayBuffer()) return false;
    Napi::ArrayBuffer ab = value.As<Napi::ArrayBuffer>();
    if (ab.IsDetached()) return false;
    auto it = owned_.find(static_cast<uint8_t*>(ab.Data()));
    if (it == owned_.end() || it->second.Value().IsEmpty() || !it->second.Value().StrictEquals(ab)) return false;
    owned_.erase(it);
    if (napi_detach_arraybuffer(env, ab) != napi_ok) {
      bool pending = false;
      if (napi_is_exception_pending(env, &pending) == napi_ok && pending) {
        napi_value ignored;
        napi_get_and_clear_last_exception(env, &ignored);
      }
    }
    return true;
  }

  // wait(callback) -> true if take() would not block; otherwise calls
  // callback() (once, on this thread) when it would, and returns false.
  Napi::Value Wait(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    CheckOpen(env);
    if (!info[0].IsFunction()) ThrowType(env, "callback must be a function, got " + Describe(info[0]));
    if (!callback_.IsEmpty()) ThrowError(env, "a wait() is already pending", "RP_LOADER_BUSY");
    if (!signal_alive_ && channel_ == nullptr) {
      channel_ = new Channel{this};
      signal_ = ReadySignal::New(env, "resumable-pipeline:prefetch", 0, 1, channel_,
                                 [](Napi::Env, void*, Channel* ch) {
                                   if (ch->owner != nullptr) ch->owner->SignalFinalized();
                                   delete ch;
                                 });
      signal_alive_ = true;
      signal_.Unref(env);
    }
    if (!signal_alive_) ThrowError(env, "the prefetch queue is shutting down", "RP_LOADER_CLOSED");
    ReadySignal signal = signal_;
    if (prefetcher_->ready_or_notify([signal] { signal.NonBlockingCall(); })) {
      return Napi::Boolean::New(env, true);
    }
    callback_ = Napi::Persistent(info[0].As<Napi::Function>());
    if (!waiting_) {
      waiting_ = true;
      signal_.Ref(env);  // keep the process alive while a batch is awaited
    }
    return Napi::Boolean::New(env, false);
  }

  // ready() -> true if take() would not block. Unlike wait(), it leaves no
  // callback behind, so reset() stays allowed (a map window polls with it).
  Napi::Value Ready(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    CheckOpen(env);
    if (!callback_.IsEmpty()) return Napi::Boolean::New(env, false);  // a wait() is pending: not ready
    return Napi::Boolean::New(env, prefetcher_->ready_or_notify(nullptr));
  }

  // reset(epoch, position): continue from that cursor, dropping prefetched batches.
  Napi::Value Reset(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    CheckOpen(env);
    if (!callback_.IsEmpty()) ThrowError(env, "reset() while a wait() is pending", "RP_LOADER_BUSY");
    const uint64_t epoch = IntegerArg(info, 0, "epoch", 0, kMaxSafe);
    const uint64_t position = IntegerArg(info, 1, "position", 0, prefetcher_->schedule().size() - 1);
    prefetcher_->reset(rp::Cursor{epoch, position});
    return env.Undefined();
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    Shutdown(true);
    return info.Env().Undefined();
  }

  // Also runs from the destructor, possibly while the environment shuts down
  // (a worker being terminated), when Node-API calls can fail: nothing here
  // may throw.
  // keep: close() was called (the environment is alive and stays): the
  // batch memory is left to the next loader.
  void Shutdown(bool keep = false) noexcept {
    if (prefetcher_) {
      prefetcher_->stop();  // no producer calls after this
      prefetcher_.reset();
    }
    if (cleanup_hook_) {
      cleanup_hook_ = false;
      napi_remove_env_cleanup_hook(Env(), OnEnvCleanup, this);
    }
    if (signal_alive_) {
      channel_->owner = nullptr;
      signal_alive_ = false;
      if (waiting_) {
        waiting_ = false;
        try {
          signal_.Unref(Env());
        } catch (...) {
        }
      }
      signal_.Release();
    }
    channel_ = nullptr;
    try {
      callback_.Reset();
      buffers_.clear();
    } catch (...) {
    }
    files_.clear();
    shares_.clear();
    try {
      owned_.clear();
    } catch (...) {
    }
    if (memory_) {
      memory_->Close(Env(), keep);  // blocks still handed out keep the arena alive
      memory_.reset();
    }
    spare_ = nullptr;
  }

  std::unique_ptr<rp::Prefetcher> prefetcher_;
  bool cleanup_hook_ = false;
  size_t block_bytes_ = 0;
  bool slab_blocks_ = false;
  std::unique_ptr<BatchMemory> memory_;  // every block the thread writes
  uint8_t* spare_ = nullptr;             // slab mode: the block not lent to a slot
  size_t columns_ = 0;
  std::vector<size_t> element_bytes_;  // by column: 0 for fixed ones
  bool ragged_ = false;                // a column has variable-size batches
  // While reading the columns: each mix spec read, so columns of one source share one rp::Mix.
  std::vector<std::pair<Napi::Object, std::shared_ptr<const rp::Mix>>> mixes_;

  std::shared_ptr<const rp::Mix> MixOf(Napi::Value spec, const std::string& name) {
    for (const auto& [o, mix] : mixes_) {
      if (o.StrictEquals(spec)) return mix;
    }
    auto mix = ReadMix(Env(), spec, name);
    mixes_.push_back({spec.As<Napi::Object>(), mix});
    return mix;
  }
  std::unordered_map<uint8_t*, Napi::Reference<Napi::ArrayBuffer>> owned_;  // see TrackOwned
  std::vector<Napi::Reference<Napi::ArrayBuffer>> buffers_;  // source columns in memory
  std::vector<std::shared_ptr<rp::MappedFile>> files_;       // source columns mapped
  std::vector<MemoryShare> shares_;                          // external memory read by the thread
  Napi::FunctionReference callback_;
  ReadySignal signal_;
  Channel* channel_ = nullptr;
  bool signal_alive_ = false;
  bool waiting_ = false;
};

void CallJs(Napi::Env env, Napi::Function, Channel* channel, void*) {
  if (env == nullptr || channel == nullptr || channel->owner == nullptr) return;
  try {
    channel->owner->OnReady(env);
  } catch (const Napi::Error& e) {
    // The callback threw, or the environment is shutting down (a terminated
    // worker): hand the error back to JavaScript if it can still take it.
    try {
      e.ThrowAsJavaScriptException();
    } catch (...) {
    }
  }
}

}  // namespace

void InitPrefetchQueue(Napi::Env env, Napi::Object exports) {
  exports.Set("PrefetchQueue", PrefetchQueue::Define(env));
  Napi::Object info = Napi::Object::New(env);
  info.Set("epoch", static_cast<double>(kEpoch));
  info.Set("rows", static_cast<double>(kRows));
  info.Set("afterEpoch", static_cast<double>(kAfterEpoch));
  info.Set("afterPosition", static_cast<double>(kAfterPosition));
  info.Set("key0", static_cast<double>(kKey0));
  info.Set("key1", static_cast<double>(kKey1));
  info.Set("blockOffset", static_cast<double>(kBlockOffset));
  info.Set("columns", static_cast<double>(kColumns));
  info.Set("perColumn", static_cast<double>(kPerColumn));
  info.Set("dataOffset", static_cast<double>(kDataOffset));
  info.Set("dataLength", static_cast<double>(kDataLength));
  info.Set("auxOffset", static_cast<double>(kAuxOffset));
  exports.Set("infoLayout", info);
  // The loader's limits, owned by the core; the TypeScript checks ask for them.
  Napi::Object limits = Napi::Object::New(env);
  limits.Set("maxRecords", static_cast<double>(rp::BatchSchedule::kMaxRecords));
  limits.Set("maxBatchSize", static_cast<double>(rp::BatchSchedule::kMaxRecords));
  limits.Set("maxShards", static_cast<double>(rp::BatchSchedule::kMaxShards));
  limits.Set("maxPrefetch", static_cast<double>(rp::Prefetcher::kMaxDepth));
  exports.Set("limits", limits);
}

}  // namespace rpb
