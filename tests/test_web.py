"""Unit tests of lesson 08's package code: the WebCrawl strategy's validation and closed counts, the
adoption schedule, the entrants, the strong-collapse law and its simulation, the loop's `initial_items`."""
import numpy as np
import pytest

from collapse_kit import gaussian as G
from collapse_kit import web as W
from collapse_kit.loop import run_generations
from collapse_kit.strategies import Strategy, WebCrawl, make_strategy, strategy_list


@pytest.mark.parametrize("kw, name", [
    (dict(human_start=1), "human_start"), (dict(human_start=2.5), "human_start"),
    (dict(human_per_year=-1), "human_per_year"), (dict(adoption=1.5), "adoption"), (dict(adoption=()), "adoption"),
    (dict(adoption=(0.1, -0.2)), "adoption"), (dict(crawl_size=0), "crawl_size"), (dict(memory=0), "memory"),
    (dict(cutoff=-1), "cutoff"), (dict(tag_accuracy=1.2), "tag_accuracy"),
])
def test_webcrawl_validation_names_the_parameter(kw, name):
    with pytest.raises((ValueError, TypeError), match=name):  # a non-integer count is a TypeError
        WebCrawl(**kw)


def test_webcrawl_type_errors():
    with pytest.raises(TypeError):
        WebCrawl(snapshot=True)  # no such option: the first mover is a crawl with cutoff 0 of its own archive
    with pytest.raises(TypeError, match="title"):
        WebCrawl(title=3)


def test_webcrawl_is_a_strategy_with_its_own_key_and_label():
    a = WebCrawl(human_start=10, human_per_year=2, crawl_size=5)
    b = WebCrawl(human_start=10, human_per_year=2, crawl_size=5, memory=1)
    assert isinstance(a, Strategy) and make_strategy(a) is a
    assert a.key != b.key and a.label != b.label and a.stream_key != b.stream_key
    assert a.key == WebCrawl(human_start=10, human_per_year=2, crawl_size=5).key  # stable
    assert len(strategy_list([a, b, Strategy()])) == 3
    assert WebCrawl(title="my web").label == "my web"
    cols = a.columns()
    assert cols["strategy_name"] == "web_crawl" and np.isnan(cols["real_fraction"]) and cols["fresh_real"] is False
    assert a.keeps_pool and a.uses_real and not a.needs_real_sampler and a.k_real(10) == 0
    assert a.real_size(4) == 18 and a.adoption == (1.0,)


def test_closed_counts_by_hand():
    web = WebCrawl(human_start=10, human_per_year=5, adoption=(0.0, 0.5, 1.0), memory=2)
    m = 8
    assert web.pool_counts(0, m) == (10, 0)
    assert web.pool_counts(1, m) == (15, 0)            # model 0 posts nothing
    assert web.pool_counts(2, m) == (10, 4)            # years 1-2: 5 + 5 human; model 1 posts 4
    assert web.pool_counts(3, m) == (10, 12)           # years 2-3: model 1 (4) + model 2 (8)
    assert web.synthetic_share(3, m) == pytest.approx(12 / 22)
    cut = WebCrawl(human_start=10, human_per_year=5, adoption=1.0, cutoff=1)
    assert cut.pool_counts(4, m) == (15, 8) and cut.pool_counts(4, m, filtered=False) == (30, 32)
    tags = WebCrawl(human_start=10, human_per_year=10, adoption=1.0, tag_accuracy=0.9)
    assert tags.pool_counts(2, 10) == (27, 2)
    assert WebCrawl(human_start=10, crawl_size=4).training_size(3, 0, 10) == 4
    assert WebCrawl(human_start=10, crawl_size=40).training_size(3, 0, 10) == 40 - 10 + 10
    assert np.isnan(WebCrawl(human_start=10, memory=1, cutoff=0).synthetic_share(2, 5))


def test_logistic_adoption():
    a = W.logistic_adoption(9, midpoint=4, steepness=1.0, ceiling=0.8, start=0.1)
    assert len(a) == 9 and a[4] == pytest.approx(0.45) and all(np.diff(a) > 0) and 0.1 < a[0] < a[-1] < 0.8
    assert W.logistic_adoption(3, steepness=0.0) == (0.5, 0.5, 0.5)
    for kw, name in [(dict(years=0), "years"), (dict(years=3, steepness=-1), "steepness"),
                     (dict(years=3, ceiling=2), "ceiling"), (dict(years=3, start=-0.1), "start"),
                     (dict(years=3, start=0.9, ceiling=0.5), "start"), (dict(years=3, midpoint=np.nan), "midpoint")]:
        with pytest.raises(ValueError, match=name):
            W.logistic_adoption(**kw)


def test_initial_items_of_the_loop():
    seen = {}
    kw = dict(real_sampler=G.normal_source(), real_size=30, sample_size=10, generations=1, n_chains=2,
              on_generation=lambda c: seen.setdefault(c.generation, (c.train, c.real)))
    run_generations(G.GaussianModel, initial_items=12, **kw)
    assert seen[0][0].shape == (2, 12) and seen[0][1].shape == (2, 30)
    assert np.array_equal(seen[0][0], seen[0][1][:, :12])
    for bad in (0, 31, 2.5):
        with pytest.raises((ValueError, TypeError), match="initial_items"):
            run_generations(G.GaussianModel, initial_items=bad, **kw)


