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

    check.mle_decay(mle_decay)               # ✅, 💡 a nudge, or ⏳ not done yet
    check.mle_decay.more_hint()              # the next, more specific hint (never the answer)
    mle_decay = check.mle_decay.choose(mle_decay)

Hints are graded: a wrong answer shows what is wrong and the first, gentlest hint;
:meth:`Exercise.more_hint` reveals the next level on request.

End-of-lesson concept checks are a :class:`Quiz` of :class:`Question` s (multiple
choice or numeric): each answer gets a tick and the explanation, or a nudge and a
chance to try again::

    quiz = check.quiz
    quiz.show()
    quiz.check({"q1": "b", "q2": 0.37})

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
        The first, gentlest hint (a nudge), added to every wrong answer.
    reference : callable, optional
        The reference implementation, used by :meth:`choose` when the learner's
        answer is missing or wrong.
    more_hints : tuple of str
        Further hints, each more specific, revealed one at a time by :meth:`more_hint`.
        None of them should paste the answer.
    """

    name: str
    test: Callable[[Any], None]
    hint: str = ""
    reference: Callable | None = None
    more_hints: tuple = ()
    attempts: list = field(default_factory=list, repr=False)
    hints_shown: int = field(default=0, repr=False)

    def more_hint(self) -> str:
        """Print (and return) the next, more specific hint."""
        levels = [h for h in (self.hint, *self.more_hints) if h]
        if not levels:
            text = f"{HINT} {self.name}: no more hints for this one; compare with the lesson's text above."
        elif self.hints_shown + 1 >= len(levels):
            self.hints_shown = len(levels)
            text = f"{HINT} {self.name} (last hint): {levels[-1]}"
        else:
            self.hints_shown += 1
            text = f"{HINT} {self.name} (hint {self.hints_shown + 1} of {len(levels)}): {levels[self.hints_shown]}"
        _emit(text)
        return text

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


# --------------------------------------------------------------------------- concept checks
@dataclass
class Question:
    """One concept-check question: multiple choice (``options``) or numeric.

    Parameters
    ----------
    prompt : str
    answer : str or float
        The key of the right option, or the right number.
    explanation : str
        Why the answer is right: shown with the tick.
    options : dict key -> text, optional
        For multiple choice.
    tolerance : float
        Relative tolerance for numeric answers.
    hint : str
        A nudge shown with a wrong answer (never the answer itself).
    why_not : dict key -> str, optional
        What is wrong with a specific wrong option (shown when it is picked).
    """

    prompt: str
    answer: Any
    explanation: str
    options: dict | None = None
    tolerance: float = 0.02
    hint: str = ""
    why_not: dict | None = None

    def __post_init__(self):
        if self.options is not None and self.answer not in self.options:
            raise ValueError(f"`answer` must be one of the option keys {list(self.options)} (got {self.answer!r}).")
        if self.options is None and not isinstance(self.answer, (int, float)):
            raise ValueError("a question without `options` needs a numeric `answer`.")

    def text(self, key: str = "") -> str:
        lines = [f"{key}. {self.prompt}" if key else self.prompt]
        for k, v in (self.options or {}).items():
            lines.append(f"    ({k}) {v}")
        if self.options is None:
            lines.append("    (a number)")
        return "\n".join(lines)

    def evaluate(self, response, key: str = "") -> CheckResult:
        name = f"question {key}" if key else "question"
        if response is None or response is Ellipsis:
            return CheckResult("not_done", f"{WAIT} {name}: not answered yet.")
        if self.options is not None:
            r = str(response).strip().strip("()").lower()
            if r not in {str(k).lower() for k in self.options}:
                return CheckResult("wrong", f"{HINT} {name}: answer with one of {', '.join(map(str, self.options))}.")
            right = r == str(self.answer).lower()
        else:
            try:
                r = float(response)
            except (TypeError, ValueError):
                return CheckResult("wrong", f"{HINT} {name}: answer with a number.")
            right = abs(r - float(self.answer)) <= self.tolerance * max(abs(float(self.answer)), 1e-12)
        if right:
            return CheckResult("correct", f"{TICK} {name}: correct. {self.explanation}")
        why = ""
        if self.why_not and self.options is not None:
            why = next((v for k, v in self.why_not.items() if str(k).lower() == r), "")
        nudge = " ".join(t for t in (why, self.hint) if t) or "not quite: reread the section it comes from."
        return CheckResult("wrong", f"{HINT} {name}: {nudge} Try again.")


@dataclass
class Quiz:
    """A lesson's "Check your understanding": questions keyed ``q1``, ``q2``, ..."""

    title: str
    questions: dict

    def show(self) -> None:
        """Print every question (with its options)."""
        _emit(f"{self.title}\n" + "\n\n".join(q.text(k) for k, q in self.questions.items()))

    def evaluate(self, answers: dict) -> list[CheckResult]:
        if not isinstance(answers, dict):
            raise TypeError(f"`answers` must be a dict like {{'q1': 'b'}} (got {type(answers).__name__}).")
        unknown = set(answers) - set(self.questions)
        if unknown:
            raise ValueError(f"`answers` has keys that are not questions: {sorted(unknown)}; "
                             f"the questions are {list(self.questions)}.")
        return [q.evaluate(answers.get(k), k) for k, q in self.questions.items()]

    def check(self, answers: dict) -> int:
        """Check the answers, print a verdict per question, return how many are right."""
        results = self.evaluate(answers)
        for r in results:
            _emit(r.message)
        right = sum(bool(r) for r in results)
        _emit(f"{TICK if right == len(results) else WAIT} {right}/{len(results)} right.")
        return right
