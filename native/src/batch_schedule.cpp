// The round arithmetic; see the header for the rules.
#include "rp/batch_schedule.h"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace rp {

BatchSchedule::BatchSchedule(uint64_t n, uint64_t batch_size, uint64_t shard_count,
                             uint64_t shard_index, bool drop_remainder,
                             uint64_t num_epochs)
    : n_(n),
      batch_size_(batch_size),
      shard_count_(shard_count),
      shard_index_(shard_index),
      drop_remainder_(drop_remainder),
      num_epochs_(num_epochs),
      round_(0) {
  if (n == 0 || n > kMaxRecords) {
    throw std::invalid_argument("record count " + std::to_string(n) + " is outside [1, 2^32]");
  }
  if (batch_size == 0) throw std::invalid_argument("batch size must be at least 1");
  if (shard_count == 0 || shard_count > kMaxShards) {
    throw std::invalid_argument("shard count must be in [1, " + std::to_string(kMaxShards) + "], got " +
                                std::to_string(shard_count));
  }
  if (shard_index >= shard_count) {
    throw std::invalid_argument("shard index " + std::to_string(shard_index) +
                                " is not below shard count " + std::to_string(shard_count));
  }
  if (batch_size > kMaxRound / shard_count) {
    throw std::invalid_argument("shard count * batch size exceeds 2^53");
  }
  if (num_epochs == 0) throw std::invalid_argument("epoch count must be at least 1");
  round_ = shard_count * batch_size;
  if (drop_remainder && n < round_) {
    throw std::invalid_argument("with drop_remainder, " + std::to_string(n) +
                                " records give no full round of " + std::to_string(round_));
  }
}

bool BatchSchedule::batch_at(Cursor c, ShardBatch* out) const {
  if (c.position >= n_) {
    throw std::out_of_range("cursor position " + std::to_string(c.position) +
                            " is not below the record count " + std::to_string(n_));
  }
  uint64_t remaining = n_ - c.position;
  if (drop_remainder_ && remaining < round_) {
    // Only a partial round is left (possible after an elastic resume): the
    // epoch is over. The constructor guarantees a full round from position 0.
    if (c.epoch == UINT64_MAX) return false;
    c = Cursor{c.epoch + 1, 0};
    remaining = n_;
  }
  if (c.epoch >= num_epochs_) return false;

  ShardBatch s;
  s.epoch = c.epoch;
  uint64_t taken;
  if (remaining >= round_) {
    s.start = c.position + shard_index_ * batch_size_;
    s.rows = batch_size_;
    taken = round_;
  } else {
    const uint64_t base = remaining / shard_count_;
    const uint64_t extra = remaining % shard_count_;
    s.start = c.position + shard_index_ * base + std::min(shard_index_, extra);
    s.rows = base + (shard_index_ < extra ? 1 : 0);
    taken = remaining;
  }
  const uint64_t next = c.position + taken;
  const bool epoch_done = next == n_ || (drop_remainder_ && n_ - next < round_);
  s.after = epoch_done ? Cursor{c.epoch + 1, 0} : Cursor{c.epoch, next};
  *out = s;
  return true;
}

}  // namespace rp
