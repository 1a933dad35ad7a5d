#!/usr/bin/python3
"""PyTorch's sparse Adagrad on the workload of kernel.BenchmarkRows, for comparison.

torch.optim.Adagrad with a sparse gradient (as nn.Embedding(sparse=True) produces):
a table of 1M rows of dim 64 or 128 float32, 16K indices per step from Zipf(1.1)
(hashed over the table) or uniform. One thread by default, like ApplyRows; pass
the number of threads as the argument to compare with ApplyRowsParallel. It
prints Go benchmark lines, so benchstat reads them beside `go test -bench Rows`:

    /usr/bin/python3 bench/peers/torch_sparse_adagrad.py [threads] > out/torch-rows.txt

Needs Debian's python3-torch (PyTorch 1.13) and numpy.
"""
import sys
import time

import numpy as np
import torch

ROWS, INDICES, STEPS = 1 << 20, 16 << 10, 20


def indices(dist, rng):
    if dist == "zipf":
        z = rng.zipf(1.1, INDICES * 2)
        z = z[z < ROWS][:INDICES].astype(np.uint64)
        return ((z * np.uint64(0x9E3779B97F4A7C15)) % np.uint64(ROWS)).astype(np.int64)
    return rng.integers(0, ROWS, INDICES, dtype=np.int64)


def main():
    threads = int(sys.argv[1]) if len(sys.argv) > 1 else 1
    torch.set_num_threads(threads)
    rng = np.random.default_rng(1)
    print("goos: linux\ngoarch: amd64\npkg: peers/torch")
    print(f"cpu: {open('/proc/cpuinfo').read().split('model name')[1].split(':')[1].splitlines()[0].strip()}")
    for dim in (64, 128):
        table = torch.nn.Parameter(torch.zeros(ROWS, dim))
        opt = torch.optim.Adagrad([table], lr=0.01)
        for dist in ("zipf", "uniform"):
            idx = torch.from_numpy(indices(dist, rng))
            vals = torch.randn(INDICES, dim)
            grad = torch.sparse_coo_tensor(idx.unsqueeze(0), vals, (ROWS, dim))
            for _ in range(3):  # warm up
                table.grad = grad
                opt.step()
            t0 = time.perf_counter()
            for _ in range(STEPS):
                table.grad = grad
                opt.step()
            ns = (time.perf_counter() - t0) / STEPS * 1e9
            print(f"BenchmarkTorchRows/dim={dim}/dist={dist}/dup=coalesced/threads={threads} \t{STEPS}\t{ns:.0f} ns/op\t"
                  f"{INDICES / ns * 1e3:.4f} Mrows/s")


if __name__ == "__main__":
    main()
