# The peers of bench/peers.ts: numpy fancy indexing (arr[idx] on a 2-D uint8
# view) and pyarrow's take on a FixedSizeBinary array, over the same kind of
# source (SOURCE_BYTES of float32 ones) and the same batches (BATCH_ROWS random
# rows, fresh output each, dropped after use). Indices are drawn before the
# clock starts, so the peers pay nothing for a shuffle. A peer that does not
# import is reported as missing. Prints one JSON line:
#   {"numpy": {"16": GB/s, ...} | null, "pyarrow": {...} | null, "versions": {...}, "missing": [...]}
import json, sys, time

source_bytes, batch_rows, drain_bytes, repeats = (int(a) for a in sys.argv[1:5])
row_sizes = [int(s) for s in sys.argv[5].split(",")]

import numpy as np

try:
    import pyarrow as pa
except ImportError:
    pa = None

flat = np.ones(source_bytes // 4, dtype=np.float32).view(np.uint8)
rng = np.random.default_rng(1)


def batches_for(row_bytes):
    return max(8, drain_bytes // (batch_rows * row_bytes))


def gbps(batches, row_bytes, seconds):
    return 2 * batches * batch_rows * row_bytes / seconds / 1e9  # read + write bytes


def run_numpy(rows, idx):
    t0 = time.perf_counter()
    for i in idx:
        out = rows[i]
        del out
    return time.perf_counter() - t0


def run_pyarrow(arr, idx):
    t0 = time.perf_counter()
    for i in idx:
        out = arr.take(i)
        del out
    return time.perf_counter() - t0


times = {"numpy": {s: [] for s in row_sizes}, "pyarrow": {s: [] for s in row_sizes}}
setup = {}
for s in row_sizes:
    n = source_bytes // s
    idx = [rng.integers(0, n, batch_rows, dtype=np.int64) for _ in range(batches_for(s))]
    rows = flat.reshape(n, s)
    arr = None
    if pa is not None:
        arr = pa.FixedSizeBinaryArray.from_buffers(pa.binary(s), n, [None, pa.py_buffer(flat)])
        pidx = [pa.array(i) for i in idx]
    setup[s] = (rows, arr, idx, pidx if pa is not None else None)

for r in range(repeats + 1):  # round 0 warms up
    for s in row_sizes:
        rows, arr, idx, pidx = setup[s]
        t = run_numpy(rows, idx)
        if r > 0:
            times["numpy"][s].append(t)
        if arr is not None:
            t = run_pyarrow(arr, pidx)
            if r > 0:
                times["pyarrow"][s].append(t)

result = {"numpy": {}, "pyarrow": {} if pa is not None else None,
          "versions": {"python": sys.version.split()[0], "numpy": np.__version__, "pyarrow": pa.__version__ if pa else None},
          "missing": [] if pa is not None else ["pyarrow"]}
for s in row_sizes:
    b = batches_for(s)
    result["numpy"][str(s)] = gbps(b, s, float(np.median(times["numpy"][s])))
    if pa is not None:
        result["pyarrow"][str(s)] = gbps(b, s, float(np.median(times["pyarrow"][s])))
print(json.dumps(result))
