"""Conformance: the web strategy (lesson 08) in the one loop.

WebCrawl runs through run_generations beside every strategy of WORKFLOWS (plus fresh real data) with the
Gaussian model and the Gaussian mixture; same seed, same history; an interrupted run resumed through
`store=` equals an uninterrupted one; the crawl has the composition its closed count promises; and in
its limiting settings it *is* replace / accumulate / accumulate-subsample (the same numbers from the
same random stream), with a distributional check through the loop and a negative control.
"""
import dataclasses

import numpy as np
import pytest
from scipy import stats

from collapse_kit import gaussian as G
from collapse_kit import mixture as X
from collapse_kit import web as W
from collapse_kit.history import values
from collapse_kit.loop import next_generation, run_generations
from collapse_kit.strategies import WORKFLOWS, Strategy, WebCrawl

ALL = list(WORKFLOWS) + [Strategy("real_fraction", 0.5, fresh_real=True)]
M, GENS, N0 = 10, 5, 10
WEB = WebCrawl(human_start=N0, human_per_year=4, adoption=(0.2, 0.5, 1.0), crawl_size=12, memory=3)


def run(strategies, *, model="gaussian", n_chains=3, seeds=0, **kw):
    if model == "gaussian":
        make, metrics, source = (lambda: G.GaussianModel()), G.loop_metrics(), G.normal_source()
    else:
        pop = X.population("two_modes")
        make, source = (lambda: X.GaussianMixtureModel(2, n_iter=10)), pop.sampler()
        metrics = X.loop_metrics(pop)
    return run_generations(make, real_sampler=source, real_size=WEB.real_size(GENS), initial_items=N0,
                           sample_size=M, n_chains=n_chains, generations=GENS, strategies=strategies,
                           metrics=metrics, seeds=seeds, **kw)


@pytest.mark.parametrize("other", ALL, ids=lambda s: s.key)
@pytest.mark.parametrize("model", ["gaussian", "mixture"])
def test_web_runs_beside_every_strategy(other, model, tmp_path):
    h = run([WEB, other], model=model, seeds=[1, 2])
    metric = "variance" if model == "gaussian" else "minority share"
    for s in (WEB, other):
        v = values(h, metric, s.label)
        assert v.shape == (6, GENS + 1) and np.all(np.isfinite(v))
    assert set(h["chain"]) == {0, 1, 2} and set(h["seed"]) == {1, 2}
    # generation 0 is shared, the years after differ
    a, b = values(h, metric, WEB.label), values(h, metric, other.label)
    assert np.array_equal(a[:, 0], b[:, 0])
    again = run([WEB, other], model=model, seeds=[1, 2])
    assert h.equals(again)
    if model == "gaussian":  # resume: stop after 2 generations, go on to GENS through the same store
        full = run([WEB, other], seeds=[1, 2])
        run_generations(lambda: G.GaussianModel(), real_sampler=G.normal_source(), real_size=WEB.real_size(GENS),
                        initial_items=N0, sample_size=M, n_chains=3, generations=2, strategies=[WEB, other],
                        metrics=G.loop_metrics(), seeds=[1, 2], store=tmp_path / "run")
        resumed = run([WEB, other], seeds=[1, 2], store=tmp_path / "run")
        assert np.array_equal(values(resumed, "variance", WEB.label), values(full, "variance", WEB.label))
        assert np.array_equal(values(resumed, "mean", other.label), values(full, "mean", other.label))


def test_generation_zero_trains_on_the_pre_ai_web_only():
    h = run([WEB], n_chains=2)
    seen = {}
    run([WEB], n_chains=2, on_generation=lambda c: seen.setdefault(c.generation, c.train))
    assert seen[0].shape == (2, N0)
    assert values(h, "variance").shape == (2, GENS + 1)


# --------------------------------------------------------------------------- the composition it promises
def _tagged(n_chains, web, years, m):
    """Human items are negative ids; model j's samples are 1000*(j+1) + index."""
    real = -1.0 - np.tile(np.arange(web.real_size(years)), (n_chains, 1))
    synth = [np.tile(1000.0 * (j + 1) + np.arange(m), (n_chains, 1)) for j in range(years)]
    return real, synth


