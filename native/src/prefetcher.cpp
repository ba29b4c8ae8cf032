// The producer loop and the consumer hand-off. One mutex guards the slot
// queues; the producer holds it only to pick a batch and a slot and to publish
// the result, never while computing indices or copying rows.
#include "rp/prefetcher.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <string>
#include <utility>

#include "rp/epoch_keys.h"
#include "rp/gather.h"
#include "rp/huge_pages.h"

namespace rp {
namespace {

constexpr size_t align_up(size_t x, size_t a) { return (x + a - 1) / a * a; }

}  // namespace

static std::vector<ColumnShape> fixed_shapes(const std::vector<size_t>& row_bytes) {
  std::vector<ColumnShape> out;
  out.reserve(row_bytes.size());
  for (size_t rb : row_bytes) out.push_back(ColumnShape{ColumnKind::kFixed, rb});
  return out;
}

BatchLayout::BatchLayout(std::vector<size_t> row_bytes) : columns_(fixed_shapes(row_bytes)) {}

BatchLayout::BatchLayout(std::vector<ColumnShape> columns) : columns_(std::move(columns)) {}

bool BatchLayout::has_ragged() const {
  for (const ColumnShape& c : columns_) {
    if (c.kind == ColumnKind::kRagged) return true;
  }
  return false;
}

size_t BatchLayout::place(size_t rows, const size_t* value_bytes, ColumnPlace* out) const {
  size_t off = align_up(rows * sizeof(uint32_t), kAlign);
  for (size_t c = 0; c < columns_.size(); ++c) {
    if (columns_[c].kind == ColumnKind::kFixed) continue;
    out[c].aux = off;
    off += align_up((columns_[c].kind == ColumnKind::kRagged ? rows + 1 : rows) * sizeof(int32_t), kAlign);
  }
  for (size_t c = 0; c < columns_.size(); ++c) {
    const ColumnShape& col = columns_[c];
    const size_t bytes = col.kind == ColumnKind::kRagged ? (value_bytes ? value_bytes[c] : 0) : rows * col.bytes;
    out[c].data = off;
    out[c].data_bytes = bytes;
    if (col.kind == ColumnKind::kFixed) out[c].aux = 0;
    off += align_up(bytes, kAlign);
  }
  return off;
}

size_t BatchLayout::data_start(size_t rows) const {
  size_t off = align_up(rows * sizeof(uint32_t), kAlign);
  for (const ColumnShape& c : columns_) {
    if (c.kind == ColumnKind::kFixed) continue;
    off += align_up((c.kind == ColumnKind::kRagged ? rows + 1 : rows) * sizeof(int32_t), kAlign);
  }
  return off;
}

size_t BatchLayout::column_offset(size_t rows, size_t column) const {
  if (column >= columns_.size()) {
    throw std::out_of_range("column " + std::to_string(column) + " of " +
                            std::to_string(columns_.size()));
  }
  std::vector<ColumnPlace> places(columns_.size());
  place(rows, nullptr, places.data());
  return places[column].data;
}

size_t BatchLayout::bytes(size_t rows) const {
  std::vector<ColumnPlace> places(columns_.size());
  return place(rows, nullptr, places.data());
}

static std::vector<ColumnShape> shapes_of(const std::vector<SourceColumn>& columns) {
  std::vector<ColumnShape> out;
  out.reserve(columns.size());
  for (const SourceColumn& c : columns) {
    switch (c.kind) {
      case ColumnKind::kFixed: out.push_back({c.kind, c.row_bytes}); break;
      case ColumnKind::kRagged: out.push_back({c.kind, c.ragged.element_bytes}); break;
      case ColumnKind::kPadded: out.push_back({c.kind, c.pad_length * c.ragged.element_bytes}); break;
    }
  }
  return out;
}

// a * b, or SIZE_MAX when it overflows.
static uint64_t mul_sat(uint64_t a, uint64_t b) {
  if (a != 0 && b > UINT64_MAX / a) return UINT64_MAX;
  return a * b;
}

size_t Prefetcher::block_bytes(const BatchSchedule& schedule, const std::vector<SourceColumn>& columns,
                               bool* exact) {
  const uint64_t rows = schedule.max_rows();
  std::vector<size_t> value_bytes(columns.size(), 0);
  bool all_exact = true;
  for (size_t c = 0; c < columns.size(); ++c) {
    const SourceColumn& col = columns[c];
    // Padded rows are not backed by source memory: their product may
    // overflow. Far over any block: the caller refuses it.
    if (col.kind == ColumnKind::kPadded &&
        mul_sat(mul_sat(rows, col.pad_length), col.ragged.element_bytes) > (uint64_t{1} << 40)) {
      if (exact != nullptr) *exact = true;
      return SIZE_MAX;
    }
    if (col.kind != ColumnKind::kRagged) continue;
    const uint64_t most = std::min(mul_sat(rows, col.max_row), col.total);
    // An average batch: rows × total / n elements (in floating point: no overflow).
    const double average = static_cast<double>(rows) * static_cast<double>(col.total) /
                           static_cast<double>(std::max<uint64_t>(1, col.row_count()));
    const double roomy = 1.5 * average + static_cast<double>(col.max_row);
    uint64_t elements = most;
    if (roomy < static_cast<double>(most)) {
      elements = static_cast<uint64_t>(roomy);
      all_exact = false;
    }
    elements = std::min<uint64_t>(elements, kMaxBatchElements);
    value_bytes[c] = static_cast<size_t>(mul_sat(elements, col.ragged.element_bytes));
  }
  if (exact != nullptr) *exact = all_exact;
  const BatchLayout layout(shapes_of(columns));
  std::vector<ColumnPlace> places(columns.size());
  return layout.place(static_cast<size_t>(rows), value_bytes.data(), places.data());
}

Prefetcher::Prefetcher(BatchSchedule schedule, PrefetchConfig config,
                       std::vector<uint8_t*> blocks, Cursor start)
    : schedule_(schedule),
      config_(std::move(config)),
      layout_(shapes_of(config_.columns)),
      capacity_(block_bytes(schedule_, config_.columns)),
      blocks_(std::move(blocks)),
      cursor_(start) {
  if (blocks_.size() != slots_for_depth(config_.depth)) {
    throw std::invalid_argument("a prefetcher of depth " + std::to_string(config_.depth) +
                                " needs " + std::to_string(slots_for_depth(config_.depth)) +
                                " blocks, got " + std::to_string(blocks_.size()));
  }
  for (const SourceColumn& c : config_.columns) {
    const uint64_t rows = c.row_count();
    if (c.mix) {
      const size_t last = c.mix->sources() - 1;
      if (rows != c.mix->base(last) + c.mix->rows(last)) {
        throw std::invalid_argument("a mixed column has " + std::to_string(rows) + " rows, not its sources' " +
                                    std::to_string(c.mix->base(last) + c.mix->rows(last)));
      }
      if (std::none_of(mixed_rows_.begin(), mixed_rows_.end(), [&](const auto& m) { return m.first == c.mix.get(); })) {
        mixed_rows_.push_back({c.mix.get(), {}});
      }
    } else if (rows < schedule_.size()) {
      throw std::invalid_argument("a column has " + std::to_string(rows) + " rows, fewer than " +
                                  std::to_string(schedule_.size()) + " records");
    }
    if (c.kind != ColumnKind::kFixed && c.chunk_first.empty() &&
        (c.ragged.starts == nullptr || c.ragged.element_bytes == 0 || c.ragged.element_bytes > sizeof(c.pad))) {
      throw std::invalid_argument("a ragged column needs offsets and 1 to 8 bytes per element");
    }
    if (!c.chunk_first.empty()) {
      const size_t k = c.chunk_first.size() - 1;
      const bool sized = k >= 1 && c.chunk_first[0] == 0 &&
                         (c.kind == ColumnKind::kFixed ? c.chunk_data.size() : c.chunk_ragged.size()) == k &&
                         std::is_sorted(c.chunk_first.begin(), c.chunk_first.end());
      if (!sized) throw std::invalid_argument("a chunked column needs k >= 1 chunks and k + 1 sorted first rows from 0");
      for (const RaggedColumn& r : c.chunk_ragged) {
        if (r.element_bytes != c.ragged.element_bytes || r.offsets64 != c.ragged.offsets64 || r.starts == nullptr) {
          throw std::invalid_argument("a chunked ragged column's chunks must share element size and offset width");
        }
      }
    }
    if (c.kind == ColumnKind::kPadded && c.pad_length == 0) {
      throw std::invalid_argument("a padded column needs a length >= 1");
    }
  }
  src_.resize(config_.columns.size());
  value_bytes_.resize(config_.columns.size());
  chunks_.resize(config_.columns.size());
  one_chunk_first_.resize(config_.columns.size());
  chunk_index_.resize(config_.columns.size());
  for (size_t c = 0; c < config_.columns.size(); ++c) {
    const SourceColumn& col = config_.columns[c];
    if (!col.chunk_first.empty()) chunk_index_[c] = ChunkIndex(col.chunk_first.data(), col.chunk_first.size() - 1);
    if (col.kind == ColumnKind::kFixed) continue;
    if (col.chunk_first.empty()) {
      one_chunk_first_[c] = {0, col.ragged.rows};
      chunks_[c] = RaggedChunks{&col.ragged, one_chunk_first_[c].data(), 1, nullptr};
    } else {
      chunks_[c] = RaggedChunks{col.chunk_ragged.data(), col.chunk_first.data(), col.chunk_ragged.size(),
                                &chunk_index_[c]};
    }
  }
  if (config_.inline_assembly && config_.depth != 0) {
    throw std::invalid_argument("inline assembly needs depth 0, got " +
                                std::to_string(config_.depth));
  }
  prepared_.resize(blocks_.size());
  for (size_t s = 0; s < blocks_.size(); ++s) free_.push_back(s);
  wake_free_ = std::max<size_t>(1, blocks_.size() / 2);
  if (!config_.inline_assembly) thread_ = std::thread([this] { run(); });
}

Prefetcher::~Prefetcher() { stop(); }

void Prefetcher::stop() {
  {
    std::lock_guard<std::mutex> lk(mu_);
    stop_ = true;
    on_ready_ = nullptr;
  }
  work_cv_.notify_all();
  ready_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Prefetcher::wake_producer() {
  if (producer_idle_) work_cv_.notify_one();
}

bool Prefetcher::can_produce() const {
  return !end_ready_ && !error_ && !free_.empty() &&
         ready_.size() < config_.depth + (demand_ ? 1 : 0);
}

void Prefetcher::signal_ready(std::unique_lock<std::mutex>& lk) {
  ready_cv_.notify_one();
  if (on_ready_) {
    std::function<void()> fn = std::move(on_ready_);
    on_ready_ = nullptr;
    lk.unlock();
    fn();
    lk.lock();
  }
}

void Prefetcher::run() {
  std::unique_lock<std::mutex> lk(mu_);
  for (;;) {
    if (!stop_ && !can_produce()) {
      producer_idle_ = true;
      work_cv_.wait(lk, [this] { return stop_ || can_produce(); });
      producer_idle_ = false;
    }
    if (stop_) return;
    const uint64_t gen = generation_;
    ShardBatch batch;
    bool more = false;
    try {
      more = schedule_.batch_at(cursor_, &batch);
    } catch (...) {
      error_ = std::current_exception();
      signal_ready(lk);
      continue;
    }
    if (!more) {
      end_ready_ = true;
      signal_ready(lk);
      continue;
    }
    const size_t slot = free_.front();
    free_.pop_front();
    uint8_t* block = blocks_[slot];
    lk.unlock();
    PreparedBatch made;
    std::exception_ptr err;
    try {
      assemble(batch, block, &made);
    } catch (...) {
      err = std::current_exception();
    }
    lk.lock();
    if (gen != generation_) {  // reset() meanwhile: the batch is stale
      free_.push_front(slot);
      continue;
    }
    if (err) {
      free_.push_front(slot);
      error_ = err;
      signal_ready(lk);
      continue;
    }
    made.end = false;
    made.slot = slot;
    made.plan = batch;
    prepared_[slot] = std::move(made);
    ready_.push_back(slot);
    cursor_ = batch.after;
    signal_ready(lk);
  }
}

void Prefetcher::assemble(const ShardBatch& batch, uint8_t* block, PreparedBatch* out) {
  const size_t rows = static_cast<size_t>(batch.rows);
  uint32_t* idx = reinterpret_cast<uint32_t*>(block);
  if (config_.shuffle) {
    if (!perm_ || perm_epoch_ != batch.epoch) {
      perm_.emplace(order_key(config_.seed, batch.epoch), schedule_.size());
      perm_epoch_ = batch.epoch;
    }
    perm_->fill(batch.start, idx, rows);
  } else {
    for (size_t j = 0; j < rows; ++j) idx[j] = static_cast<uint32_t>(batch.start + j);
  }
  out->key = batch_key(config_.seed, batch.epoch, rows > 0 ? uint64_t{idx[0]} : schedule_.size());

  const std::vector<SourceColumn>& columns = config_.columns;
  // Mixed sources: each batch position's row, once per mix.
  for (auto& [mix, mapped] : mixed_rows_) {
    if (mapped.size() < rows) mapped.resize(rows);
    mix->rows(idx, rows, mapped.data());
  }
  auto rows_of = [&](const SourceColumn& col) -> const uint32_t* {
    if (!col.mix) return idx;
    for (const auto& m : mixed_rows_) {
      if (m.first == col.mix.get()) return m.second.data();
    }
    return idx;  // unreachable: every mix is listed at construction
  };
  std::vector<ColumnPlace>& places = out->places;
  places.resize(columns.size());
  // Pass 1 (ragged columns): each batch's offsets, written into the block
  // (their place depends on rows only), so its size is known before copying.
  const bool ragged = layout_.has_ragged();
  if (ragged) layout_.place(rows, nullptr, places.data());
  for (size_t c = 0; c < columns.size(); ++c) {
    const SourceColumn& col = columns[c];
    if (col.kind != ColumnKind::kRagged) continue;
    std::vector<const uint8_t*>& src = src_[c];
    if (src.size() < rows) src.resize(rows);
    uint64_t elements;
    try {
      elements = plan_ragged(chunks_[c], rows_of(col), rows, reinterpret_cast<int32_t*>(block + places[c].aux),
                             src.data());
    } catch (const SourceDataError& e) {
      throw SourceDataError("column \"" + col.name + "\": " + e.what());
    }
    value_bytes_[c] = static_cast<size_t>(elements) * col.ragged.element_bytes;
  }
  const size_t bytes = layout_.place(rows, value_bytes_.data(), places.data());
  out->bytes = bytes;
  out->block = block;
  out->owned.reset();
  if (bytes > capacity_) {  // ragged rows longer than the block allows: memory of its own
    const size_t alloc = bytes;
    std::shared_ptr<uint8_t> own(static_cast<uint8_t*>(allocate_huge_pages(alloc)),
                                 [alloc](uint8_t* p) { free_huge_pages(p, alloc); });
    std::memcpy(own.get(), block, layout_.data_start(rows));
    out->owned = own;
    out->block = own.get();
  }
  uint8_t* dst = out->block;

  // Blocks may arrive uninitialised: zero the padding too, so no stale bytes
  // are ever visible through the batch's ArrayBuffer.
  size_t end = rows * sizeof(uint32_t);
  auto zero_to = [&](size_t start) {
    if (start > end) std::memset(dst + end, 0, start - end);
  };
  for (size_t c = 0; c < columns.size(); ++c) {
    if (columns[c].kind == ColumnKind::kFixed) continue;
    zero_to(places[c].aux);
    end = places[c].aux + (columns[c].kind == ColumnKind::kRagged ? rows + 1 : rows) * sizeof(int32_t);
  }
  for (size_t c = 0; c < columns.size(); ++c) {
    const SourceColumn& col = columns[c];
    const ColumnPlace& p = places[c];
    zero_to(p.data);
    switch (col.kind) {
      case ColumnKind::kFixed:
        if (col.chunk_first.empty()) {
          gather_rows(col.data, static_cast<size_t>(col.rows), col.row_bytes, rows_of(col), rows, dst + p.data,
                      config_.pool);
        } else {
          gather_rows_chunked(col.chunk_data.data(), chunk_index_[c], col.row_bytes, rows_of(col), rows,
                              dst + p.data, config_.pool);
        }
        break;
      case ColumnKind::kRagged:
        copy_ragged(src_[c].data(), reinterpret_cast<const int32_t*>(dst + p.aux), rows,
                    col.ragged.element_bytes, dst + p.data, config_.pool);
        break;
      case ColumnKind::kPadded:
        try {
          gather_padded(chunks_[c], rows_of(col), rows, col.pad_length, col.pad, dst + p.data,
                        reinterpret_cast<int32_t*>(dst + p.aux), config_.pool);
        } catch (const SourceDataError& e) {
          throw SourceDataError("column \"" + col.name + "\": " + e.what());
        }
        break;
    }
    end = p.data + p.data_bytes;
  }
  // Handed out whole (ragged blocks are handed out `bytes` long).
  const size_t capacity = ragged ? bytes : capacity_;
  if (capacity > end) std::memset(dst + end, 0, capacity - end);
}

// Same contract as the threaded path: errors stick until reset(), the end
// keeps being returned, and the replacement is only taken with a batch.
PreparedBatch Prefetcher::take_inline(uint8_t* replacement) {
  if (error_) std::rethrow_exception(error_);
  PreparedBatch b;
  if (stop_) throw std::logic_error("the prefetcher was stopped");
  if (end_ready_) {
    b.end = true;
    return b;
  }
  try {
    if (!schedule_.batch_at(cursor_, &b.plan)) {
      end_ready_ = true;
      b.end = true;
      return b;
    }
    b.slot = 0;
    assemble(b.plan, blocks_[0], &b);
  } catch (...) {
    error_ = std::current_exception();
    throw;
  }
  if (!b.owned) blocks_[0] = replacement;
  cursor_ = b.plan.after;
  return b;
}

PreparedBatch Prefetcher::take(uint8_t* replacement) {
  std::unique_lock<std::mutex> lk(mu_);
  if (config_.inline_assembly) return take_inline(replacement);
  if (ready_.empty() && !end_ready_ && !error_) {
    demand_ = true;
    wake_producer();
    ready_cv_.wait(lk, [this] { return stop_ || !ready_.empty() || end_ready_ || error_; });
  }
  demand_ = false;
  if (!ready_.empty()) {
    const size_t slot = ready_.front();
    ready_.pop_front();
    PreparedBatch b = std::move(prepared_[slot]);
    if (!b.owned) blocks_[slot] = replacement;
    free_.push_back(slot);
    if (free_.size() >= wake_free_) wake_producer();
    return b;
  }
  if (error_) std::rethrow_exception(error_);
  if (end_ready_) {
    PreparedBatch end;
    end.end = true;
    return end;
  }
  throw std::logic_error("the prefetcher was stopped");
}

bool Prefetcher::ready_or_notify(std::function<void()> on_ready) {
  {
    std::lock_guard<std::mutex> lk(mu_);
    if (config_.inline_assembly || !ready_.empty() || end_ready_ || error_) return true;
    on_ready_ = std::move(on_ready);
    demand_ = true;
    wake_producer();
  }
  return false;
}

void Prefetcher::reset(Cursor from) {
  {
    std::lock_guard<std::mutex> lk(mu_);
    ++generation_;
    for (size_t s : ready_) free_.push_back(s);
    ready_.clear();
    end_ready_ = false;
    error_ = nullptr;
    demand_ = false;
    cursor_ = from;
    wake_producer();
  }
}

}  // namespace rp
