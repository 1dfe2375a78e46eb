#!/usr/bin/env python3
"""Fits Q in exp(r) = 1 + r + r^2 Q(r), |r| <= ln2/2, for VectorMath's exp, expm1 and expNegAbs.

Minimax for the relative error of exp(r) by Lawson's iteration (iteratively reweighted least
squares) on 4000 Chebyshev points; prints the largest relative error before rounding and the
coefficients rounded to float32, lowest power first (VectorMath's EQ4 .. EQ0).
Needs numpy and mpmath (not part of the build). Usage: python3 docs/exp-minimax.py [DEGREE]
(default 4).
"""
import sys

import mpmath as mp
import numpy as np

mp.mp.dps = 40
deg = int(sys.argv[1]) if len(sys.argv) > 1 else 4
half = float(mp.log(2) / 2) * 1.0005  # a little beyond ln2/2: the reduced argument's rounding
xs = np.cos(np.linspace(0, np.pi, 4000)) * half
xs = xs[np.abs(xs) > 1e-6]
target = np.array([float((mp.exp(mp.mpf(x)) - 1 - mp.mpf(x)) / mp.mpf(x) ** 2) for x in xs])
# an error d in Q is an error r^2 d in exp(r): relative, r^2 d / exp(r)
weight = np.array([float(mp.mpf(x) ** 2 / mp.exp(mp.mpf(x))) for x in xs])
vander = np.vander(xs, deg + 1, increasing=True)
w = np.ones_like(xs)
for _ in range(300):
    root = np.sqrt(w)
    coef, *_ = np.linalg.lstsq(vander * (weight * root)[:, None], target * weight * root, rcond=None)
    err = (vander @ coef - target) * weight
    w = w * np.abs(err)
    w /= w.sum()
print("largest relative error %.3e (half an ulp of 1: %.3e)" % (np.abs(err).max(), 2.0 ** -24))
for i, c in enumerate(coef):
    print("r^%d: %.10e" % (i, np.float32(c)))
