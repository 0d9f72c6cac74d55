"""Every assert in the solution notebooks, accounted for (issue 14): the seed sweep that re-runs its computation
for many seeds, or why no seed can change its outcome.

A sweep cannot execute a notebook cell with another seed, so it restates the cell's assert. This registry ties
each restated assert to its line in the notebook: change an assert in ``solutions/`` (or add one) and
:func:`test_every_notebook_assert_is_accounted_for` fails until the registry, and the sweep it names, say the
same; :func:`test_swept_asserts_use_the_notebooks_sizes` does the same for the sizes the assert's values come from (in
its own cell or an earlier one).
Pass rates of the sweeps over 100 seeds are in benchmarks/RESULTS.md.
"""
import ast
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TESTS = ROOT / "tests"


def sweep(file, function):
    """Re-run for many seeds by ``function`` in ``tests/<file>``."""
    return ("sweep", file, function)


def fixed(why):
    """No seed enters the assert's outcome, for the reason given."""
    return ("fixed", why)


EXPLORER = fixed("an explorer's reaction to a control (it redrew, without an error, with the value set): "
                 "no random quantity is compared")
EXACT_TAILCUT = fixed("closed forms only (tail_cut_error, tail_mass and dohmatob_law on the Zipf law): no random input")
KEPT_COUNTS = fixed("the kept count per digit is set by the pool and the imbalance (the seed picks which images, not "
                     "how many): the same for every seed")
LATENT_IDENTITY = fixed("two computations of one model's latent spread: equal up to rounding for any model")
PI2_BOUND = fixed("the accumulate law against its π²/6 bound: closed forms, no simulation")
PPL_IDENTITY = fixed("the learner's conversion of the mean loss against exp(mean NLL): equal for any model")
DECODING_IDENTITY = fixed("the learner's next-token probabilities against the library's, from the same logits: "
                          "equal for any model")
SAVE_IDENTITY = fixed("a save and load round trip: the same tokenizer and weights for any model")
SHIPPED_TOKENIZER = fixed("the shipped BPE tokenizer on the shipped text: no random input")
SHIPPED_WEIGHTS = fixed("the shipped base GPT on the shipped text: no random input")
MIX_COUNT = fixed("λM = 26 real blocks of 256: a count the strategy fixes, whatever the generator draws")
BINOMIAL_RATE = fixed("the explorer's detection rate is the z-test's binomial law (a closed form), not its random loop")
THRESHOLD = fixed("the threshold is chosen on these very scores to flag at most 5% of them: true for any scores")
WEB_COUNT = fixed("the crawl's synthetic share is counted from the web's sizes, not drawn: the closed count for any seed")
CUTOFF_EMPTY = fixed("a web that forgets keeps nothing dated year 0 after year 0: no data for the filtered entrant, "
                     "for any seed")
CUTOFF_SAME = fixed("in a web that keeps everything, the filtered entrant crawls exactly the first mover's items: "
                    "equal for any seed")

