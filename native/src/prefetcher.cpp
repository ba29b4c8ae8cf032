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

namespace rp {
namespace {

constexpr size_t align_up(size_t x, size_t a) { return (x + a - 1) / a * a; }

}  // namespace

BatchLayout::BatchLayout(std::vector<size_t> row_bytes) : row_bytes_(std::move(row_bytes)) {}

size_t BatchLayout::column_offset(size_t rows, size_t column) const {
  if (column >= row_bytes_.size()) {
    throw std::out_of_range("column " + std::to_string(column) + " of " +
                            std::to_string(row_bytes_.size()));
  }
  size_t off = align_up(rows * sizeof(uint32_t), kAlign);
  for (size_t c = 0; c < column; ++c) off += align_up(rows * row_bytes_[c], kAlign);
  return off;
}

size_t BatchLayout::bytes(size_t rows) const {
  size_t off = align_up(rows * sizeof(uint32_t), kAlign);
  for (size_t rb : row_bytes_) off += align_up(rows * rb, kAlign);
  return off;
}

static std::vector<size_t> row_bytes_of(const std::vector<SourceColumn>& columns) {
  std::vector<size_t> out;
  out.reserve(columns.size());
  for (const SourceColumn& c : columns) out.push_back(c.row_bytes);
  return out;
}

Prefetcher::Prefetcher(BatchSchedule schedule, PrefetchConfig config,
                       std::vector<uint8_t*> blocks, Cursor start)
    : schedule_(schedule),
      config_(std::move(config)),
      layout_(row_bytes_of(config_.columns)),
      blocks_(std::move(blocks)),
      cursor_(start) {
  if (blocks_.size() != slots_for_depth(config_.depth)) {
    throw std::invalid_argument("a prefetcher of depth " + std::to_string(config_.depth) +
                                " needs " + std::to_string(slots_for_depth(config_.depth)) +
                                " blocks, got " + std::to_string(blocks_.size()));
  }
  for (const SourceColumn& c : config_.columns) {
    if (c.rows < schedule_.size()) {
      throw std::invalid_argument("a column has " + std::to_string(c.rows) + " rows, fewer than " +
                                  std::to_string(schedule_.size()) + " records");
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
    Key key;
    std::exception_ptr err;
    try {
      assemble(batch, block, &key);
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
    PreparedBatch& b = prepared_[slot];
    b.end = false;
    b.slot = slot;
    b.block = block;
    b.plan = batch;
    b.key = key;
    ready_.push_back(slot);
    cursor_ = batch.after;
    signal_ready(lk);
  }
}

void Prefetcher::assemble(const ShardBatch& batch, uint8_t* block, Key* key) {
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
  *key = batch_key(config_.seed, batch.epoch, rows > 0 ? uint64_t{idx[0]} : schedule_.size());

  // Blocks may arrive uninitialised: zero the padding too, so no stale bytes
  // are ever visible through the batch's ArrayBuffer.
  size_t end = rows * sizeof(uint32_t);
  for (size_t c = 0; c < config_.columns.size(); ++c) {
    const SourceColumn& col = config_.columns[c];
    const size_t off = layout_.column_offset(rows, c);
    std::memset(block + end, 0, off - end);
    gather_rows(col.data, static_cast<size_t>(col.rows), col.row_bytes, idx, rows, block + off,
                config_.pool);
    end = off + rows * col.row_bytes;
  }
  const size_t capacity = block_bytes(schedule_, layout_);
  std::memset(block + end, 0, capacity - end);
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
    b.block = blocks_[0];
    assemble(b.plan, b.block, &b.key);
  } catch (...) {
    error_ = std::current_exception();
    throw;
  }
  blocks_[0] = replacement;
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
    PreparedBatch b = prepared_[slot];
    blocks_[slot] = replacement;
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
