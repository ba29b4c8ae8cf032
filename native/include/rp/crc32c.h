// CRC-32C (Castagnoli), as used by the step-file envelope. Uses the SSE4.2
// crc32 instruction when the CPU has it, a table otherwise; both agree.
#pragma once
#include <cstddef>
#include <cstdint>

namespace rp {

// Extends crc (0 to start) over data[0..len).
uint32_t crc32c(const uint8_t* data, size_t len, uint32_t crc = 0);

// The portable path alone, for tests that compare the two.
uint32_t crc32c_portable(const uint8_t* data, size_t len, uint32_t crc = 0);

}  // namespace rp