#: notebook -> {assert line (stripped, runs of spaces as one) -> how it holds for any seed}
NOTEBOOK_ASSERTS = {
    '00_start_here.ipynb': {
        'assert np.median(final) < 0.5':
            sweep('test_gaussian.py', 'nb00_median_variance'),
    },
    '01_gaussian_collapse.ipynb': {
        'assert ks.pvalue > 1e-4 and km.pvalue > 1e-4, "the exact engine disagrees with the loop"':
            sweep('test_gaussian.py', 'nb01_exact_vs_loop'),
        'assert p_wrong < 1e-4, "the test should reject a wrong engine"':
            sweep('test_gaussian.py', 'nb01_exact_vs_loop'),
        'assert abs(mean_var[g] - law[g]) < 4 * se, (est, g, mean_var[g], law[g], se)':
            sweep('test_gaussian.py', 'nb01_variance_laws'),
        'assert abs(log_var[:, g].mean() - np.log(G.median_variance(g, M, est))) < 4 * se_log, (est, g)':
            sweep('test_gaussian.py', 'nb01_variance_laws'),
        'assert abs(G.marginal_variance(c)[g] - G.marginal_variance_law(g, M)) < 4 * y.std() / np.sqrt(n_marg), g':
            sweep('test_gaussian.py', 'nb01_marginal_and_w2'),
        'assert abs(w2.mean(axis=0)[g] - G.w2_first_order(g, big_M)) < 4 * se_w2[g] + 0.03 * G.w2_first_order(g, big_M), g':
            sweep('test_gaussian.py', 'nb01_marginal_and_w2'),
        'assert mean_var[n_half - 1] < 0.5 + 4 * se[n_half - 1] and mean_var[max(n_half - 2, 0)] > 0.5 - 4 * se[max(n_half - 2, 0)]':
            sweep('test_gaussian.py', 'nb01_mean_halves_on_time'),
        'assert (halving["ratio mean/median (MLE)"] > 1.4).all(), halving':
            sweep('test_gaussian.py', 'nb01_median_halves_sooner'),
        'assert final.loc["accumulate", "variance"] > 0.5, "accumulate should keep most of the variance"':
            sweep('test_gaussian.py', 'nb01_strategy_directions'),
        'assert final.loc["replace", "variance"] < 0.1 * final.loc["accumulate", "variance"], "replace should collapse"':
            sweep('test_gaussian.py', 'nb01_strategy_directions'),
        'assert final.loc["real fraction 0.1 (fresh)", "W2²"] < final.loc["replace", "W2²"]':
            sweep('test_gaussian.py', 'nb01_strategy_directions'),
        'assert final.loc["real fraction 0.1 (fresh)", "variance"] > 0.5, "10% fresh real data should stop the collapse"':
            sweep('test_gaussian.py', 'nb01_strategy_directions'),
        'assert probe.last_error is None and probe.figure is not None':
            EXPLORER,
    },
    '02_tails_vanish_first.ipynb': {
        'assert np.all(np.abs(tab["simulated"] - tab["closed"]) < 6 * sem + 2e-3), "simulation disagrees with 1-(1-q)^M"':
            sweep('test_seed_sweep_lesson02.py', 'nb02_one_generation_closed_forms'),
        'assert abs(alive1.mean() - want) < 5 * alive1.std() / np.sqrt(n_chains_1) + 1, "expected survivors disagree"':
            sweep('test_seed_sweep_lesson02.py', 'nb02_one_generation_closed_forms'),
        'assert (np.diff(alive, axis=1) <= 0).all(), "a lost word came back"':
            sweep('test_seed_sweep_lesson02.py', 'nb02_vocabulary_one_step_law'),
        'assert abs(err.mean()) < 5 * err.std() / np.sqrt(err.size) + 0.5, "one-step closed form disagrees"':
            sweep('test_seed_sweep_lesson02.py', 'nb02_vocabulary_one_step_law'),
        'assert table["lost by the end"].iloc[0] >= table["lost by the end"].iloc[-1]':
            sweep('test_seed_sweep_lesson02.py', 'nb02_vocabulary_one_step_law'),
        'assert (np.diff(alive_long, axis=1) <= 0).all()':
            sweep('test_seed_sweep_lesson02.py', 'nb02_long_run_single_word_and_collision_law'),
        'assert single[-1] > 0.9, "most chains should have ended in a single word"':
            sweep('test_seed_sweep_lesson02.py', 'nb02_long_run_single_word_and_collision_law'),
        'assert abs(top10_won - top10_mass) < 5 * np.sqrt(top10_mass * (1 - top10_mass) / n_long)':
            sweep('test_seed_sweep_lesson02.py', 'nb02_long_run_single_word_and_collision_law'),
        'assert np.all(np.abs(coll[:, check_at].mean(axis=0) - law[check_at]) < 5 * sem + 1e-3), "collision probability disagrees with Seddik\'s law"':
            sweep('test_seed_sweep_lesson02.py', 'nb02_long_run_single_word_and_collision_law'),
        'assert np.all(np.abs(sim.to_numpy() - exact) <= 5 * se + step + 1e-12), \\':
            sweep('test_seed_sweep_lesson02.py', 'nb02_tail_cut_simulation'),
        'assert abs(slope[0] + (1 - 1 / beta)) < 0.05':
            EXACT_TAILCUT,
        'assert abs(at_big / floor - 1) < 0.05, "the cut learner should sit on its tail-mass floor"':
            EXACT_TAILCUT,
        'assert abs(D.dohmatob_law(1e300, k, beta) / floor - 1) < 0.1, "the law\'s floor should approximate the tail mass"':
            EXACT_TAILCUT,
        'assert np.all((ratio > 0.8) & (ratio < 1.25)), ratio':
            EXACT_TAILCUT,
        'assert (first > 0).mean() > 0.9, "the minority should be present at generation 0"':
            sweep('test_seed_sweep_lesson02.py', 'nb02_mixture_minority'),
        'assert lost["replace"] - lost["accumulate"] > max(3 * se, 0.1), "replace should lose the minority more often"':
            sweep('test_seed_sweep_lesson02.py', 'nb02_mixture_minority'),
        'assert lost_by_lambda[0.0] > max(lost_by_lambda[g] for g in lost_by_lambda if g >= 0.1), "real data should protect the minority"':
            sweep('test_seed_sweep_lesson02.py', 'nb02_real_fraction_protects'),
    },
    '03_images_collapse.ipynb': {
        'assert np.array_equal(np.bincount(y_real, minlength=10), check.reference_kept_counts(pool_counts, IMBALANCE))':
            KEPT_COUNTS,
        'assert judge.holdout_accuracy_ > 0.93 and judge.holdout_recognised_ > 0.9':
            sweep('test_seed_sweep_lesson03.py', 'nb03_generation0_learns_every_digit'),
        'assert recognised0 >= judge.holdout_recognised_ - 0.05, "generation 0 should look like real digits"':
            sweep('test_seed_sweep_lesson03.py', 'nb03_generation0_learns_every_digit'),
        'assert np.all(shares0 >= 0.5 * judged_real - 3 * se), "every digit should be drawn at least half as often as real"':
            sweep('test_seed_sweep_lesson03.py', 'nb03_generation0_learns_every_digit'),
        'assert np.all(shares0 <= 1.5 * judged_real + 3 * se), "no digit should be drawn much more often than real"':
            sweep('test_seed_sweep_lesson03.py', 'nb03_generation0_learns_every_digit'),
        'assert abs(shares0[RARE].sum() - judged_real[RARE].sum()) <= 0.5 * judged_real[RARE].sum(), "the rare digits"':
            sweep('test_seed_sweep_lesson03.py', 'nb03_generation0_learns_every_digit'),
        'assert fade.mean() > 0, "under replace the rare digits should fade"':
            sweep('test_seed_sweep_lesson03.py', 'nb03_replace_fades_and_drifts'),
        'assert grow.mean() > 0, "under replace the mix of digits should drift away from the real one"':
            sweep('test_seed_sweep_lesson03.py', 'nb03_replace_fades_and_drifts'),
        'assert abs(mu0.std(axis=0).mean() - I.latent_spread(imgs, model0)[0]) < 1e-5':
            LATENT_IDENTITY,
        'assert (1 - per_paper) / 10 <= 1 - per_ours <= 10 * (1 - per_paper), (per_ours, per_paper)':
            sweep('test_seed_sweep_lesson03.py', 'nb03_spread_rate_within_the_paper_band'),
        'assert effect < replace_drop, "deleting the rare digits should not explain replace\'s loss of spread"':
            sweep('test_seed_sweep_lesson03.py', 'nb03_rare_digits_do_not_carry_the_spread'),
        'assert paired(metric, arm)[0] > 0, (arm, metric)':
            sweep('test_seed_sweep_lesson03.py', 'nb03_real_data_keep_variety_and_mix'),
        'assert paired("class_distance", arm)[0] < 0, arm':
            sweep('test_seed_sweep_lesson03.py', 'nb03_real_data_keep_variety_and_mix'),
    },
    '04_mixing_real_data.ipynb': {
        'assert abs(log_rep.mean() - log_law) < 4 * log_rep.std(ddof=1) / np.sqrt(len(log_rep))':
            sweep('test_compare.py', 'nb04_gaussian_strategies'),
        'assert np.all(others["mean"] - rep["mean"] > 3 * np.hypot(others["sem"], rep["sem"]))':
            sweep('test_compare.py', 'nb04_gaussian_strategies'),
        'assert last.loc["accumulate", "mean"] - 4 * last.loc["accumulate", "sem"] > 0.85':
            sweep('test_compare.py', 'nb04_gaussian_strategies'),
        'assert lost["replace"] - lost["accumulate"] > 3 * se_lost':
            sweep('test_compare.py', 'nb04_mixture_strategies'),
        'assert abs(share.loc["accumulate", "mean"] - truth) < 4 * share.loc["accumulate", "sem"]':
            sweep('test_compare.py', 'nb04_mixture_strategies'),
        'assert abs(mine.mean() - loop.mean()) < 4 * se':
            sweep('test_compare.py', 'nb04_accumulate_subsample_exercise'),
        'assert np.all(np.abs(z) < 4.5)':
            sweep('test_compare.py', 'nb04_fresh_real_law'),
        'assert np.all(np.abs(z) < 4.5), f"{label}: simulation and law disagree beyond Monte-Carlo error"':
            sweep('test_compare.py', 'nb04_regression_laws'),
        'assert np.all(acc["law"] < bound)':
            PI2_BOUND,
        'assert errors[0.0] > 2 * check.ERROR_BUDGET and errors[0.5] < check.ERROR_BUDGET and choice is not None':
            sweep('test_compare.py', 'nb04_error_budget'),
        'assert t.loc[(0.8, 0), "mean"] - t.loc[(1.0, 0), "mean"] > 4 * np.hypot(t.loc[(0.8, 0), "sem"], t.loc[(1.0, 0), "sem"])':
            sweep('test_compare.py', 'nb04_temperature_tradeoff'),
        'assert d.loc[(1.0, 0), "mean"] - d.loc[(0.8, 0), "mean"] > 4 * np.hypot(d.loc[(0.8, 0), "sem"], d.loc[(1.0, 0), "sem"])':
            sweep('test_compare.py', 'nb04_temperature_tradeoff'),
        'assert d.loc[(0.8, G_T), "mean"] / d.loc[(0.8, 0), "mean"] < 0.5 * d.loc[(1.0, G_T), "mean"] / d.loc[(1.0, 0), "mean"]':
            sweep('test_compare.py', 'nb04_temperature_tradeoff'),
        'assert (cell.loc[[(m, 0.0) for m in (2, 5, 10)], "spread"] < 0.5).all()':
            sweep('test_compare.py', 'nb04_phase_diagram'),
        'assert np.allclose(phase.loc[phase.real_fraction == 1.0, "spread"], 1.0)':
            sweep('test_compare.py', 'nb04_phase_diagram'),
        'assert (big["spread"] > 0.75).all()':
            sweep('test_compare.py', 'nb04_phase_diagram'),
        'assert grid.loc[200, 0.1] > grid.loc[5, 0.1] + 0.5':
            sweep('test_compare.py', 'nb04_phase_diagram'),
        'assert after < before - 0.2 and probe.n_draws == 2':
            sweep('test_compare.py', 'nb04_mix_explorer_probe'),
    },
    '05_tiny_gpt.ipynb': {
        'assert 0.5 * tok.vocab_size < ppl_untrained < 2 * tok.vocab_size # about uniform over the vocabulary':
            sweep('test_seed_sweep_lesson05.py', 'nb05_character_model_asserts'),
        'assert meta["valid_loss"] < np.log(tok.vocab_size) - 1.0 # far better than guessing':
            sweep('test_seed_sweep_lesson05.py', 'nb05_character_model_asserts'),
        'assert np.isclose(ppl_of_mean, np.exp(nll.mean()))':
            PPL_IDENTITY,
        'assert ppl.mean() >= ppl_of_mean # Jensen: the mean of exp is at least exp of the mean':
            sweep('test_seed_sweep_lesson05.py', 'nb05_character_model_asserts'),
        'assert ppl.mean() < ppl_untrained / 3':
            sweep('test_seed_sweep_lesson05.py', 'nb05_character_model_asserts'),
        "assert np.allclose(mine, probs, atol=1e-5) # your function agrees with the library's decoding code":
            DECODING_IDENTITY,
        'assert ppl_of["sample temperature=1.3"] > ppl_of["sample temperature=1.0"] > ppl_of["sample temperature=0.7"]':
            sweep('test_seed_sweep_lesson05.py', 'nb05_character_model_asserts'),
        'assert ppl_of["greedy"] < ppl_of["sample temperature=0.7"] and ppl_of["beam num_beams=5"] < ppl_of["sample temperature=0.7"]':
            sweep('test_seed_sweep_lesson05.py', 'nb05_character_model_asserts'),
        'assert ppl_of["beam num_beams=5"] < min(sampled) and ppl_of["greedy"] < min(sampled) # search beats every sampler':
            sweep('test_seed_sweep_lesson05.py', 'nb05_character_model_asserts'),
        'assert sweep["own text"].iloc[0] < sweep["own text"].iloc[-1] # colder text is likelier, over this range':
            sweep('test_seed_sweep_lesson05.py', 'nb05_character_model_asserts'),
        'assert explorer.n_draws == n + 1 and explorer.last_result["kept"] == 5':
            EXPLORER,
        'assert np.array_equal(out, previous) # identical text with and without the cache':
            sweep('test_seed_sweep_lesson05.py', 'nb05_character_model_asserts'),
        'assert tok_again == tok':
            SAVE_IDENTITY,
        'assert np.allclose(gpt.sequence_nll(again, test_blocks[:8]), nll[:8], atol=1e-5)':
            SAVE_IDENTITY,
        'assert isinstance(bpe, BPETokenizer) and bpe.decode(bpe.encode(line)) == line # nothing lost':
            SHIPPED_TOKENIZER,
        'assert 2 < chars_per_token < 5 # whole words and pieces of words, not characters':
            SHIPPED_TOKENIZER,
        'assert abs(base_loss - base_meta["valid_loss_fp16"]) < 2e-3 # the shipped weights are the ones recorded':
            SHIPPED_WEIGHTS,
        'assert base_loss / chars_per_token < meta["valid_loss"]':
            sweep('test_seed_sweep_lesson05.py', 'nb05_character_model_asserts'),
        'assert d2["sampling, T = 1"] >= 0.85 * d2["human (the real continuation)"]':
            sweep('test_seed_sweep_lesson05.py', 'nb05_sampling_is_varied_beam_repeats'),
        'assert d2["5-way beam search"] < 0.7 * d2["human (the real continuation)"] < d2["sampling, T = 1"]':
            sweep('test_seed_sweep_lesson05.py', 'nb05_sampling_is_varied_beam_repeats'),
    },
    '06_recursive_finetuning.ipynb': {
        'assert (mine == 0).all(1).sum() == (course == 0).all(1).sum() == 26':
            MIX_COUNT,
        'assert p[(0.0, 0)] < zero_shot # fine-tuning on the real task text helped, as in the paper':
            sweep('test_seed_sweep_lesson06.py', 'nb06_main_run_asserts'),
        'assert d2[(0.0, 0)] >= 0.7 * real_distinct # generation 0 writes varied text, not loops':
            sweep('test_seed_sweep_lesson06.py', 'nb06_main_run_asserts'),
        'assert all(p[(0.0, g)] > 1.02 * p[(0.0, 0)] for g in range(1, last + 1))':
            sweep('test_seed_sweep_lesson06.py', 'nb06_main_run_asserts'),
        'assert p[(0.0, last)] - p[(0.0, 0)] > 3 * spread + 0.02 * p[(0.0, 0)]':
            sweep('test_seed_sweep_lesson06.py', 'nb06_main_run_asserts'),
        'assert rise_none > rise_kept':
            sweep('test_seed_sweep_lesson06.py', 'nb06_main_run_asserts'),
        'assert med[(0.0, GENERATIONS)] > 1.05 * med[(0.0, 0)]':
            sweep('test_seed_sweep_lesson06.py', 'nb06_main_run_asserts'),
        'assert q95[(0.0, GENERATIONS)] > 1.3 * q95[(0.0, 0)]':
            sweep('test_seed_sweep_lesson06.py', 'nb06_main_run_asserts'),
        'assert min(d2[(0.0, g)] for g in range(GENERATIONS + 1)) > 0.8 * real_distinct':
            sweep('test_seed_sweep_lesson06.py', 'nb06_main_run_asserts'),
        'assert div["5-way beam search"] < 0.7 * real_distinct':
            sweep('test_seed_sweep_lesson06.py', 'nb06_decoding_asserts'),
        'assert div["sampling, T = 1"] > div["5-way beam search"]':
            sweep('test_seed_sweep_lesson06.py', 'nb06_decoding_asserts'),
        'assert like["5-way beam search"] < 0.7 * like["sampling, T = 1"]':
            sweep('test_seed_sweep_lesson06.py', 'nb06_decoding_asserts'),
        'assert div["beam search + repetition penalty 3"] > div["5-way beam search"]':
            sweep('test_seed_sweep_lesson06.py', 'nb06_decoding_asserts'),
        'assert like["beam search + repetition penalty 3"] > like["5-way beam search"]':
            sweep('test_seed_sweep_lesson06.py', 'nb06_decoding_asserts'),
        'assert explorer.n_draws == n + 1 and explorer.last_result["generation"] == 1':
            EXPLORER,
        'assert set(plan["real_fractions"]) <= set(explorer.available)':
            EXPLORER,
    },
    '07_defences.ipynb': {
        'assert tpr_64 - fpr_64 > 5 * se':
            sweep('test_seed_sweep_lesson07_watermark.py', 'nb07_watermark_detection'),
        'assert det_by_len[-1] - det_by_len[0] > 4 * se_len':
            sweep('test_seed_sweep_lesson07_watermark.py', 'nb07_watermark_detection'),
        'assert a0 - a_last > 4 * np.sqrt(max(a0 * (1 - a0), 1 / n) / n + max(a_last * (1 - a_last), 1 / n) / n)':
            sweep('test_seed_sweep_lesson07_watermark.py', 'nb07_watermark_detection'),
        'assert cost["green rate"].iloc[-1] > cost["green rate"].iloc[0]':
            sweep('test_seed_sweep_lesson07_watermark.py', 'nb07_watermark_detection'),
        'assert none.mean() - full.mean() > 3 * np.sqrt(none.var() / len(none) + full.var() / len(full))':
            sweep('test_seed_sweep_lesson07.py', 'nb07_coordination_helps'),
        'assert share[labels[-1]] < share[labels[0]] - 0.3':
            sweep('test_seed_sweep_lesson07.py', 'nb07_coordination_helps'),
        'assert abs(got.mean() - 0.25) < 4 * got.std() / np.sqrt(got.size) + 0.01':
            sweep('test_seed_sweep_lesson07.py', 'nb07_min_share_meets_the_target'),
        'assert ppl.iloc[0].mean() < zero_shot':
            sweep('test_seed_sweep_lesson07_watermark.py', 'nb07_filter_run_asserts'),
        'assert rise_full < rise_none, (rise_full, rise_none)':
            sweep('test_seed_sweep_lesson07_watermark.py', 'nb07_filter_run_asserts'),
        'assert probe.last_error is None and probe.last_result["tpr"] < 1':
            BINOMIAL_RATE,
        'assert np.mean(score_human >= th) <= 0.05':
            THRESHOLD,
        'assert d01.mean() > 3 * d01.std() / np.sqrt(len(d01)), "phase 1: the first verified generation improves"':
            sweep('test_seed_sweep_lesson07.py', 'nb07_verifier_two_phases'),
        'assert dist[:, -1].mean() < 0.5 * dist[:, 0].mean(), "phase 2: the fit is pulled to the verifier\'s centre ..."':
            sweep('test_seed_sweep_lesson07.py', 'nb07_verifier_two_phases'),
        'assert gap.mean() > 3 * gap.std() / np.sqrt(len(gap)), "... which is not the truth"':
            sweep('test_seed_sweep_lesson07.py', 'nb07_verifier_two_phases'),
        'assert d.mean() > 3 * d.std() / np.sqrt(len(d)), b':
            sweep('test_seed_sweep_lesson07.py', 'nb07_verifier_two_phases'),
    },
    '08_web_as_a_commons.ipynb': {
        'assert np.allclose(values(keeping, "synthetic share")[0], [web.synthetic_share(g, M) for g in range(years + 1)])':
            WEB_COUNT,
        'assert ahead > 3 * ahead_se, "the late entrant should be worse off once the web fills up"':
            sweep('test_seed_sweep_lesson08.py', 'nb08_late_entrant_pays'),
        'assert a1 > 3 * s1, "the first mover should be clearly ahead when the web forgets"':
            sweep('test_seed_sweep_lesson08.py', 'nb08_advantage_large_then_small'),
        'assert a1 - a2 > 3 * np.hypot(s1, s2), "the advantage should be smaller when the web keeps its human data"':
            sweep('test_seed_sweep_lesson08.py', 'nb08_advantage_large_then_small'),
        'assert left.isna().all()':
            CUTOFF_EMPTY,
        'assert np.array_equal(values(keeping, "entrant.filtered entrant"), values(keeping, "entrant.first mover"))':
            CUTOFF_SAME,
        'assert diff.mean() > 3 * diff.std(ddof=1) / np.sqrt(len(diff)), "with a sampling bias the fixed real set should lose"':
            sweep('test_seed_sweep_lesson08.py', 'nb08_mad_fixed_set_loses'),
        'assert gap.mean() > 3 * gap.std(ddof=1) / np.sqrt(len(gap)), "fresh data should keep more of the variance"':
            sweep('test_seed_sweep_lesson08.py', 'nb08_mixture_fresh_keeps_variance'),
        'assert np.median(kl0) < kl_gaussian / 2 and kl0.mean() + 4 * sem(kl0) < kl_gaussian, \\':
            sweep('test_seed_sweep_lesson08.py', 'nb08_neural_flow_fixed_set_delays_fresh_prevents'),
        'assert gap.mean() > 3 * sem(gap), "fresh data should keep more of the variance than the fixed real set"':
            sweep('test_seed_sweep_lesson08.py', 'nb08_neural_flow_fixed_set_delays_fresh_prevents'),
        'assert delay.mean() > 3 * sem(delay), "the fixed real set should still delay the fully synthetic collapse"':
            sweep('test_seed_sweep_lesson08.py', 'nb08_neural_flow_fixed_set_delays_fresh_prevents'),
        'assert last.mean() - 4 * se > 0.5 * strong_floor(p, shift), "the floor should stay above zero as n grows"':
            sweep('test_seed_sweep_lesson08.py', 'nb08_strong_collapse_floor'),
        'assert last.mean() > 3 * clean.mean(), "with p = 0 the error keeps falling"':
            sweep('test_seed_sweep_lesson08.py', 'nb08_strong_collapse_floor'),
        'assert abs(grp["error"].mean() - law) < 4 * grp["error"].std(ddof=1) / np.sqrt(reps) + 0.05 * law, (q, n)':
            sweep('test_seed_sweep_lesson08.py', 'nb08_strong_collapse_floor'),
        'assert probe.last_error is None and probe.figure is not None':
            EXPLORER,
    },

}

