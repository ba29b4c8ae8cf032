// A loader reads a large source's rows at random addresses, where 4 KiB pages
// cost a TLB miss and a page walk per row; 2 MiB pages make that several
// times cheaper (BENCHMARKS.md). So sources of HUGE_PAGE_MIN_BYTES or more are
// advised for transparent huge pages, and in-memory ones collapsed at once
// where the kernel can (MADV_COLLAPSE, Linux >= 6.1). Advice never changes
// the bytes; where the kernel refuses it, nothing changes (`'none'`).
// RP_HUGE_PAGES=0 in the environment turns it off.
import { type HugePageAdvice, native, type NativeMappedFile } from '../native.js';

export type { HugePageAdvice };

/** Sources smaller than this gain too little to be worth a collapse. */
export const HUGE_PAGE_MIN_BYTES = 64 * 2 ** 20;

function enabled(bytes: number): boolean {
  return bytes >= HUGE_PAGE_MIN_BYTES && process.env['RP_HUGE_PAGES'] !== '0';
}

/** Advice for an in-memory column. */
export function adviseArray(view: ArrayBufferView): HugePageAdvice {
  return enabled(view.byteLength) ? native().adviseHugePages(view, true) : 'none';
}

/** Advice for a mapped file (no collapse: it would read the whole file in). */
export function adviseMapping(file: NativeMappedFile): HugePageAdvice {
  return enabled(file.byteLength) ? file.adviseHugePages() : 'none';
}