def test_run_web_validation_and_metrics():
    web = WebCrawl(human_start=20, human_per_year=5, adoption=0.5, crawl_size=20)
    h = W.run_web(web, generations=3, sample_size=20, n_chains=5)
    names = set(h["metric"].astype(str))
    assert {"W2²", "synthetic share", "entrant.first mover", "entrant.late entrant",
            "entrant.filtered entrant"} <= names
    share = h[h["metric"] == "synthetic share"].groupby("generation")["value"].first().to_numpy()
    assert np.allclose(share, [web.synthetic_share(g, 20) for g in range(4)])
    assert "entrant.filtered entrant" not in set(W.entrant_crawls(web, cutoff=None))
    for kw, name in [(dict(generations=0), "generations"), (dict(sample_size=0), "sample_size"),
                     (dict(temperature=0), "temperature")]:
        with pytest.raises(ValueError, match=name):
            W.run_web(web, **{**dict(generations=2, sample_size=10), **kw})
    with pytest.raises(TypeError, match="web"):
        W.run_web(Strategy(), generations=2, sample_size=10)
    with pytest.raises(ValueError, match="rival"):
        W.first_mover_advantage(h, "nobody")


def test_a_forgetting_web_leaves_nothing_for_a_date_filter():
    web = WebCrawl(human_start=20, human_per_year=5, adoption=1.0, crawl_size=20, memory=1)
    h = W.run_web(web, generations=2, sample_size=20, n_chains=4, cutoff=0)
    filt = h[(h["metric"] == "entrant.filtered entrant") & (h["generation"] > 0)]["value"]
    assert filt.isna().all()


def test_strong_collapse_law_and_simulation():
    assert W.strong_collapse_law(50, 10, 0.0, 4.0, 1.0) == pytest.approx(10 / 39)
    law = W.strong_collapse_law(np.array([100, 10**6]), 10, 0.2, 4.0, 1.0)
    assert law[1] == pytest.approx(0.2**2 * 4, rel=1e-3) and law[0] > law[1]
    df = W.simulate_strong_collapse([40, 400], n_features=5, synthetic_fraction=0.3, shift=2.0, n_reps=400, seed=3)
    assert df.equals(W.simulate_strong_collapse([40, 400], n_features=5, synthetic_fraction=0.3, shift=2.0,
                                                n_reps=400, seed=3))
    for n, grp in df.groupby("n"):
        se = grp["error"].std() / np.sqrt(len(grp))
        assert abs(grp["error"].mean() - grp["law"].iloc[0]) < 4 * se + 0.03 * grp["law"].iloc[0]
    real_only = W.simulate_strong_collapse([400], n_features=5, synthetic_fraction=0.0, shift=2.0, n_reps=200)
    assert real_only["error"].mean() < 0.2 * df[df.n == 400]["error"].mean()  # the floor is the synthetic share's


@pytest.mark.parametrize("kw, name", [
    (dict(n_samples=[4]), "n_samples"), (dict(n_samples=[20.5]), "n_samples"), (dict(n_features=0), "n_features"),
    (dict(synthetic_fraction=1.5), "synthetic_fraction"), (dict(shift=-1), "shift"), (dict(noise=-1), "noise"),
    (dict(n_reps=1), "n_reps"), (dict(seed=-1), "seed"),
])
def test_strong_collapse_validation(kw, name):
    with pytest.raises(ValueError, match=name):
        W.simulate_strong_collapse(**{**dict(n_samples=[20], n_features=3), **kw})
    law_kw = {k: v for k, v in kw.items() if k in ("n_samples", "n_features", "synthetic_fraction", "noise")}
    if law_kw:
        args = {**dict(n_samples=20, n_features=3, synthetic_fraction=0.1, shift2=1.0), **law_kw}
        with pytest.raises(ValueError, match=name):
            W.strong_collapse_law(**args)


def test_web_explorer_redraws_headlessly():
    from collapse_kit.explorers import web_explorer
    from collapse_kit.widgets import figure_data

    e = web_explorer(n_chains=20, generations=4)
    assert e.last_error is None and e.figure is not None
    before = figure_data(e.figure)
    e.controls["memory"].value = "1 year"
    assert e.last_error is None and e.n_draws == 2
    after = figure_data(e.figure)
    assert any(len(a) != len(b) or not np.allclose(a, b) for a, b in zip(before, after))
    adv, se = e.last_result["advantage"]
    assert np.isfinite(adv) and se > 0
    e.controls["cutoff"].value = 0  # a date filter on a web that forgets: the filtered entrant has nothing left
    assert e.last_error is None
    filt = e.last_result["history"]
    assert filt[(filt["metric"] == "entrant.filtered entrant") & (filt["generation"] > 0)]["value"].isna().all()
