// Instruction profile of gather for BENCHMARKS.md (not part of `npm run bench`):
//   npm run build:ts
//   valgrind --tool=callgrind --callgrind-out-file=cg.out node bench/profile-gather.mjs 1024
//   callgrind_annotate cg.out | grep -E 'copy_rows|gather_rows'
// Four gathers of 65536 random rows from a 64 MiB hugePageBuffer source into
// a line-aligned batch, so the address-ordered path runs as in the bench.
import { gather, hugePageBuffer } from '../dist/esm/index.mjs';

const rowBytes = Number(process.argv[2] ?? 1024);
const rows = 65536;
const sourceBytes = 64 << 20;
const source = new Uint8Array(hugePageBuffer(sourceBytes)).fill(1);
const out = new Uint8Array(hugePageBuffer(rows * rowBytes));
const indices = Uint32Array.from({ length: rows }, (_, j) => (j * 2654435761) % (sourceBytes / rowBytes));
for (let i = 0; i < 4; i++) gather(source, rowBytes, indices, out);