#: sweep functions that combine others (no notebook assert of their own)
AGGREGATES = {("test_seed_sweep_lesson03.py", "nb03_all_asserts")}


def code_cells(path):
    """The sources of the notebook's code cells."""
    return ["".join(c["source"]) for c in json.loads(path.read_text(encoding="utf-8"))["cells"] if c["cell_type"] == "code"]


def cell_asserts(source):
    """The first line of every ``assert`` statement in a cell (stripped, runs of spaces as one)."""
    return [re.sub(r"\s+", " ", line.strip()) for line in source.splitlines() if re.match(r"\s*assert\b", line)]


def notebook_asserts(path):
    """The first line of every ``assert`` statement in the notebook's code cells."""
    return [line for source in code_cells(path) for line in cell_asserts(source)]


def defined_functions(file):
    """Names of the top-level functions of ``tests/<file>`` and how often each name occurs in the file."""
    source = (TESTS / file).read_text(encoding="utf-8")
    names = {node.name for node in ast.parse(source).body if isinstance(node, ast.FunctionDef)}
    return {name: len(re.findall(rf"\b{name}\b", source)) for name in names}


def test_every_notebook_assert_is_accounted_for():
    notebooks = sorted(p.name for p in (ROOT / "solutions").glob("*.ipynb"))
    assert sorted(NOTEBOOK_ASSERTS) == notebooks, "one registry entry per solution notebook"
    for name in notebooks:
        found, known = notebook_asserts(ROOT / "solutions" / name), NOTEBOOK_ASSERTS[name]
        new = [line for line in found if line not in known]
        gone = [line for line in known if line not in found]
        assert not new, (f"{name}: an assert the registry does not know (new or changed): {new}. Add it to "
                         "NOTEBOOK_ASSERTS with the seed sweep that re-runs it (and change that sweep to match), "
                         "or say why no seed changes it")
        assert not gone, f"{name}: the registry lists asserts the notebook no longer has: {gone}"


