# torch's figures for bench/cuda.ts, measured the same way in the same run:
# prints one JSON object, or {"skipped": reason}. Timed with CUDA events,
# medians of `repeats` rounds of `inner` launches after a warm-up.
import json
import sys


def main():
    try:
        import torch
    except Exception as e:  # noqa: BLE001
        print(json.dumps({"skipped": f"torch is not installed ({e})"}))
        return
    if not torch.cuda.is_available():
        print(json.dumps({"skipped": "torch finds no CUDA device"}))
        return
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 11
    dev = torch.device("cuda")

    def timed(fn, inner=1):
        fn()
        torch.cuda.synchronize()
        times = []
        for _ in range(repeats):
            start = torch.cuda.Event(enable_timing=True)
            end = torch.cuda.Event(enable_timing=True)
            start.record()
            for _ in range(inner):
                fn()
            end.record()
            end.synchronize()
            times.append(start.elapsed_time(end) / inner)  # ms
        times.sort()
        return times[len(times) // 2]

    out = {"device": torch.cuda.get_device_name(0), "torch": torch.__version__}
    out["randperm_1e8_ms"] = timed(lambda: torch.randperm(100_000_000, device=dev))
    batch = 65536
    gather = {}
    for row_bytes in (64, 256, 1024, 4096):
        rows = max(batch * 4, (1 << 30) // row_bytes // 4)
        src = torch.empty((rows, row_bytes // 4), dtype=torch.float32, device=dev)
        idx = torch.randint(0, rows, (batch,), device=dev)
        ms = timed(lambda: torch.index_select(src, 0, idx), inner=20)
        gather[str(row_bytes)] = 2 * batch * row_bytes / (ms / 1e3) / 1e9  # read + write
        del src
    out["index_select_gbps"] = gather
    n = 1 << 30
    a = torch.empty(n, dtype=torch.uint8, device=dev)
    b = torch.empty(n, dtype=torch.uint8, device=dev)
    out["d2d_gbps"] = 2 * n / (timed(lambda: b.copy_(a), inner=5) / 1e3) / 1e9
    h = 256 << 20
    pinned = torch.empty(h, dtype=torch.uint8).pin_memory()
    pageable = torch.empty(h, dtype=torch.uint8)
    d = torch.empty(h, dtype=torch.uint8, device=dev)
    out["h2d_pinned_gbps"] = h / (timed(lambda: d.copy_(pinned, non_blocking=True)) / 1e3) / 1e9
    out["h2d_pageable_gbps"] = h / (timed(lambda: d.copy_(pageable)) / 1e3) / 1e9
    print(json.dumps(out))


main()
