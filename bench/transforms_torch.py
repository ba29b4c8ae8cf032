# PyTorch DataLoader(num_workers=0 vs 2) tokenizing the same JSON Lines
# corpus with Python's tiktoken (cl100k_base), for bench/transforms.ts.
# tiktoken downloads its encodings; offline, the encoding is built from the
# same ranks js-tiktoken ships (written by the bench as RANKS_JSON), with its
# pattern, so both sides do the same work. Prints one JSON line.
import base64, json, sys, time

import tiktoken
import torch
from torch.utils.data import DataLoader, Dataset

corpus, ranks_json, repeats = sys.argv[1], sys.argv[2], int(sys.argv[3])

def encoding():
    try:
        return tiktoken.get_encoding("cl100k_base"), "tiktoken's own cl100k_base"
    except Exception:
        with open(ranks_json) as f:
            r = json.load(f)
        ranks = {}
        for line in r["bpe_ranks"].split("\n"):
            if not line:
                continue
            _, offset, *tokens = line.split(" ")
            for i, t in enumerate(tokens):
                ranks[base64.b64decode(t)] = int(offset) + i
        enc = tiktoken.Encoding("cl100k_base_js", pat_str=r["pat_str"], mergeable_ranks=ranks, special_tokens=r["special_tokens"])
        return enc, "cl100k_base built from js-tiktoken's ranks (no network for tiktoken's download)"

ENC, SOURCE = encoding()

class Lines(Dataset):
    def __init__(self, path):
        with open(path, "rb") as f:
            self.lines = [l for l in f.read().split(b"\n") if l.strip()]
    def __len__(self):
        return len(self.lines)
    def __getitem__(self, i):
        return ENC.encode_ordinary(json.loads(self.lines[i])["text"])

def collate(rows):
    return rows  # lists of token ids; no tensors, as the JS map returns arrays

# Workers started once and kept (persistent_workers), as the loader's pool is: epochs are timed warm.
LOADERS = {w: DataLoader(Lines(corpus), batch_size=64, shuffle=True, num_workers=w, collate_fn=collate,
                         persistent_workers=w > 0, generator=torch.Generator().manual_seed(7)) for w in (0, 2)}

def epoch(workers):
    loader = LOADERS[workers]
    t0 = time.perf_counter()
    tokens = 0
    for batch in loader:
        tokens += sum(len(r) for r in batch)
    return time.perf_counter() - t0, tokens

torch.set_num_threads(1)
epoch(0)  # warm-up
epoch(2)
times = {0: [], 2: []}
tokens = 0
for r in range(repeats):
    for w in ((0, 2) if r % 2 == 0 else (2, 0)):
        s, tokens = epoch(w)
        times[w].append(s)
med = lambda xs: sorted(xs)[len(xs) // 2]
print(json.dumps({"w0": med(times[0]), "w2": med(times[2]), "tokens": tokens, "encoding": SOURCE, "torch": torch.__version__}))