def test_every_named_sweep_exists_and_is_swept():
    for name, known in NOTEBOOK_ASSERTS.items():
        for line, (kind, *rest) in known.items():
            assert kind in ("sweep", "fixed"), (name, line)
            if kind == "sweep":
                file, function = rest
                uses = defined_functions(file).get(function)
                assert uses is not None, f"{name}: {line!r} names {file}::{function}, which does not exist"
                # defined, and used: in a SWEEP list, by assert_holds_for_many_seeds or by an aggregate
                assert uses >= 2, f"{file}::{function} is defined but no test sweeps it"


def test_every_sweep_function_has_a_notebook_assert():
    named = {(f, fn) for known in NOTEBOOK_ASSERTS.values() for kind, *rest in known.values() if kind == "sweep"
             for f, fn in [rest]}
    for file in sorted(p.name for p in TESTS.glob("test_*.py")):
        for function in defined_functions(file):
            if re.match(r"nb\d\d_", function) and (file, function) not in AGGREGATES:
                assert (file, function) in named, (f"{file}::{function} sweeps no notebook assert of the registry: "
                                                   "name it in NOTEBOOK_ASSERTS or remove it")


# --- the sizes a swept assert depends on, in any cell ---------------------------------------------------------
#
# A statement-level reading of the notebook: which earlier top-level statements an assert's values come from
# (the last statement that binds each name it reads, and the ones after it that change that value in place,
# then theirs, and so on). It over-approximates (a statement that binds one name the assert needs brings all
# its picks) and never runs anything.

