// A bitwise CRC-32C written from the definition (reflected 0x82F63B78, init
// and final xor 0xFFFFFFFF): an independent check on the core's SSE4.2 code.
export function crc32cReference(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}
