// Batch assembly ahead of the consumer, on a background thread: for each batch
// of a BatchSchedule it computes the records (the epoch's keyed permutation,
// or the identity without shuffle), derives the batch key, and gathers every
// column's rows into a block, so the consumer only has to pick batches up.
//
// Blocks are memory the owner lends to the prefetcher (the Node binding lends
// JavaScript ArrayBuffers, so a finished batch is handed over without a copy).
// There is one slot per block; a slot is free, being filled or ready. take()
// hands a ready slot's block to the consumer and lends the slot the block the
// consumer passes in, in one go.
//
// Waking a thread costs a system call, so the consumer wakes the producer only
// when it has to wait, or once half the slots are free (the producer then
// fills them in one go).
#pragma once
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include <memory>
#include <string>

#include "rp/batch_schedule.h"
#include "rp/chunk_index.h"
#include "rp/mix.h"
#include "rp/permutation.h"
#include "rp/ragged.h"
#include "rp/random.h"

namespace rp {

class ThreadPool;

enum class ColumnKind {
  kFixed,   // rows of row_bytes bytes
  kRagged,  // variable-length rows: a batch gets int32 offsets (rows + 1) and the values
  kPadded,  // variable-length rows padded/truncated to pad_length elements, plus int32 lengths
};

// One column of the source (rows >= n).
struct SourceColumn {
  SourceColumn() = default;
  SourceColumn(const uint8_t* data_, uint64_t rows_, size_t row_bytes_)  // a fixed column
      : data(data_), rows(rows_), row_bytes(row_bytes_) {}
  // Fixed: rows of row_bytes bytes at data.
  const uint8_t* data = nullptr;
  uint64_t rows = 0;
  size_t row_bytes = 0;
  ColumnKind kind = ColumnKind::kFixed;
  // Ragged and padded: the rows (ragged.rows is the row count), and what
  // check_ragged() found, which sizes the blocks (never trusted for bounds).
  RaggedColumn ragged;
  uint64_t max_row = 0;
  uint64_t total = 0;
  // Padded: elements per row, and the pad element's bytes.
  size_t pad_length = 0;
  uint8_t pad[8] = {};
  std::string name;  // in error messages ("column \"text\": ...")
  // A column made of chunks (an Arrow file's record batches), when
  // chunk_first is not empty: chunk k holds rows [chunk_first[k],
  // chunk_first[k + 1]), at chunk_data[k] (fixed) or as chunk_ragged[k]
  // (ragged, padded); data/ragged are then unused, but ragged.element_bytes
  // and offsets64 still describe every chunk.
  std::vector<uint64_t> chunk_first;
  std::vector<const uint8_t*> chunk_data;
  std::vector<RaggedColumn> chunk_ragged;
  // A mixed source's column (rp::Mix), when set: a batch's record i reads
  // row mix->row(i) of this column (the sources' rows one after another), so
  // the mix may hold more records than the column has rows. Columns of one
  // source share one Mix, which maps each batch once.
  std::shared_ptr<const Mix> mix;

  uint64_t row_count() const {
    if (!chunk_first.empty()) return chunk_first.back();
    return kind == ColumnKind::kFixed ? rows : ragged.rows;
  }
};

// The shape of a column in a batch: ColumnKind, and bytes per row (fixed),
// per element (ragged) or per padded row (padded).
struct ColumnShape {
  ColumnShape(ColumnKind kind_, size_t bytes_) : kind(kind_), bytes(bytes_) {}
  ColumnKind kind;
  size_t bytes;
};

// Where one column of a batch lies in its block (byte offsets).
struct ColumnPlace {
  size_t data = 0;        // the rows, or the values
  size_t data_bytes = 0;
  size_t aux = 0;         // ragged: int32 offsets (rows + 1); padded: int32 lengths (rows)
};

// Where the parts of a batch of `rows` records lie in its block: the record
// indices (uint32) at offset 0, then the offsets/lengths of the ragged and
// padded columns, then each column's rows or values; each part starts
// 64-byte aligned. Without ragged or padded columns it is indices, then each
// column's rows, in order.
class BatchLayout {
 public:
  static constexpr size_t kAlign = 64;
  explicit BatchLayout(std::vector<size_t> row_bytes);  // fixed columns
  explicit BatchLayout(std::vector<ColumnShape> columns);
  // Places a batch of `rows` records whose ragged column c holds
  // value_bytes[c] bytes of values (other kinds ignore it; may be null
  // without ragged columns). Returns the bytes of the whole block.
  size_t place(size_t rows, const size_t* value_bytes, ColumnPlace* out) const;
  // Where the rows/values parts start (after the indices and every aux part).
  size_t data_start(size_t rows) const;
  size_t column_offset(size_t rows, size_t column) const;  // a column's data
  size_t bytes(size_t rows) const;  // everything, padding included, ragged values empty
  size_t columns() const { return columns_.size(); }
  bool has_ragged() const;

