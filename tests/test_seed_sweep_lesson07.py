"""Seed sweep of lesson 07's fast-loop asserts (sections 2 and 4).

Each function re-runs one assert's computation from ``solutions/07_defences.ipynb`` at the notebook's
sizes for the current mode (``pick``: quick sizes under ``COLLAPSE_KIT_QUICK=1``, as in the suite; full sizes
under ``COLLAPSE_KIT_QUICK=0``), for another seed, and returns whether it holds; 20 seeds in the suite,
``COLLAPSE_KIT_SWEEP_SEEDS=100`` for a one-off pass rate (benchmarks/RESULTS.md). The coordination runs take
the watermark's detection rate as an input, measured in the notebook on the base GPT's 256-token texts (1.0 in
quick and in full mode, measured at stop 14); the sweep checks 1.0 and a lower rate, 0.9. The asserts on the GPT's own texts (detection, fine-tuning) are
not swept: each seed would generate and fine-tune.
"""
import numpy as np
import pytest
from conftest import assert_holds_for_many_seeds

from collapse_kit import defences as D
from collapse_kit.history import values
from collapse_kit.exercises import lesson07 as check
from collapse_kit.runtime import pick

GAMMA, Z = 0.25, 4.0
FPR = float(D.detection_rate(256, GAMMA, GAMMA, Z))     # theory at the longest length, as in the notebook


def nb07_coordination_helps(seed):
    """Section 2: full coordination keeps W2² and the synthetic share below no coordination (at the notebook's
    sizes for the current mode)."""
    n_chains, generations = pick(full=600, quick=200), pick(full=30, quick=12)
    ok = True
    for tpr in (0.9, 1.0):
        coord = D.coordination_run((0.0, 0.5, 0.9, 1.0), tpr=tpr, fpr=FPR, n_chains=n_chains, generations=generations,
                                   seed=seed)
        labels = list(dict.fromkeys(coord["strategy"].astype(str)))
        none, full = (values(coord, "W2²", lab)[:, -1] for lab in (labels[0], labels[-1]))
        share = {lab: values(coord, "synthetic share", lab)[:, -1].mean() for lab in labels}
        ok &= bool(none.mean() - full.mean() > 3 * np.sqrt(none.var() / len(none) + full.var() / len(full))
                   and share[labels[-1]] < share[labels[0]] - 0.3)
    return ok


def nb07_min_share_meets_the_target(seed):
    """Exercise 2's check: the loop with the computed share keeps the synthetic share at 25% (at the
    notebook's sizes for the current mode)."""
    ok = True
    for tpr in (0.9, 1.0):
        p = check.reference_min_share(0.2, tpr, FPR, 0.25)
        if p is None:
            continue
        run = D.coordination_run((p,), tpr=tpr, fpr=FPR, n_chains=pick(full=400, quick=150), generations=3, seed=seed)
        got = values(run, "synthetic share", list(dict.fromkeys(run["strategy"].astype(str)))[-1])[:, 1:]
        ok &= bool(abs(got.mean() - 0.25) < 4 * got.std() / np.sqrt(got.size) + 0.01)
    return ok


def nb07_verifier_two_phases(seed):
    """Section 4: verified generation 1 improves; the fit is pulled to the verifier's centre, not the truth
    (at the notebook's sizes for the current mode)."""
    ver = D.verifier_run(biases=(0.0, 0.2, 0.4), threshold=0.7, n_chains=pick(full=1000, quick=300),
                         generations=pick(full=20, quick=8), seed=seed)
    arm = "replace + verifier-bias=0.2"
    err0 = values(ver, "test error", "replace")[:, 0]
    err = values(ver, "test error", arm)
    dist = values(ver, "distance to center.verifier-bias=0.2", arm)
    sig = lambda d: d.mean() > 3 * d.std() / np.sqrt(len(d))  # noqa: E731
    ok = sig(err[:, 0] - err[:, 1]) and dist[:, -1].mean() < 0.5 * dist[:, 0].mean() and sig(err[:, -1] - dist[:, -1])
    for b, sign in ((0.2, 1), (0.4, -1)):
        ok &= sig(sign * (err0 - values(ver, "test error", f"replace + verifier-bias={b:g}")[:, -1]))
    return bool(ok)


SWEEP = [nb07_coordination_helps, nb07_min_share_meets_the_target, nb07_verifier_two_phases]


@pytest.mark.parametrize("check_fn", SWEEP, ids=lambda f: f.__name__)
def test_lesson07_fast_asserts_hold_for_many_seeds(check_fn):
    assert_holds_for_many_seeds(check_fn)