PICK = re.compile(r"pick\((full=[^()]*?,\s*quick=[^()]*?)\)")
MUTATORS = {"append", "extend", "update", "insert", "add", "setdefault", "pop", "clear", "remove", "sort", "fill"}
SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef, ast.ListComp, ast.SetComp,
          ast.DictComp, ast.GeneratorExp)

#: inputs of swept asserts that the sweep replaces on purpose: (notebook, sweep file) -> {picked sizes: why}
SUBSTITUTED = {
    ("06_recursive_finetuning.ipynb", "test_seed_sweep_lesson06.py"): {
        'full=[0, 1, 2] if info["device"] == "cuda" else [0], quick=[0]':
            "the notebook's seeds: the sweep runs one seed per call, each of its own seeds in turn (on a GPU "
            "the notebook averages three seeds, less noisy than the one the sweep checks)",
    },
    ("07_defences.ipynb", "test_seed_sweep_lesson07.py"): {
        # the coordination runs read only TPR from these cells: the detection rate of the notebook's 256-token
        # watermarked texts, one number per mode (the shipped base GPT, generation seed 1): 1.0 in quick and in
        # full mode (measured at stop 14; also 1.0 with generation seed 2)
        "full=300, quick=64": "the watermarked texts give the coordination runs their TPR (1.0 in both modes); "
                              "the sweep runs them at TPR 1.0 and 0.9",
        "full=96, quick=32": "the fine-tuning setup, read for the base GPT that writes the texts behind TPR "
                             "(the sweep sets TPR, above)",
        "full=64, quick=32": "the fine-tuning setup, read for the base GPT that writes the texts behind TPR "
                             "(the sweep sets TPR, above)",
    },
    ("07_defences.ipynb", "test_seed_sweep_lesson07_watermark.py"): {
        "full=[0.0, 0.5, 0.9, 1.0], quick=[0.0, 1.0]":
            "the arms: the asserts compare the no-filter arm and the arm where every provider watermarks (and "
            "the mean of generation 0, the same model in every arm), so the sweep runs those two",
    },
}


