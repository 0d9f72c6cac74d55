"""Every interactive explorer of the course, in one place.

An explorer is a few controls (:mod:`collapse_kit.widgets`) tied to a figure function of
:mod:`collapse_kit.plots`: moving a control recomputes the figure from a run of the
generational loop (or of the exact Gaussian engine, or a cached grid of runs). Tests drive
them headlessly by setting ``control.value``.
"""
from __future__ import annotations

from .strategies import REAL_FRACTION

# --------------------------------------------------------------------------- gaussian (lessons 00-01)
def _gaussian_choices():
    from .strategies import WORKFLOWS, make_strategy

    return {WORKFLOWS[0].label: lambda lam: WORKFLOWS[0], WORKFLOWS[1].label: lambda lam: WORKFLOWS[1],
            "real fraction (fixed real set)": lambda lam: make_strategy(real_fraction=lam),
            "real fraction (fresh real data)": lambda lam: make_strategy(real_fraction=lam, fresh_real=True)}


def gaussian_explorer(n_chains: int = 1000, seed: int = 0, **initial):
    """Lesson 01's explorer: many Gaussian chains (exact engine), with sample size M (2–1000),
    generations (1–1000), estimator, strategy and real fraction λ (enabled for the real-fraction
    strategies). ``last_result`` holds ``mean``, ``variance`` (arrays chains × generations) and ``strategy``."""
    import numpy as np

    from . import gaussian as G
    from . import widgets as w
    from .plots import gaussian_chains_figure

    choices = _gaussian_choices()
    controls = {
        "sample_size": w.int_slider("sample size M", initial.get("sample_size", 100), 2, 1000),
        "generations": w.int_slider("generations", initial.get("generations", 200), 1, 1000),
        "estimator": w.toggle("estimator", G.ESTIMATORS, initial.get("estimator", "mle")),
        "strategy": w.dropdown("strategy", choices, initial.get("strategy", next(iter(choices)))),
        REAL_FRACTION: w.float_slider("real fraction λ", initial.get(REAL_FRACTION, 0.1), 0.0, 1.0, 0.05),
    }

    def _sync_lambda(change=None):
        choose = choices[controls["strategy"].value]
        controls[REAL_FRACTION].disabled = choose(0.5) == choose(0.0)

    controls["strategy"].observe(_sync_lambda, names="value")
    _sync_lambda()

    def draw(sample_size, generations, estimator, strategy, real_fraction):
        strat = choices[strategy](real_fraction)
        chains = n_chains
        if not strat.fresh_real and 0 < strat.k_real(sample_size) < sample_size:
            # re-drawing subsets of a fixed real set costs chains × generations × M: cap the work so the
            # explorer stays interactive (the panel title shows how many chains were run)
            chains = int(min(n_chains, max(100, 5e6 // (generations * sample_size))))
        gen0 = G._real_gen0(np.random.default_rng([seed, 0]), chains, sample_size, 0.0, 1.0)
        mean, var = G._exact_arrays(strat, gen0, generations, sample_size, G._ddof(estimator), 1.0, 0.0, 1.0,
                                    np.random.default_rng([seed, strat.stream_key]))
        fig = gaussian_chains_figure(mean, var, strategy=strat, sample_size=sample_size, estimator=estimator,
                                     seed=seed)
        return fig, {"mean": mean, "variance": var, "strategy": strat}

    return w.Explorer(controls, draw, title="Gaussian collapse explorer: fit → sample → refit, many chains")


# --------------------------------------------------------------------------- discrete and mixtures (lesson 02)
def minority_explorer(n_chains: int = 30, generations: int = 25, seed: int = 0):
    """Lesson 02's explorer: the minority mode of a two-mode mixture across generations, run through
    :func:`~collapse_kit.loop.run_generations` with a :class:`~collapse_kit.mixture.GaussianMixtureModel`.

    Controls: minority weight (0.02–0.5; the ``rare_mode`` population otherwise), sample size M
    (20–300), strategy (replace, accumulate, real fraction with a fixed real set or fresh real data)
    and the real fraction λ (enabled for the real-fraction strategies). ``last_result`` holds the
    history and the population.
    """
    from . import mixture as X
    from . import widgets as w
    from .history import values
    from .loop import run_generations
    from .plots import minority_figure

    base = X.population("rare_mode")
    choices = _gaussian_choices()
    controls = {
        "minority_weight": w.float_slider("minority weight", base.weights[base.minority], 0.02, 0.5, 0.01),
        "sample_size": w.int_slider("sample size M", 100, 20, 300, 10),
        "strategy": w.dropdown("strategy", choices, next(iter(choices))),
        REAL_FRACTION: w.float_slider("real fraction λ", 0.1, 0.0, 1.0, 0.05),
    }

    def _sync_lambda(change=None):
        choose = choices[controls["strategy"].value]
        controls[REAL_FRACTION].disabled = choose(0.5) == choose(0.0)

    controls["strategy"].observe(_sync_lambda, names="value")
    _sync_lambda()

    def draw(minority_weight, sample_size, strategy, real_fraction):
        pop = X.MixtureParams((1 - minority_weight, minority_weight), base.means, base.sds)
        strat = choices[strategy](real_fraction)
        hist = run_generations(X.GaussianMixtureModel, real_sampler=pop.sampler(), real_size=sample_size,
                               sample_size=sample_size, generations=generations, n_chains=n_chains,
                               strategies=strat, metrics=X.loop_metrics(pop), seeds=seed)
        fig = minority_figure({strat.label: values(hist, "minority share")}, real_share=minority_weight,
                              sample_size=sample_size, seed=seed)
        return fig, {"history": hist, "population": pop, "strategy": strat}

    return w.Explorer(controls, draw, title="A minority mode across generations (mixture fitted by EM)")



# --------------------------------------------------------------------------- images (lesson 03)
def image_mix_explorer(real_fractions=None, *, imbalance: float = 0.1, generations: int | None = None,
                       n_chains: int | None = None, seed: int = 0, vae: dict | None = None, n_show: int = 16,
                       progress: bool = True):
    """Lesson 03's mix-ratio explorer: real fraction λ (fixed or fresh real digits) → rare-digit share,
    recognised share and latent spread per generation (means over the run's chains), against replace, with
    the samples of every generation (the first chain's).

    The runs are precomputed by :func:`collapse_kit.images.prepare_image_runs` (the loop with a store in
    the cache folder: computed on first use, loaded afterwards); only the λ of ``real_fractions``
    (default: :func:`collapse_kit.images.lesson_settings`: 0, 0.25, 0.5 in full mode, 0 and 0.5 in quick
    mode) exist, and the explorer says so.
    ``last_result`` holds the plotted curves and the strategy's label.
    """
    import numpy as np

    from . import images as I
    from . import widgets as w
    from .plots import image_mix_figure
    from .strategies import Strategy, real_fraction_grid

    lesson = I.lesson_settings()
    lams = sorted(set(lesson["real_fractions"] if real_fractions is None else real_fractions))
    generations = lesson["generations"] if generations is None else generations
    n_chains = lesson["n_chains"] if n_chains is None else n_chains
    vae = dict(lesson["vae"] if vae is None else vae)
    history, folder = I.prepare_image_runs(lams, imbalance=imbalance, generations=generations, n_chains=n_chains,
                                           seed=seed, vae=vae, progress=progress)
    x, _ = I.load_digits(imbalance, seed=seed)
    real_minority = float(I.class_shares(x, I.train_classifier(seed))[list(I.MINORITY)].sum())

    def strategy_of(lam, fresh):
        return Strategy() if lam == 0 else real_fraction_grid([lam], fresh)[0]

    samples = {}  # (λ, fresh) -> first n_show images of every generation (loaded once)
    g0 = I.stored_samples(folder, None, 0, seed)[0, :n_show]
    for lam in lams:
        for fresh in ((False,) if lam == 0 else (False, True)):
            s = strategy_of(lam, fresh)
            samples[lam, fresh] = [g0] + [I.stored_samples(folder, s, g, seed)[0, :n_show]
                                          for g in range(1, generations + 1)]

    controls = {REAL_FRACTION: w.dropdown("real fraction λ (precomputed)", lams, lams[-1]),
                "fresh": w.toggle("real digits", ["fixed set", "fresh draws"])}

    def draw(real_fraction, fresh):
        fresh = fresh == "fresh draws" and real_fraction > 0
        s = strategy_of(real_fraction, fresh)
        fig, result = image_mix_figure(history, s.label, samples[real_fraction, fresh],
                                       baseline=None if real_fraction == 0 else Strategy().label,
                                       real_minority=real_minority, n_show=n_show)
        fig.suptitle(f"imbalance {imbalance}, {generations} generations, mean of {n_chains} chains; precomputed λ: "
                     f"{', '.join(f'{v:g}' for v in lams)} (fixed and fresh)", fontsize=9, y=1.0)
        result["strategy"] = s.label
        return fig, result

    return w.Explorer(controls, draw, title="Images: how much real data keeps every digit? "
                                            f"(precomputed λ = {', '.join(f'{v:g}' for v in lams)})")


# --------------------------------------------------------------------------- strategy comparisons and regression (lesson 04)
def _mix_choices():
    from .strategies import WORKFLOWS, make_strategy

    out = {s.label: (lambda s: lambda lam, fresh: s)(s) for s in WORKFLOWS[:3]}
    out["real fraction λ"] = lambda lam, fresh: make_strategy(real_fraction=lam, fresh_real=fresh)
    return out


MIX_WORK_BUDGET = 2e7  # training items × fitting passes per redraw (about 0.3 s on a quiet core)


def _mix_chains(strategy, want, sample_size, generations, n_iter, mixture, budget=MIX_WORK_BUDGET):
    """Chains the explorer can afford: ``want``, halved (down to 16) while the work (training items
    summed over generations × chains, × EM steps for the mixture) exceeds ``budget``."""
    items = sum(strategy.training_size(g, sample_size, sample_size) for g in range(generations + 1))
    items *= n_iter if mixture else 1
    c = want
    while c > 16 and c * items > budget:
        c = max(16, c // 2)
    if c * items > budget:
        raise ValueError(f"the {'mixture' if mixture else 'Gaussian'} with '{strategy.label}', M = {sample_size} and {generations} generations "
                         f"is about {c * items / budget:.1f}× too slow to redraw interactively: lower `sample size "
                         f"M` or `generations`, or pick another strategy.")
    return c


def mix_explorer(*, model: str = "gaussian", strategy: str = "real fraction λ", real_fraction: float = 0.1,
                 fresh_real: bool = False, sample_size: int = 50, generations: int = 50, temperature: float = 1.0,
                 n_chains: int | None = None, seed: int = 0, auto_draw: bool = True):
    """Lesson 04's mix-ratio explorer: real fraction λ, sample size M, generations, temperature τ,
    the workflow, fixed or fresh real data and the model; every redraw is one
    :func:`~collapse_kit.loop.run_generations`. ``n_chains`` (default 200 for the Gaussian, 64 for the
    mixture) is fixed when built. ``last_result`` holds ``history``, ``strategy``, ``median``,
    ``final_median``, ``collapsed``, ``effective_real_fraction`` and ``notes``."""
    import numpy as np
    import ipywidgets as W

    from . import widgets as w
    from ._validate import check_choice, check_float, check_fraction, check_int, check_seed
    from .compare import MODELS, lesson_model
    from .history import values
    from .loop import run_generations
    from .plots import mix_figure
    from .strategies import WORKFLOWS

    choices = _mix_choices()
    check_choice("model", model, MODELS)
    check_choice("strategy", strategy, choices)
    check_fraction(REAL_FRACTION, real_fraction)
    check_int("sample_size", sample_size, low=2, high=500)
    check_int("generations", generations, low=1, high=200)
    check_float("temperature", temperature, low=0.5, high=1.5)
    seed = check_seed("seed", seed)
    chains = {"gaussian": 200, "mixture": 64}
    if n_chains is not None:
        chains = dict.fromkeys(chains, check_int("n_chains", n_chains, low=1))
    controls = {
        REAL_FRACTION: w.float_slider("real fraction λ", real_fraction, 0.0, 1.0, step=0.05),
        "sample_size": w.int_slider("sample size M", sample_size, 2, 500),
        "generations": w.int_slider("generations", generations, 1, 200),
        "temperature": w.float_slider("temperature τ", temperature, 0.5, 1.5, step=0.05),
        "strategy": w.dropdown("workflow", list(choices), strategy),
        "fresh_real": W.Checkbox(value=bool(fresh_real), description="fresh real data each generation", indent=False),
        "model": w.toggle("model", MODELS, model),
    }

    def draw(real_fraction, sample_size, generations, temperature, strategy, fresh_real, model):
        choose = choices[strategy]
        strat = choose(real_fraction, bool(fresh_real))
        uses_lam = choose(0.5, False) != choose(0.0, False)
        lm = lesson_model(model, temperature, n_iter=20)
        want = chains[model]
        c = _mix_chains(strat, want, sample_size, generations, 20, lm.population is not None)
        keep = {}

        def last_models(ctx):
            if ctx.generation == generations:
                keep["model"] = ctx.model

        hist = run_generations(lm.make_model, real_sampler=lm.real_sampler, real_size=sample_size,
                               sample_size=sample_size, strategies=strat, generations=generations, n_chains=c,
                               metrics=lm.metrics(), seeds=seed, on_generation=last_models)
        mdl, n_show = keep["model"], min(5, c)
        if lm.population is not None:
            finals = [(mdl.weights_[i], mdl.means_[i], mdl.vars_[i]) for i in range(n_show)]
        else:
            finals = [(np.ones(1), mdl.mu_[i:i + 1], mdl.sigma2_[i:i + 1]) for i in range(n_show)]
        notes = [f"{c} chains instead of {want} to stay interactive"] if c < want else []
        eff = strat.effective_real_fraction(sample_size)
        if uses_lam and abs(eff - real_fraction) > 1e-9:
            notes.append(f"λM = {real_fraction * sample_size:.3g} is not whole: using "
                         f"{strat.k_real(sample_size)} real of {sample_size} (λ = {eff:.3g})")
        if not uses_lam:
            notes.append(f"λ is not used by '{strat.label}' (only by 'real fraction λ')")
        elif eff == 0:
            notes.append(f"no real items: the same as '{WORKFLOWS[0].label}'")
        elif eff == 1:
            notes.append("λ = 1: every generation trains on real data only")
        final_med = float(np.median(values(hist, "spread kept")[:, -1]))
        if final_med < 1e-4:
            notes.append(f"collapsed: median spread {final_med:.1e} is below the plot's floor 1e-4")
        elif final_med < 1e-2:
            notes.append(f"collapsed: the median chain kept {final_med:.1%} of the spread")
        title = f"{model}: {strat.label}, M = {sample_size}, τ = {temperature:g}, {c} chains"
        fig, q = mix_figure(hist, finals, lm.pdf, title=title, notes=notes, temperature=temperature,
                            x_range=(-4.0, 6.0) if lm.population is not None else (-4.0, 4.0))
        return fig, dict(history=hist, strategy=strat, median=q[2], final_median=final_med,
                         collapsed=final_med < 1e-2, effective_real_fraction=eff if uses_lam else 0.0, notes=notes)

    return w.Explorer(controls, draw, title="Mix-ratio explorer: how much real data keeps the model alive?",
                      auto_draw=auto_draw)


# --------------------------------------------------------------------------- language models (lessons 05-06)
def finetune_explorer(results, grid=None):
    """Lesson 06: pick an arm (real fraction λ) and a generation of a fine-tuning run
    (:func:`collapse_kit.finetune.run`, or the grid of :func:`collapse_kit.finetune.prepare_grid`)
    and see :func:`collapse_kit.plots.finetune_generation`.

    Only arms and generations that the run computed can be chosen; the title says which
    real fractions exist and which of ``grid`` (default :data:`collapse_kit.finetune.GRID`)
    are still missing, and how to compute them ahead (``ft.prepare_grid``).
    The list of computed real fractions is kept in ``explorer.available``.
    """
    from .finetune import GRID
    from .plots import finetune_generation
    from .widgets import Explorer, dropdown, int_slider

    arms = sorted(float(a) for a in set(results.ppl[REAL_FRACTION]))
    if not arms:
        raise ValueError("`results` holds no finished generation yet; run() first.")
    grid = GRID if grid is None else tuple(grid)
    missing = [g for g in grid if not any(abs(g - a) < 1e-9 for a in arms)]
    g_max = int(results.ppl["generation"].max())
    controls = {REAL_FRACTION: dropdown("real fraction λ", arms, arms[0]),
                "generation": int_slider("generation", g_max, 0, g_max)}
    have = ", ".join(f"{a:g}" for a in arms)
    note = (f"computed: λ ∈ {{{have}}}, generations 0-{g_max}"
            + (f"; not computed yet: λ ∈ {{{', '.join(f'{m:g}' for m in missing)}}} "
               "(call ft.prepare_grid(SETUP) ahead of the session, then rebuild this explorer)" if missing else ""))
    ex = Explorer(controls, lambda real_fraction, generation: finetune_generation(results, real_fraction, generation),
                  title=f"Recursive fine-tuning: what each generation trained on<br><small>{note}</small>")
    ex.available, ex.missing = arms, missing
    return ex


def decoding_explorer(model, tok, prompt: str, *, new_tokens: int = 120, n_show: int = 20):
    """Lesson 05: an explorer of temperature, top-k and top-p: the next-character distribution and a sample.

    Moving a slider recomputes the distribution of the character that follows
    ``prompt`` (bars, the ``n_show`` likeliest under temperature 1 in grey, the
    decoding setting in colour) and samples ``new_tokens`` characters with seed 0.
    ``top_k = 0`` and ``top_p = 1`` switch those filters off.
    """
    import matplotlib.pyplot as plt
    import numpy as np

    from .gpt import block_size_of, generate, next_token_distribution
    from .widgets import Explorer, float_slider, int_slider

    base = next_token_distribution(model, tok, prompt)
    order = np.argsort(base)[::-1][:n_show]
    labels = [repr(tok.chars[i])[1:-1] or "␣" for i in order]
    prompt_ids = tok.encode(prompt, errors="ignore")[None, -(block_size_of(model) // 2):]

    def draw(temperature, top_k, top_p):
        k = int(top_k) or None
        p = None if top_p >= 1.0 else float(top_p)
        probs = next_token_distribution(model, tok, prompt, temperature=temperature, top_k=k, top_p=p)
        text = tok.decode(generate(model, prompt_ids, new_tokens, temperature=temperature, top_k=k, top_p=p,
                                   seed=0)[0])
        fig, ax = plt.subplots(figsize=(9, 3.6))
        x = np.arange(len(order))
        ax.bar(x - 0.2, base[order], width=0.4, color="0.7", label="temperature 1, no filter")
        ax.bar(x + 0.2, probs[order], width=0.4, color="C0", label="this setting")
        ax.set_xticks(x, labels)
        ax.set_ylabel("probability of the next character")
        kept = int(np.count_nonzero(probs > 0))
        ax.set_title(f"next character after the prompt · temperature {temperature:.2f}, top-k {k or 'off'}, "
                     f"top-p {p or 'off'} · {kept} characters possible")
        ax.legend(loc="upper right")
        shown = text if len(text) <= 120 else text[:117] + "..."
        fig.text(0.01, -0.08, "sample: " + shown.replace("\n", " ⏎ "), fontsize=9, family="monospace")
        fig.tight_layout()
        return fig, {"probs": probs, "text": text, "kept": kept}

    controls = {"temperature": float_slider("temperature", 1.0, 0.1, 2.0, 0.05),
                "top_k": int_slider("top-k (0 = off)", 0, 0, tok.vocab_size),
                "top_p": float_slider("top-p (1 = off)", 1.0, 0.05, 1.0, 0.05)}
    return Explorer(controls, draw, title="Decoding: temperature, top-k and top-p")


# --------------------------------------------------------------------------- web (lesson 08)
def web_explorer(n_chains: int = 60, generations: int = 10, sample_size: int = 400, seed: int = 0, **initial):
    """Lesson 08's explorer: a Gaussian web (:func:`collapse_kit.web.run_web`) with controls for human data
    per year, the adoption ceiling (share of model output posted once adoption has spread), crawl size,
    how long the web keeps content, and the filtered entrant's provenance filter (tag accuracy, cutoff year;
    a cutoff at the last year filters nothing by date). ``last_result`` holds the history and the
    first mover's advantage over the late entrant at the last year (mean, standard error)."""
    from . import widgets as w
    from .plots import web_figure
    from .strategies import WebCrawl
    from .web import first_mover_advantage, logistic_adoption, run_web

    memories = {"keeps everything": None, "3 years": 3, "1 year": 1}
    controls = {
        "human_per_year": w.int_slider("human items / year", initial.get("human_per_year", 50), 0, 200, 5),
        "adoption": w.float_slider("adoption ceiling", initial.get("adoption", 1.0), 0.0, 1.0, 0.05),
        "crawl_size": w.int_slider("crawl size", initial.get("crawl_size", 50), 10, 400, 10),
        "memory": w.dropdown("web keeps", list(memories), initial.get("memory", "keeps everything")),
        "tag_accuracy": w.float_slider("tag accuracy", initial.get("tag_accuracy", 0.9), 0.5, 1.0, 0.05),
        "cutoff": w.int_slider("cutoff year", initial.get("cutoff", generations), 0, generations),
    }

    def draw(human_per_year, adoption, crawl_size, memory, tag_accuracy, cutoff):
        web = WebCrawl(human_start=50, human_per_year=human_per_year, crawl_size=crawl_size,
                       adoption=logistic_adoption(generations, midpoint=generations / 3, ceiling=adoption),
                       memory=memories[memory])
        history = run_web(web, generations=generations, sample_size=sample_size, n_chains=n_chains, seeds=seed,
                          cutoff=cutoff, tag_accuracy=tag_accuracy)
        fig = web_figure(history, title=f"{web.label}; filtered entrant: cutoff year {cutoff}, "
                                        f"tags right {tag_accuracy:.0%}; {n_chains} chains")
        return fig, {"history": history, "advantage": first_mover_advantage(history)}

    return w.Explorer(controls, draw, title="The web as a commons: who gets clean data?")


# --------------------------------------------------------------------------- defences (lesson 07)
def coordination_explorer(n_tokens: int = 64, gamma: float = 0.25, context_width: int = 4, n_chains: int = 60,
                          generations: int = 15, seed: int = 0, **initial):
    """Lesson 07's coordination explorer: share of providers that watermark, watermark strength δ,
    detector threshold z, attack strength (share of tokens substituted) and the web's human share
    (the real fraction λ, fresh human data each generation) → the detector's rates from
    the z-test's binomial law (texts of ``n_tokens`` tokens, tokens spread evenly over the vocabulary:
    an optimistic green rate) → the fast loop (:func:`collapse_kit.defences.coordination_run`): how
    much synthetic data leaks into training and the collapse curve. ``last_result`` holds the
    history, ``tpr`` and ``fpr``."""
    from . import defences as D
    from . import widgets as w
    from .plots import coordination_figure

    controls = {
        "share": w.float_slider("providers that watermark", initial.get("share", 0.5), 0.0, 1.0, 0.05),
        "delta": w.float_slider("watermark strength δ", initial.get("delta", 2.0), 0.0, 5.0, 0.25),
        "z": w.float_slider("detector threshold z", initial.get("z", 4.0), 1.0, 8.0, 0.25),
        "attack": w.float_slider("tokens substituted", initial.get("attack", 0.0), 0.0, 0.5, 0.02),
        "human_share": w.float_slider("human share of the web λ", initial.get("human_share", 0.2), 0.05, 1.0, 0.05),
    }

    def draw(share, delta, z, attack, human_share):
        green = D.attacked_green_probability(D.green_probability(gamma, delta), gamma, attack, context_width)
        tpr, fpr = float(D.detection_rate(n_tokens, gamma, green, z)), float(D.detection_rate(n_tokens, gamma, gamma, z))
        history = D.coordination_run((share,), tpr=tpr, fpr=fpr, human_share=human_share, n_chains=n_chains,
                                     generations=generations, seed=seed)
        fig = coordination_figure(history, title=f"{share:.0%} of providers watermark; detection {tpr:.1%} of "
                                                 f"watermarked texts, false positives {fpr:.2%} ({n_chains} chains)")
        return fig, {"history": history, "tpr": tpr, "fpr": fpr}

    return w.Explorer(controls, draw, title="Coordination: who must watermark for a filter to work?")


def detector_explorer(scores_real, scores_synthetic, *, score_name: str = "score"):
    """Lesson 07's detector explorer: move the threshold along the ROC curve and see what is kept, what
    leaks and what real data is wrongly thrown away. ``last_result`` holds ``fpr`` (real flagged) and
    ``tpr`` (synthetic flagged) at the threshold."""
    import numpy as np

    from . import widgets as w
    from .plots import detector_figure

    r, s = np.asarray(scores_real, float), np.asarray(scores_synthetic, float)
    lo, hi = float(min(r.min(), s.min())), float(max(r.max(), s.max()))
    controls = {"threshold": w.float_slider("threshold", float(np.median(np.concatenate([r, s]))), lo, hi,
                                            (hi - lo) / 100 or 0.01)}

    def draw(threshold):
        fpr, tpr = float((r >= threshold).mean()), float((s >= threshold).mean())
        fig = detector_figure(r, s, threshold, score_name=score_name)
        fig.suptitle(f"threshold {threshold:.3g}: real thrown away {fpr:.1%}, synthetic caught {tpr:.1%}, "
                     f"synthetic leaking {1 - tpr:.1%}", fontsize=10)
        return fig, {"fpr": fpr, "tpr": tpr}

    return w.Explorer(controls, draw, title="A detector's threshold: what is kept, what leaks")
