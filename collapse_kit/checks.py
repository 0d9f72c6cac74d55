"""Exercise checkers: a green tick for a right answer, a hint for a wrong one,
and a gentle "not done yet" for an untouched stub.

An exercise in a lesson is always a function whose body the learner writes.
The untouched stub raises ``NotImplementedError``; :meth:`Exercise.check`
catches it, so a lesson never stops on a skipped exercise, and
:meth:`Exercise.choose` hands later cells the reference implementation
instead::

    def mle_decay(M):
        ### BEGIN SOLUTION
        return (M - 1) / M
        ### END SOLUTION

    check.mle_decay(mle_decay)               # ✅, 💡 hint, or ⏳ not done yet
    mle_decay = check.mle_decay.choose(mle_decay)

Per-lesson exercises live in :mod:`collapse_kit.exercises`.
"""
from __future__ import annotations

import traceback
from dataclasses import dataclass, field
from typing import Any, Callable

TICK = "✅"
HINT = "💡"
WAIT = "⏳"


class CheckFailed(AssertionError):
    """Raised by a test to reject an answer; its message is shown as the hint."""


@dataclass
class CheckResult:
    status: str  # "correct" | "wrong" | "not_done" | "error"
    message: str

    def __bool__(self) -> bool:
        return self.status == "correct"

    def __repr__(self) -> str:
        return f"CheckResult({self.status!r})"

    def _ipython_display_(self) -> None:  # the verdict is already printed; show nothing twice
        pass


def _emit(text: str) -> None:
    print(text)


@dataclass
class Exercise:
    """One exercise: a name, a test, a hint and a reference implementation.

    Parameters
    ----------
    name : str
        Shown to the learner (e.g. ``"one generation of the loop"``).
    test : callable(candidate) -> None
        Raises ``AssertionError`` / :class:`CheckFailed` with a specific hint when
        the candidate is wrong; returns normally when it is right.
    hint : str
        General hint added to every wrong answer.
    reference : callable, optional
        The reference implementation, used by :meth:`choose` when the learner's
        answer is missing or wrong.
    """

    name: str
    test: Callable[[Any], None]
    hint: str = ""
    reference: Callable | None = None
    attempts: list = field(default_factory=list, repr=False)

    def evaluate(self, candidate) -> CheckResult:
        """Run the test quietly and return a :class:`CheckResult`."""
        if candidate is None or candidate is Ellipsis:
            return CheckResult("not_done", f"{WAIT} {self.name}: not done yet. Write your answer above, run "
                                           "that cell, then run this check again.")
        try:
            self.test(candidate)
        except NotImplementedError:
            return CheckResult("not_done", f"{WAIT} {self.name}: not done yet. Replace "
                                           "`raise NotImplementedError()` with your code, run that cell, then run "
                                           "this check again. (Later cells use the reference solution meanwhile.)")
        except AssertionError as exc:
            msg = str(exc).strip() or "that is not quite right."
            extra = f"\n   Hint: {self.hint}" if self.hint else ""
            return CheckResult("wrong", f"{HINT} {self.name}: {msg}{extra}")
        except Exception as exc:  # the learner's code crashed: show the error, not a traceback wall
            frames = [f for f in traceback.extract_tb(exc.__traceback__) if "collapse_kit" not in f.filename]
            where = f" (line {frames[-1].lineno} of {frames[-1].name})" if frames else ""
            extra = f"\n   Hint: {self.hint}" if self.hint else ""
            return CheckResult("error", f"{HINT} {self.name}: your code raised {type(exc).__name__}: {exc}"
                                        f"{where}.{extra}")
        return CheckResult("correct", f"{TICK} {self.name}: correct!")

    def check(self, candidate) -> CheckResult:
        """Check ``candidate``, print the verdict, and return it (truthy when correct)."""
        result = self.evaluate(candidate)
        self.attempts.append(result.status)
        _emit(result.message)
        return result

    __call__ = check

    def choose(self, candidate):
        """Return ``candidate`` if it passes, else the reference implementation."""
        result = self.evaluate(candidate)
        if result:
            return candidate
        if self.reference is None:
            raise RuntimeError(f"exercise {self.name!r} has no reference implementation to fall back on.")
        _emit(f"   (using collapse_kit's reference for '{self.name}' so the lesson can go on)")
        return self.reference


def expect_close(actual, expected, *, rtol: float = 1e-6, atol: float = 1e-9, what: str = "your answer") -> None:
    """Raise :class:`CheckFailed` unless ``actual`` is close to ``expected`` (arrays allowed)."""
    import numpy as np

    try:
        a = np.asarray(actual, dtype=float)
    except (TypeError, ValueError):
        raise CheckFailed(f"{what} should be a number or an array of numbers, got {type(actual).__name__}.") from None
    e = np.asarray(expected, dtype=float)
    if a.shape != e.shape:
        raise CheckFailed(f"{what} has shape {a.shape}, expected {e.shape}.")
    if not np.allclose(a, e, rtol=rtol, atol=atol):
        if a.size == 1:
            raise CheckFailed(f"{what} is {a.item():.6g}, expected about {e.item():.6g}.")
        raise CheckFailed(f"{what} differs from the expected values (max abs difference "
                          f"{np.max(np.abs(a - e)):.3g}).")