 private:
  std::vector<ColumnShape> columns_;
};

struct PrefetchConfig {
  uint64_t seed = 0;
  bool shuffle = true;
  std::vector<SourceColumn> columns;
  // Batches prepared ahead of the consumer; 0 assembles each batch only when
  // the consumer asks for it (still on the background thread).
  size_t depth = 2;
  ThreadPool* pool = nullptr;  // splits large gathers; may be null
  // Depth 0 only: no background thread; take() assembles each batch on the
  // calling thread. For small batches, where handing work to a thread and
  // waking the caller again costs more than the copy itself.
  bool inline_assembly = false;
};

struct PreparedBatch {
  bool end = false;  // the schedule is exhausted; nothing else is set
  size_t slot = 0;
  uint8_t* block = nullptr;
  ShardBatch plan;  // which positions of which epoch it holds, and the cursor after it
  Key key;  // batch_key(seed, epoch, first record)
  size_t bytes = 0;  // of the block, that the batch uses
  std::vector<ColumnPlace> places;  // by column
  // Set when the batch did not fit a block (ragged columns only): block is
  // this memory of its own (`bytes` long), freed with the last share; the
  // slot kept its block, so take() did not take the replacement.
  std::shared_ptr<uint8_t> owned;
};

class Prefetcher {
 public:
  // The deepest prefetch a caller may ask for.
  static constexpr size_t kMaxDepth = 1024;

  // How many blocks (slots) a prefetcher of this depth takes.
  static size_t slots_for_depth(size_t depth) { return depth == 0 ? 1 : depth; }

  // Small batches are prepared kMinAheadBytes' worth at a time (depth raised
  // to match, never lowered): the producer then fills many per wake-up and the
  // consumer almost never waits, so no thread hand-off is paid per batch.
  static constexpr size_t kMinAheadBytes = size_t{64} << 10;
  // Large batches are kept at most kMaxAheadBytes ahead (depth lowered to
  // match, never below 1): sixteen 4 GiB batches in flight help nobody.
  static constexpr size_t kMaxAheadBytes = size_t{1} << 30;
  static size_t effective_depth(size_t depth, size_t block_bytes) {
    if (depth == 0 || block_bytes == 0) return depth;
    const size_t want = (kMinAheadBytes + block_bytes - 1) / block_bytes;
    if (depth < want) return want;
    const size_t most = kMaxAheadBytes / block_bytes;
    if (depth > most) return most > 0 ? most : 1;
    return depth;
  }
  // Batches up to this size are assembled inline when the depth is 0.
  static constexpr size_t kInlineBytes = size_t{64} << 10;

  // blocks: slots_for_depth(config.depth) blocks of at least block_bytes()
  // bytes each, which must stay valid until the slot is refilled or the
  // prefetcher is destroyed. Starts producing from `start` at once.
  Prefetcher(BatchSchedule schedule, PrefetchConfig config, std::vector<uint8_t*> blocks,
             Cursor start);
  ~Prefetcher();  // stop()
  Prefetcher(const Prefetcher&) = delete;
  Prefetcher& operator=(const Prefetcher&) = delete;

