# Loaded by every notebook kernel of the test suite (scripts/test.sh sets IPYTHONDIR to tests/ipython).
# After each cell, every open static figure is checked for overlapping or cut-off titles and labels
# (collapse_kit.plots.layout_problems); a problem fails that cell under nbval. Registered before the
# inline backend's own post_execute hook, so it sees the figures before they are shown and closed.
import os as _os

if _os.environ.get("COLLAPSE_KIT_CHECK_FIGURES", "1") == "1":
    def _collapse_kit_check_figures():
        import sys

        if "matplotlib.pyplot" not in sys.modules:
            return
        import matplotlib.pyplot as plt

        from collapse_kit.plots import layout_problems

        problems = []
        for num in plt.get_fignums():
            fig = plt.figure(num)
            if getattr(fig, "_collapse_kit_checked", False):
                continue
            fig._collapse_kit_checked = True
            problems += [f"figure {num}: {p}" for p in layout_problems(fig)]
        if problems:
            raise AssertionError("figure layout problems:\n  " + "\n  ".join(problems))

    get_ipython().events.register("post_execute", _collapse_kit_check_figures)  # noqa: F821
