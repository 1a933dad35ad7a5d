#!/usr/bin/python3
"""Adagrad as a Python user runs it, for `go run ./bench peers`.

Peers (one per run, by -peer):
  numpy          NumPy in-place ufuncs, no temporaries allocated per step
  torch          torch.optim.Adagrad.step, foreach=False, 1 thread
  torch-foreach  torch.optim.Adagrad.step, foreach=True, 1 thread
  torch-sparse   torch.optim.Adagrad.step on a sparse gradient (nn.Embedding(sparse=True)'s),
                 rows read from -indices (int64, little-endian), 1 thread
  torch-model, torch-foreach-model
                 torch.optim.Adagrad.step over a model's tensors, sizes read from -model
                 (comma-separated), foreach off and on, 1 thread

Dense peers use PyTorch's form, s += g*g; x -= lr*g / (sqrt(s) + eps), on float32
arrays of each -sizes length. Each prints Go benchmark lines, or "# skip: <why>"
when this Python lacks what it needs:

    python3 adagrad.py -peer numpy -sizes 1024,16384 -time 0.2 -count 1
    python3 adagrad.py -peer torch-sparse -rows 1048576 -dim 64 -indices idx.bin -time 0.2
"""
import argparse
import sys
import time

LR, EPS = 1e-3, 1e-7


def timed(step, seconds, batch):
    step()  # touch the pages, warm the caches
    calls, start = 0, time.perf_counter()
    while True:
        for _ in range(batch):
            step()
        calls += batch
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return calls, elapsed / calls * 1e9


def numpy_step(n):
    import numpy as np
    rng = np.random.default_rng(1)
    x = rng.standard_normal(n, dtype=np.float32)
    s = (rng.random(n, dtype=np.float32) * 10).astype(np.float32)
    g = rng.standard_normal(n, dtype=np.float32)
    t = np.empty_like(x)

    def step():
        np.multiply(g, g, out=t)
        np.add(s, t, out=s)
        np.sqrt(s, out=t)
        np.add(t, np.float32(EPS), out=t)
        np.divide(g, t, out=t)
        np.multiply(t, np.float32(LR), out=t)
        np.subtract(x, t, out=x)
    return step


def torch_step(n, foreach):
    import torch
    torch.set_num_threads(1)
    gen = torch.Generator().manual_seed(1)
    p = torch.nn.Parameter(torch.randn(n, generator=gen))
    p.grad = torch.randn(n, generator=gen)
    opt = torch.optim.Adagrad([p], lr=LR, eps=EPS, foreach=foreach)

    def step():
        opt.step()
    return step


def torch_sparse(args):
    import numpy as np
    import torch
    torch.set_num_threads(1)
    idx = torch.from_numpy(np.fromfile(args.indices, dtype="<i8"))
    table = torch.nn.Parameter(torch.zeros(args.rows, args.dim))
    opt = torch.optim.Adagrad([table], lr=0.01, eps=EPS)
    vals = torch.randn(len(idx), args.dim, generator=torch.Generator().manual_seed(1))
    grad = torch.sparse_coo_tensor(idx.unsqueeze(0), vals, (args.rows, args.dim))

    def step():
        table.grad = grad
        opt.step()
    for _ in range(args.count):
        calls, ns = timed(step, args.time, 1)
        print(f"BenchmarkPeersRows/rows={args.rows}/dim={args.dim}/impl=torch-sparse \t{calls}\t{ns:.1f} ns/op")


def torch_model(args, foreach):
    import torch
    torch.set_num_threads(1)
    sizes = [int(v) for v in open(args.model).read().split(",")]
    gen = torch.Generator().manual_seed(1)
    params = [torch.nn.Parameter(torch.randn(n, generator=gen)) for n in sizes]
    for p in params:
        p.grad = torch.randn(p.shape, generator=gen)
    opt = torch.optim.Adagrad(params, lr=LR, eps=EPS, foreach=foreach)
    name = "torch-foreach" if foreach else "torch"
    for _ in range(args.count):
        calls, ns = timed(opt.step, args.time, 1)
        print(f"BenchmarkPeersModel/tensors={len(sizes)}/impl={name} \t{calls}\t{ns:.1f} ns/op", flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-peer", required=True,
                    choices=["numpy", "torch", "torch-foreach", "torch-sparse", "torch-model", "torch-foreach-model"])
    ap.add_argument("-sizes", default="1024")
    ap.add_argument("-time", type=float, default=0.2)
    ap.add_argument("-count", type=int, default=1)
    ap.add_argument("-rows", type=int, default=0)
    ap.add_argument("-dim", type=int, default=0)
    ap.add_argument("-indices", default="")
    ap.add_argument("-model", default="")
    args = ap.parse_args()
    try:
        if args.peer == "numpy":
            import numpy
        else:
            import torch
    except ImportError as e:
        print(f"# skip: {sys.executable}: {e}")
        return
    if args.peer == "torch-sparse":
        torch_sparse(args)
        return
    if args.peer.endswith("-model"):
        torch_model(args, args.peer == "torch-foreach-model")
        return
    sizes = [int(v) for v in args.sizes.split(",")]
    for _ in range(args.count):
        for n in sizes:
            if args.peer == "numpy":
                step = numpy_step(n)
            else:
                step = torch_step(n, args.peer == "torch-foreach")
            calls, ns = timed(step, args.time, 1 + 4096 // n)
            print(f"BenchmarkPeers/N={n}/impl={args.peer} \t{calls}\t{ns:.1f} ns/op", flush=True)


if __name__ == "__main__":
    main()