  static size_t block_bytes(const BatchSchedule& schedule, const BatchLayout& layout) {
    return layout.bytes(static_cast<size_t>(schedule.max_rows()));
  }
  // The block size for these columns: enough for any batch of fixed and
  // padded columns; for ragged ones, the most a batch can hold (max_rows ×
  // the longest row, or every row) where that is at most 1.5 × what an
  // average batch holds plus one longest row, else the latter (a batch over
  // it gets memory of its own). *exact: no batch can exceed it.
  static size_t block_bytes(const BatchSchedule& schedule, const std::vector<SourceColumn>& columns,
                            bool* exact = nullptr);

  const BatchSchedule& schedule() const { return schedule_; }
  const BatchLayout& layout() const { return layout_; }

  // The next batch, in schedule order; blocks until it is ready. Its block is
  // the consumer's from now on, and `replacement` (block_bytes() bytes, valid
  // until it is handed back or the prefetcher is destroyed) takes its place.
  // At the end of the schedule it returns end = true (and keeps doing so),
  // and replacement stays the caller's. Rethrows an error the background
  // thread hit, until reset().
  PreparedBatch take(uint8_t* replacement);

  // True when take() would not block. Otherwise stores on_ready (replacing
  // any stored one), which the background thread calls once, without locks
  // held, when the next batch (or the end, or an error) is ready.
  bool ready_or_notify(std::function<void()> on_ready);

  // Drops every prepared batch and continues from `from`. A batch in the
  // making is discarded when it completes.
  void reset(Cursor from);

  // Ends the background thread (waits for a batch in the making). Idempotent.
  void stop();

 private:
  void run();
  bool can_produce() const;
  void wake_producer();  // with mu_ held
  // Wakes the consumer and calls on_ready (unlocking around it).
  void signal_ready(std::unique_lock<std::mutex>& lk);
  void assemble(const ShardBatch& batch, uint8_t* block, PreparedBatch* out);
  PreparedBatch take_inline(uint8_t* replacement);

  const BatchSchedule schedule_;
  const PrefetchConfig config_;
  const BatchLayout layout_;
  const size_t capacity_;  // bytes of each block lent

  // Per chunked column, where its rows' chunks are (unused for plain ones).
  std::vector<ChunkIndex> chunk_index_;
  // Per ragged/padded column, its chunks (one for a plain column).
  std::vector<RaggedChunks> chunks_;
  std::vector<std::vector<uint64_t>> one_chunk_first_;
  // Used by the producer only: per ragged column, where each row's values
  // start (plan_ragged's output), and the values' bytes.
  std::vector<std::vector<const uint8_t*>> src_;
  std::vector<size_t> value_bytes_;
  // Used by the producer only: per distinct Mix, the batch's rows it maps to.
  std::vector<std::pair<const Mix*, std::vector<uint32_t>>> mixed_rows_;

  std::mutex mu_;
  std::condition_variable work_cv_;   // the producer waits here
  std::condition_variable ready_cv_;  // the consumer waits here
  std::vector<uint8_t*> blocks_;      // by slot
  std::vector<PreparedBatch> prepared_;  // by slot
  std::deque<size_t> free_;           // slots to fill, in order
  std::deque<size_t> ready_;          // slots prepared, in schedule order
  bool end_ready_ = false;            // the end follows the ready slots
  std::exception_ptr error_;          // follows the ready slots
  Cursor cursor_;                     // where production continues
  uint64_t generation_ = 0;           // bumped by reset()
  bool demand_ = false;               // the consumer is waiting
  bool producer_idle_ = false;        // the producer waits on work_cv_
  size_t wake_free_ = 1;              // free slots that make waking it worth it
  bool stop_ = false;
  std::function<void()> on_ready_;

  // Used by the producer only: the permutation of the epoch it is in.
  std::optional<Permutation> perm_;
  uint64_t perm_epoch_ = 0;

  std::thread thread_;
};

}  // namespace rp
