// Which records each shard's next batch holds. Epoch e visits the positions
// 0..n-1 of its global order once. A round (one batch from every shard) takes
// the next S = shard_count * batch_size positions; shard k gets the k-th slice
// of them. ("Round", not "step": a step is a checkpoint's number.)
//
// The last round of an epoch may be short (r = remaining positions, r < S):
//  - drop_remainder: it is dropped whole, so every shard yields the same number
//    of full batches; the epoch ends after its last full round.
//  - otherwise it is split as evenly as possible: shard k gets
//    floor(r / K) + (k < r % K) consecutive positions, so the sizes differ by at
//    most one and a shard may get an empty batch (when r < K). Every shard
//    still takes its part of the round, so all shards stay in lockstep.
//
// The cursor after a round is the global one (what all shards have consumed
// together), the same on every shard. When a round finishes an epoch the cursor
// moves to (epoch + 1, 0). A cursor may sit at any position (a state saved
// under another shard count): rounds simply continue from there.
#pragma once
#include <cstdint>

namespace rp {

struct Cursor {
  uint64_t epoch = 0;
  uint64_t position = 0;  // records of the epoch's global order consumed
  bool operator==(const Cursor& o) const {
    return epoch == o.epoch && position == o.position;
  }
};

// This shard's batch of one round.
struct ShardBatch {
  uint64_t epoch = 0;
  uint64_t start = 0;  // position of this shard's first record
  uint64_t rows = 0;   // this shard's records (0 on an empty slice)
  Cursor after;        // the global cursor once the round is done
};

class BatchSchedule {
 public:
  static constexpr uint64_t kForever = UINT64_MAX;  // num_epochs: no end
  static constexpr uint64_t kMaxRecords = uint64_t{1} << 32;
  static constexpr uint64_t kMaxRound = uint64_t{1} << 53;  // records in one round
  static constexpr uint64_t kMaxShards = uint64_t{1} << 20;  // processes one loader may be split across

  // Throws std::invalid_argument unless 1 <= n <= kMaxRecords, batch_size >= 1,
  // 1 <= shard_count <= kMaxShards, shard_index < shard_count, shard_count * batch_size <= kMaxRound,
  // num_epochs >= 1, and (with drop_remainder) n >= shard_count * batch_size,
  // so that every epoch has at least one round.
  BatchSchedule(uint64_t n, uint64_t batch_size, uint64_t shard_count,
                uint64_t shard_index, bool drop_remainder, uint64_t num_epochs);

  // This shard's batch of the round at cursor c. Returns false once c is past
  // the last epoch. Throws std::out_of_range if c.position >= n.
  bool batch_at(Cursor c, ShardBatch* out) const;

  uint64_t size() const { return n_; }
  uint64_t batch_size() const { return batch_size_; }
  // The most records one batch can hold: batch_size, or n when that is less
  // (a batch never repeats a record), so blocks are sized by what can occur.
  uint64_t max_rows() const { return batch_size_ < n_ ? batch_size_ : n_; }

 private:
  uint64_t n_;
  uint64_t batch_size_;
  uint64_t shard_count_;
  uint64_t shard_index_;
  bool drop_remainder_;
  uint64_t num_epochs_;
  uint64_t round_;  // records in a full round: shard_count * batch_size
};

}  // namespace rp
