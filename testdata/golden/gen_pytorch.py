#!/usr/bin/python3
"""Golden cases for the PyTorch preset, from real PyTorch 1.13 (Debian's python3-torch).

Run from the repository root:  /usr/bin/python3 testdata/golden/gen_pytorch.py
(install torch with `apt-get install python3-torch`). It runs itself twice: once with
the kernels torch picks for this CPU (AVX2 or AVX512) and once with
ATEN_CPU_CAPABILITY=default (the scalar kernels), and writes
testdata/golden/pytorch-<capability>.json (the cases) and .bin.gz (their numbers).

Every case starts from the same parameters and feeds the same per-step gradients to
torch.optim.Adagrad for STEPS steps, over N elements (not a multiple of any vector
width, so vector tails are exercised), then records the final parameters and the
state_sum. The single-tensor and the foreach paths are both run.
"""
import gzip
import json
import os
import platform
import subprocess
import sys

import torch

STEPS = 20
N = 1003
HERE = os.path.dirname(os.path.abspath(__file__))

CONFIGS = [
    ("defaults", dict(lr=0.01)),
    ("lr_decay", dict(lr=0.05, lr_decay=0.01)),
    ("weight_decay", dict(lr=0.01, weight_decay=0.1)),
    ("maximize", dict(lr=0.01, maximize=True)),
    ("initial_accumulator", dict(lr=0.01, initial_accumulator_value=0.1)),
    ("eps", dict(lr=0.1, eps=1e-3)),
    ("all", dict(lr=0.03, lr_decay=0.02, weight_decay=0.05, maximize=True,
                 initial_accumulator_value=0.25, eps=1e-6)),
]


def inputs(dtype, seed):
    gen = torch.Generator().manual_seed(seed)
    x0 = torch.randn(N, generator=gen, dtype=torch.float64).to(dtype)
    grads = []
    for _ in range(STEPS):
        scale = 10.0 ** (torch.rand(N, generator=gen, dtype=torch.float64) * 4 - 3)
        g = torch.randn(N, generator=gen, dtype=torch.float64) * scale
        g[torch.rand(N, generator=gen) < 0.05] = 0.0  # some features get no gradient
        grads.append(g.to(dtype))
    return x0, grads


def run(x0, grads, foreach, cfg):
    p = torch.nn.Parameter(x0.clone())
    opt = torch.optim.Adagrad([p], foreach=foreach, **cfg)
    for g in grads:
        p.grad = g.clone()
        opt.step()
    return p.detach().clone(), opt.state[p]["sum"].clone()


def capability():
    if hasattr(torch.backends, "cpu"):
        return torch.backends.cpu.get_cpu_capability()
    line = [l for l in torch.__config__.show().splitlines() if "CPU capability" in l][0]
    return line.split(":")[1].strip()


def main():
    if "--child" not in sys.argv:
        for env in ({}, {"ATEN_CPU_CAPABILITY": "default"}):
            subprocess.run([sys.executable, __file__, "--child"], env={**os.environ, **env}, check=True)
        return
    torch.set_num_threads(1)
    blob = bytearray()

    def put(t):
        off = len(blob)
        blob.extend(t.contiguous().numpy().tobytes())  # little-endian on every CPU we run
        return off

    cases = []
    for dtype, name, seed in ((torch.float32, "float32", 1), (torch.float64, "float64", 2)):
        x0, grads = inputs(dtype, seed)
        x0_off = put(x0)
        g_off = put(torch.stack(grads))
        for label, cfg in CONFIGS:
            for foreach in (False, True):
                x, s = run(x0, grads, foreach, cfg)
                cases.append(dict(
                    name=f"{name}/{label}/{'foreach' if foreach else 'single'}",
                    dtype=name, foreach=foreach, config=cfg,
                    x0=x0_off, grads=g_off, x=put(x), sum=put(s)))
    cap = capability()
    base = "pytorch-" + cap.replace(" ", "_")
    meta = dict(torch=torch.__version__, cpu_capability=cap, machine=platform.machine(),
                data=base + ".bin.gz", steps=STEPS, n=N, cases=cases)
    with open(os.path.join(HERE, base + ".json"), "w") as f:
        json.dump(meta, f, indent=1)
        f.write("\n")
    with gzip.GzipFile(os.path.join(HERE, base + ".bin.gz"), "wb", mtime=0) as f:
        f.write(bytes(blob))


if __name__ == "__main__":
    main()
