// The GPU code a built file carries: the machine code (ELF, "sm_90") and PTX
// ("compute_90") entries of its CUDA fat binary. Read from the ELF file's
// .nv_fatbin section directly, so it works without cuobjdump (which the
// toolkit on these machines lacks); `cuobjdump --list-elf/--list-ptx` says
// the same where it exists (test/cuda-build.test.ts compares both).
//   node scripts/cuda-targets.mjs FILE   prints { elf: [...], ptx: [...] }
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const FATBIN_MAGIC = 0xba55ed50;

/** The bytes of the named section of a 64-bit little-endian ELF file, or undefined. */
function elfSection(file, name) {
  if (file.readUInt32BE(0) !== 0x7f454c46 || file[4] !== 2 || file[5] !== 1) throw new Error('not a 64-bit little-endian ELF file');
  const shoff = Number(file.readBigUInt64LE(0x28));
  const shentsize = file.readUInt16LE(0x3a);
  const shnum = file.readUInt16LE(0x3c);
  const shstrndx = file.readUInt16LE(0x3e);
  const header = (i) => {
    const at = shoff + i * shentsize;
    return { name: file.readUInt32LE(at), offset: Number(file.readBigUInt64LE(at + 0x18)), size: Number(file.readBigUInt64LE(at + 0x20)) };
  };
  const strings = header(shstrndx);
  for (let i = 0; i < shnum; i++) {
    const h = header(i);
    const start = strings.offset + h.name;
    const end = file.indexOf(0, start);
    if (file.toString('latin1', start, end) === name) return file.subarray(h.offset, h.offset + h.size);
  }
  return undefined;
}

/**
 * The fat binary's entries: each fat binary header (magic, version, header
 * size, payload size) is followed by entries (kind 1 = PTX, 2 = ELF; header
 * size; payload size; the target's sm number at byte 28).
 */
export function cudaTargets(path) {
  const section = elfSection(readFileSync(path), '.nv_fatbin');
  const elf = new Set();
  const ptx = new Set();
  if (section === undefined) return { elf: [], ptx: [] };
  let pos = 0;
  while (pos + 16 <= section.length) {
    if (section.readUInt32LE(pos) !== FATBIN_MAGIC) {
      pos += 8; // fat binaries are 8-byte aligned, padding between them
      continue;
    }
    const headerSize = section.readUInt16LE(pos + 6);
    const payload = Number(section.readBigUInt64LE(pos + 8));
    let entry = pos + headerSize;
    const end = entry + payload;
    while (entry < end) {
      const kind = section.readUInt16LE(entry);
      const entryHeader = section.readUInt32LE(entry + 4);
      const entrySize = Number(section.readBigUInt64LE(entry + 8));
      const arch = section.readUInt32LE(entry + 28);
      if (kind === 2) elf.add(`sm_${arch}`);
      else if (kind === 1) ptx.add(`compute_${arch}`);
      entry += entryHeader + entrySize;
    }
    pos = end;
  }
  const order = (a, b) => Number(a.split('_')[1]) - Number(b.split('_')[1]);
  return { elf: [...elf].sort(order), ptx: [...ptx].sort(order) };
}

/** The GPU targets every CUDA addon must carry (CMAKE_CUDA_ARCHITECTURES in cmake/cuda.cmake). */
export const REQUIRED_CUDA_TARGETS = { elf: ['sm_75', 'sm_80', 'sm_86', 'sm_89', 'sm_90'], ptx: ['compute_90'] };

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const file = process.argv[2];
  if (!file) {
    console.error('usage: node scripts/cuda-targets.mjs FILE');
    process.exit(2);
  }
  console.log(JSON.stringify(cudaTargets(file)));
}