def _cell_statements(source):
    """A cell's top-level statements (IPython magics and shell lines blanked, so line numbers hold)."""
    return ast.parse("\n".join("" if re.match(r"\s*[%!]", line) else line for line in source.splitlines())).body


def _namespace_nodes(node):
    """The nodes of a statement that run in the notebook's namespace (a def or a comprehension, not its body)."""
    yield node
    for child in ast.iter_child_nodes(node):
        if isinstance(child, SCOPES):
            yield child
        else:
            yield from _namespace_nodes(child)


def bound(stmt):
    """Names a statement binds or changes in place in the notebook's namespace (``x = …``, ``x[…] = …``,
    ``x.attr = …``, ``x.append(…)``, ``def x``, ``import x``)."""
    out = set()
    for node in _namespace_nodes(stmt):
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            out.add(node.id)
        elif isinstance(node, (ast.Subscript, ast.Attribute)) and isinstance(node.ctx, ast.Store):
            while isinstance(node, (ast.Subscript, ast.Attribute)):
                node = node.value
            if isinstance(node, ast.Name):
                out.add(node.id)
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
              and isinstance(node.func.value, ast.Name) and node.func.attr in MUTATORS):
            out.add(node.func.value.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            out.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            out |= {(alias.asname or alias.name).split(".")[0] for alias in node.names}
    return out


def _names(target):
    return {n.id for n in ast.walk(target) if isinstance(n, ast.Name)}


def used(node, local=frozenset()):
    """Names a statement reads from the notebook's namespace: not the names local to a def or a comprehension,
    nor those a block binds before it reads them."""
    if isinstance(node, SCOPES):
        inner = set(local) | {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
        inner |= {a.arg for a in ast.walk(node) if isinstance(a, ast.arg)}
        out = set()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):   # evaluated where the def runs
            for d in node.decorator_list + node.args.defaults + [d for d in node.args.kw_defaults if d]:
                out |= used(d, local)
        return out.union(*(used(child, frozenset(inner)) for child in ast.iter_child_nodes(node)))
    if isinstance(node, (ast.For, ast.AsyncFor)):
        return used(node.iter, local) | used_in_order(node.body + node.orelse, local | _names(node.target))
    if isinstance(node, (ast.While, ast.If)):
        return used(node.test, local) | used_in_order(node.body, local) | used_in_order(node.orelse, local)
    if isinstance(node, (ast.With, ast.AsyncWith)):
        own = set().union(*(_names(i.optional_vars) for i in node.items if i.optional_vars))
        return set().union(*(used(i.context_expr, local) for i in node.items)) | used_in_order(node.body, local | own)
    out = {node.id} if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id not in local else set()
    return out.union(*(used(child, local) for child in ast.iter_child_nodes(node)))


def used_in_order(body, local):
    """Names a block of statements reads from before it (what an earlier statement of the block binds is its own)."""
    out, local = set(), set(local)
    for stmt in body:
        out |= used(stmt, frozenset(local))
        local |= bound(stmt)
    return out


def dependencies(statements, k, binds, reads):
    """Indices of the statements that statement ``k`` reads from, transitively, ``k`` included (``binds`` and
    ``reads``: each statement's :func:`bound` and :func:`used`)."""
    seen, todo = {k}, [k]
    while todo:
        j = todo.pop()
        for name in reads[j]:
            for i in range(j - 1, -1, -1):
                if name in binds[i]:
                    if i not in seen:
                        seen.add(i)
                        todo.append(i)
                    stmt = statements[i]
                    if isinstance(stmt, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name
                                                            for t in stmt.targets):
                        break   # rebound here: nothing earlier reaches statement j through this name
    return sorted(seen)


def assert_inputs(sources):
    """For each assert of a notebook (its first line, as in the registry): the ``pick(full=…, quick=…)`` sizes
    of every statement its values come from, in any cell."""
    statements, texts = [], []
    for source in sources:
        for stmt in _cell_statements(source):
            statements.append(stmt)
            texts.append(source)
    binds, reads = [bound(stmt) for stmt in statements], [used(stmt) for stmt in statements]
    picks = [PICK.findall("\n".join(text.splitlines()[stmt.lineno - 1:stmt.end_lineno]))
             for stmt, text in zip(statements, texts)]
    out = {}
    for k, stmt in enumerate(statements):
        asserts = [node for node in ast.walk(stmt) if isinstance(node, ast.Assert)]
        if asserts:
            inputs = [sizes for j in dependencies(statements, k, binds, reads) for sizes in picks[j]]
            for node in asserts:
                line = re.sub(r"\s+", " ", texts[k].splitlines()[node.lineno - 1].strip())
                out.setdefault(line, []).extend(inputs)
    return out


def _squeeze(text):
    return re.sub(r"\s+", "", text)


def test_swept_asserts_use_the_notebooks_sizes():
    """Every ``pick(full=…, quick=…)`` that a swept assert's values come from, in its own cell or an earlier one,
    stands in the sweep's file too (or in SUBSTITUTED, with why), so the sweep runs the notebook's sizes."""
    used_substitutions = set()
    for name, known in NOTEBOOK_ASSERTS.items():
        for line, picks in assert_inputs(code_cells(ROOT / "solutions" / name)).items():
            kind, *rest = known.get(line, ("new",))   # new: test_every_notebook_assert_is_accounted_for says so
            if kind != "sweep":
                continue
            file = rest[0]
            sweep_source = _squeeze((TESTS / file).read_text(encoding="utf-8"))
            allowed = SUBSTITUTED.get((name, file), {})
            for sizes in picks:
                if sizes in allowed:
                    used_substitutions.add((name, file, sizes))
                    continue
                assert _squeeze(sizes) in sweep_source, (
                    f"{name}: {line!r} depends on pick({sizes}), which {file} does not use. Make the sweep take "
                    "the same sizes, or say in SUBSTITUTED why it replaces them")
    stale = {(n, f, s) for (n, f), subs in SUBSTITUTED.items() for s in subs} - used_substitutions
    assert not stale, f"SUBSTITUTED lists sizes no swept assert depends on any more: {sorted(stale)}"


def test_dependencies_follow_names_across_cells():
    """The reading behind the size test, on a made-up notebook: sizes reach an assert through names and cells;
    a loop variable, a comprehension's variable or a rebinding does not carry them."""
    cells = ["N = ck.pick(full=100, quick=10)\nK = ck.pick(full=7, quick=3)",
             "runs = simulate(N)\nfor K in range(2):\n    print(K)",
             "rows = []\nrows.append(ck.pick(full=5, quick=1))",
             "M = ck.pick(full=9, quick=2)\nM = 4",
             "assert runs.mean() < 1\nassert len(rows) == 1\nassert all(K > 0 for K in runs)\nassert M == 4"]
    got = assert_inputs(cells)
    assert got["assert runs.mean() < 1"] == ["full=100, quick=10"]
    assert got["assert len(rows) == 1"] == ["full=5, quick=1"]          # changed in place by .append
    assert got["assert all(K > 0 for K in runs)"] == ["full=100, quick=10"]   # K: the comprehension's own
    assert got["assert M == 4"] == []                                     # rebound after the pick
    loop = ["K = ck.pick(full=7, quick=3)", "for i in range(K):\n    x = i\n    assert x >= 0"]
    assert assert_inputs(loop)["assert x >= 0"] == ["full=7, quick=3"]   # x is the loop's own, K is not


@pytest.mark.parametrize("name", sorted(NOTEBOOK_ASSERTS))
def test_lesson_has_the_solutions_asserts(name):
    """The student notebook keeps every assert of its solution (lessons/ is generated from solutions/)."""
    lesson = notebook_asserts(ROOT / "lessons" / name)
    assert [line for line in notebook_asserts(ROOT / "solutions" / name) if line not in lesson] == []