@pytest.mark.parametrize("memory", [None, 1, 2])
@pytest.mark.parametrize("cutoff", [None, 0, 2])
def test_whole_web_has_exactly_the_closed_count(memory, cutoff):
    web = WebCrawl(human_start=7, human_per_year=3, adoption=(0.1, 0.6, 1.0), memory=memory, cutoff=cutoff)
    m = 20
    for year in range(1, 6):
        real, synth = _tagged(2, web, year, m)
        human, syn = web.pool_counts(year, m)
        if human + syn == 0:
            with pytest.raises(ValueError, match="empty"):
                web.training_set(real, synth, m, np.random.default_rng(0))
            continue
        train = web.training_set(real, synth, m, np.random.default_rng(0))
        assert train.shape == (2, human + syn)
        assert (train < 0).sum(axis=1).tolist() == [human] * 2
        dates_h = [0 if -x - 1 < 7 else 1 + (-x - 1 - 7) // 3 for x in train[0][train[0] < 0]]
        dates_s = [int(x // 1000) for x in train[0][train[0] > 0]]  # model j posts items dated j + 1
        last = year if cutoff is None else min(year, cutoff)
        first = 0 if memory is None else year - memory + 1
        assert all(first <= d <= last for d in dates_h + dates_s)
        for j in range(year):  # model j posted its first round(adoption[j] * m) samples
            if first <= j + 1 <= last:
                assert sum(d == j + 1 for d in dates_s) == round(web.adoption_at(j) * m)


def test_tag_filter_and_crawl_shares():
    web = WebCrawl(human_start=50, human_per_year=10, adoption=1.0, tag_accuracy=0.8)
    m, year = 40, 4
    real, synth = _tagged(500, web, year, m)
    human, syn = web.pool_counts(year, m)
    assert (human, syn) == (round(0.8 * 90), round(0.2 * 160))
    train = web.training_set(real, synth, m, np.random.default_rng(1))
    assert ((train < 0).sum(axis=1) == human).all() and ((train > 0).sum(axis=1) == syn).all()
    # a crawl is a uniform subset: its synthetic share is hypergeometric around the pool's share
    crawl = dataclasses.replace(web, crawl_size=30)
    shares = (crawl.training_set(real, synth, m, np.random.default_rng(2)) > 0).mean(axis=1)
    want = syn / (human + syn)
    assert abs(shares.mean() - want) < 4 * shares.std(ddof=1) / np.sqrt(len(shares))
    assert crawl.synthetic_share(year, m) == pytest.approx(want)
    assert crawl.synthetic_share(year, m, filtered=False) == pytest.approx(160 / 250)


def test_first_mover_crawls_its_pre_ai_archive():
    web = WebCrawl(human_start=5, human_per_year=2, adoption=1.0, crawl_size=4, memory=1)
    first = W.entrant_crawls(web)["first mover"]
    real, synth = _tagged(3, web, 3, 6)
    train = first.training_set(real, synth, 6, np.random.default_rng(0))
    assert train.shape == (3, 4) and np.isin(train, real[:, :5]).all()
    assert first.pool_counts(3, 6) == (5, 0) and web.pool_counts(3, 6) == (2, 6)


# --------------------------------------------------------------------------- limiting settings
LIMITS = [(WORKFLOWS[2], WebCrawl(human_start=M, adoption=1.0, crawl_size=M)),
          (WORKFLOWS[1], WebCrawl(human_start=M, adoption=1.0)),
          (WORKFLOWS[0], WebCrawl(human_start=M, adoption=1.0, crawl_size=M, memory=1))]


@pytest.mark.parametrize("named, web", LIMITS, ids=lambda s: s.key)
@pytest.mark.parametrize("n_chains", [1, 4])
def test_limits_are_the_named_strategies_exactly(named, web, n_chains):
    """Same real data, same random streams: next_generation gives the same numbers, year after year."""
    real = np.random.default_rng(5).standard_normal((n_chains, M))
    synth_a = synth_b = [np.random.default_rng(6).standard_normal((n_chains, M))]
    for g in range(1, 6):
        ta, _, sa = next_generation(G.GaussianModel, named, real, synth_a, M, np.random.default_rng([9, g]))
        tb, _, sb = next_generation(G.GaussianModel, web, real, synth_b, M, np.random.default_rng([9, g]))
        assert np.array_equal(ta, tb) and np.array_equal(sa, sb)
        synth_a, synth_b = synth_a + [sa], synth_b + [sb]


def _final_variance(strategy, seed):
    h = run_generations(G.GaussianModel, real_sampler=G.normal_source(), sample_size=M, generations=8,
                        strategies=[strategy], n_chains=1500, metrics=G.loop_metrics(), seeds=seed)
    return values(h, "variance")[:, -1]


@pytest.mark.parametrize("named, web", LIMITS[1:], ids=lambda s: s.key)
def test_limits_agree_through_the_loop_in_distribution(named, web):
    """Different strategies get different random streams, so through the loop they agree in law: a KS test,
    with a negative control (an accumulating web is not `replace`) showing the test would notice."""
    assert stats.ks_2samp(_final_variance(named, 1), _final_variance(web, 2)).pvalue > 1e-3
    wrong = LIMITS[1][1] if named is WORKFLOWS[0] else LIMITS[2][1]
    assert stats.ks_2samp(_final_variance(named, 1), _final_variance(wrong, 2)).pvalue < 1e-6


# --------------------------------------------------------------------------- entrants
def test_entrants_read_the_same_web_and_refuse_a_resumed_run(tmp_path):
    web = WebCrawl(human_start=40, human_per_year=5, adoption=1.0, crawl_size=40, memory=1)
    h = W.run_web(web, generations=6, sample_size=80, n_chains=150, temperature=0.9, cutoff=None, tag_accuracy=0.9)
    late, first = values(h, "entrant.late entrant"), values(h, "entrant.first mover")
    assert np.array_equal(late[:, 0], first[:, 0])  # year 0: everyone trains on the pre-AI web
    adv, se = W.first_mover_advantage(h)
    assert adv > 3 * se
    assert h.equals(W.run_web(web, generations=6, sample_size=80, n_chains=150, temperature=0.9, cutoff=None,
                              tag_accuracy=0.9))
    crawls = W.entrant_crawls(web)
    metric = W.entrants(G.GaussianModel, W.gaussian_w2, crawls)
    kw = dict(real_sampler=G.normal_source(), real_size=web.real_size(3), initial_items=40, sample_size=80,
              strategies=[web], metrics={"e": metric}, store=tmp_path / "s")
    run_generations(G.GaussianModel, generations=2, **kw)
    kw["metrics"] = {"e": W.entrants(G.GaussianModel, W.gaussian_w2, crawls)}  # a new session: no past kept
    with pytest.raises(ValueError, match="store"):
        run_generations(G.GaussianModel, generations=3, **kw)
