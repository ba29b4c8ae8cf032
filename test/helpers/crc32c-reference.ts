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

/** The bytes with their last 4 set to the right CRC-32C (as a step file's trailer), so damage inside reaches the later checks. */
export function reseal(bytes: Uint8Array): Uint8Array {
  if (bytes.length < 4) return bytes;
  const out = bytes.slice();
  new DataView(out.buffer).setUint32(out.length - 4, crc32cReference(out.subarray(0, out.length - 4)));
  return out;
}
