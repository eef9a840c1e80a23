"""Brent's root finder, stepping exactly as R's ``uniroot()`` does.

metafor finds the Paule–Mandel τ² and the Q-profile CI bounds with ``uniroot(tol =
.Machine$double.eps^0.25)``, i.e. only to about 1e-4. Matching metafor to 1e-6 therefore
means taking the *same* steps, not a more precise root: this follows Brent (1973) with
the step rules of R's C routine ``R_zeroin2`` (bisection fallback, inverse quadratic or
secant interpolation, minimum step ``tol_act``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

EPS = 2.220446049250313e-16
#: metafor's ``tol`` for uniroot, ``.Machine$double.eps^0.25``.
R_UNIROOT_TOL = EPS**0.25


@dataclass(frozen=True, slots=True)
class Root:
    """Where the search stopped and whether it met the tolerance within ``maxiter``."""

    root: float
    iterations: int
    converged: bool


def uniroot(
    f: Callable[[float], float],
    lower: float,
    upper: float,
    *,
    f_lower: float | None = None,
    f_upper: float | None = None,
    tol: float = R_UNIROOT_TOL,
    maxiter: int = 1000,
) -> Root:
    """Find a sign change of ``f`` in [lower, upper] as R ``uniroot(f, c(lower, upper))``.

    The caller guarantees ``f(lower)`` and ``f(upper)`` differ in sign (metafor checks this
    before calling uniroot).
    """
    a, b = lower, upper
    fa = f(a) if f_lower is None else f_lower
    fb = f(b) if f_upper is None else f_upper
    if fa == 0.0:
        return Root(a, 0, True)
    if fb == 0.0:
        return Root(b, 0, True)
    c, fc = a, fa
    for iteration in range(1, maxiter + 2):
        previous_step = b - a
        if abs(fc) < abs(fb):
            a, b, c = b, c, b
            fa, fb, fc = fb, fc, fb
        tol_act = 2 * EPS * abs(b) + tol / 2
        new_step = (c - b) / 2
        if abs(new_step) <= tol_act or fb == 0.0:
            return Root(b, iteration - 1, True)
        if abs(previous_step) >= tol_act and abs(fa) > abs(fb):
            new_step = _interpolated_step(a, b, c, fa, fb, fc, new_step, previous_step, tol_act)
        if abs(new_step) < tol_act:
            new_step = tol_act if new_step > 0 else -tol_act
        a, fa = b, fb
        b += new_step
        fb = f(b)
        if (fb > 0 and fc > 0) or (fb < 0 and fc < 0):
            c, fc = a, fa
    return Root(b, maxiter, False)


def _interpolated_step(
    a: float,
    b: float,
    c: float,
    fa: float,
    fb: float,
    fc: float,
    bisection: float,
    previous_step: float,
    tol_act: float,
) -> float:
    """Secant (two points) or inverse quadratic (three) step, if it beats bisection."""
    cb = c - b
    if a == c:
        t1 = fb / fa
        p = cb * t1
        q = 1.0 - t1
    else:
        qa = fa / fc
        t1 = fb / fc
        t2 = fb / fa
        p = t2 * (cb * qa * (qa - t1) - (b - a) * (t1 - 1.0))
        q = (qa - 1.0) * (t1 - 1.0) * (t2 - 1.0)
    if p > 0:
        q = -q
    else:
        p = -p
    if p < (0.75 * cb * q - abs(tol_act * q) / 2) and p < abs(previous_step * q / 2):
        return p / q
    return bisection
