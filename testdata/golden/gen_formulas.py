#!/usr/bin/python3
"""Golden cases for the Keras, TF, optax, d2l, gorgonia and spago presets, from their published update
rules evaluated in numpy float32 and float64, one rounding per operation.

No Keras, TensorFlow or JAX runtime is available where this project is built, so
these are not runs of the frameworks: each rule below is transcribed from the
framework's source (cited) and evaluated operation by operation, which is what those
frameworks compute when nothing is fused. Run from the repository root:

    /usr/bin/python3 testdata/golden/gen_formulas.py

It writes testdata/golden/formulas.json.
"""
import json
import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
STEPS, N = 6, 37


def keras(x, s, g, lr, eps):
    # keras/src/optimizers/adagrad.py (Keras 3): accumulator += square(g);
    # variable -= (lr * g) / sqrt(accumulator + epsilon)
    s = s + g * g
    x = x - (lr * g) / np.sqrt(s + eps)
    return x, s


def tf_v2(x, s, g, lr, eps):
    # tensorflow/core/kernels/training_ops.cc, ApplyAdagradV2:
    # accum += grad.square(); var -= grad * lr / (accum.sqrt() + epsilon)
    s = s + g * g
    x = x - (g * lr) / (np.sqrt(s) + eps)
    return x, s


def optax(x, s, g, lr, eps):
    # optax scale_by_rss: sum_of_squares = square(g) + t;
    # inv = where(t > 0, rsqrt(t + eps), 0) (taken here as 1/sqrt, rounded twice);
    # updates = inv * g; scale_by_learning_rate: updates * -lr; apply_updates: p + u
    s = g * g + s
    one = s.dtype.type(1)
    inv = np.where(s > 0, one / np.sqrt(s + eps), s.dtype.type(0))
    x = x + (inv * g) * (-lr)
    return x, s


def d2l(x, s, g, lr, eps):
    # d2l chapter 12.7, adagrad_2d / adagrad: s += g**2; x -= eta / sqrt(s + eps) * g
    s = s + g * g
    x = x - (lr / np.sqrt(s + eps)) * g
    return x, s


def gorgonia(x, s, g, lr, eps):
    # gorgonia.org/gorgonia v0.9.18 solvers.go, AdaGradSolver.Step (tensor path),
    # one pass per line: g2 = g*g; s += g2; u = s + eps; u = 1/sqrt(u);
    # g *= -lr; u *= g; w += u
    s = s + g * g
    one = s.dtype.type(1)
    u = one / np.sqrt(s + eps)
    x = x + u * (g * (-lr))
    return x, s


def spago(x, s, g, lr, eps):
    # github.com/nlpodyssey/spago v1.1.0 optimizers/adagrad/adagrad.go:
    # m += g*g; x -= (g / (sqrt(m) + eps)) * lr
    s = s + g * g
    x = x - (g / (np.sqrt(s) + eps)) * lr
    return x, s


PRESETS = [
    ("Keras", keras, dict(lr=0.001, eps=1e-7, init=0.1)),
    ("Keras", keras, dict(lr=0.3, eps=1e-7, init=0.0)),
    ("TF", tf_v2, dict(lr=0.1, eps=1e-7, init=0.1)),
    ("Optax", optax, dict(lr=0.05, eps=1e-7, init=0.1)),
    ("Optax", optax, dict(lr=0.5, eps=1e-7, init=0.0)),
    ("Optax", optax, dict(lr=0.5, eps=0.0, init=0.0)),  # s = 0 where g never came: the guard
    ("D2L", d2l, dict(lr=0.4, eps=1e-6, init=0.0)),
    ("Gorgonia", gorgonia, dict(lr=0.001, eps=1e-8, init=0.0)),
    ("Gorgonia", gorgonia, dict(lr=0.3, eps=1e-8, init=0.0)),
    ("Spago", spago, dict(lr=0.01, eps=1e-8, init=0.0)),
    ("Spago", spago, dict(lr=0.3, eps=1e-8, init=0.0)),
]


def bits(a):
    return [int(v) for v in a.view(np.uint32 if a.dtype == np.float32 else np.uint64)]


def main():
    rng = np.random.default_rng(12)
    cases = []
    for dtype in (np.float32, np.float64):
        for preset, rule, hp in PRESETS:
            x0 = rng.standard_normal(N).astype(dtype)
            grads = (rng.standard_normal((STEPS, N)) * 10.0 ** rng.uniform(-3, 1, (STEPS, N))).astype(dtype)
            grads[:, :3] = 0  # the first features never see a gradient: optax's guard
            lr, eps = dtype(hp["lr"]), dtype(hp["eps"])
            x, s = x0.copy(), np.full(N, hp["init"], dtype=dtype)
            with np.errstate(divide="ignore", invalid="ignore"):
                for g in grads:
                    x, s = rule(x, s, g, lr, eps)
            cases.append(dict(preset=preset, dtype=np.dtype(dtype).name, lr=hp["lr"], eps=hp["eps"],
                              init=hp["init"], x0=bits(x0), grads=[bits(g) for g in grads],
                              x=bits(x), sum=bits(s)))
    with open(os.path.join(HERE, "formulas.json"), "w") as f:
        json.dump(dict(numpy=np.__version__, steps=STEPS, n=N, cases=cases), f)
        f.write("\n")


if __name__ == "__main__":
    main()
