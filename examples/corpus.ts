// A small synthetic JSON Lines corpus for the tokenize example and bench:
// deterministic, word salad with numbers, punctuation and some non-ASCII text.
import { writeFileSync } from 'node:fs';

const WORDS = (
  'the of and to in a is that for it as was with be by on not he I this are or his from at which but have an they you ' +
  'were her she there been one all we their has would when if so no will can more about said up out them some could ' +
  'loader batch epoch shuffle resume checkpoint tensor worker thread token model gradient train data stream offset ' +
  'naïve café résumé Zürich 東京 データ 😀 señor façade'
).split(' ');

/** Writes `lines` records of about `words` words each to `path`. */
export function writeCorpus(path: string, lines: number, words = 60): void {
  let state = 0x9e3779b9;
  const next = (): number => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 2 ** 32;
  };
  const out: string[] = [];
  for (let i = 0; i < lines; i++) {
    const count = Math.floor(words / 2 + next() * words);
    const text: string[] = [];
    for (let w = 0; w < count; w++) {
      const r = next();
      text.push(r < 0.05 ? String(Math.floor(next() * 100000)) : WORDS[Math.floor(next() * WORDS.length)]! + (r > 0.97 ? '.' : r > 0.94 ? ',' : ''));
    }
    out.push(JSON.stringify({ id: i, text: text.join(' ') }));
  }
  writeFileSync(path, `${out.join('\n')}\n`);
}
