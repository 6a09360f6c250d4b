"""Fingerprints: winnowing's guarantee and determinism."""

import random

import numpy as np

from monitors.plagiarism.fingerprint import K, W, fingerprint, kgram_hashes, winnow


def _tokens(n, seed):
    rng = random.Random(seed)
    return [rng.choice(["N", "(", ")", "=", ".", "fit", "read_csv", "S", "0", ";", "+", "for", "in"]) for _ in range(n)]


def test_a_shared_run_of_w_plus_k_minus_1_tokens_always_shares_a_fingerprint():
    for seed in range(30):
        shared = _tokens(W + K - 1, seed)
        a = _tokens(50, seed + 100) + shared + _tokens(40, seed + 200)
        b = _tokens(70, seed + 300) + shared
        common = set(fingerprint(a).hashes.tolist()) & set(fingerprint(b).hashes.tolist())
        assert common, f"seed {seed}: winnowing lost a shared run"


def test_winnowing_keeps_a_fraction_of_kgrams_with_positions_in_order():
    toks = _tokens(2000, 1)
    fp = fingerprint(toks)
    n_kgrams = len(toks) - K + 1
    assert n_kgrams / (W + 1) <= len(fp) <= n_kgrams * 0.8
    assert np.all(np.diff(fp.positions) > 0)
    assert np.array_equal(kgram_hashes(toks)[fp.positions], fp.hashes)


def test_hashes_are_stable_values_not_salted_per_process():
    # same input, fresh computation: equal; different order: different
    a = kgram_hashes(["N", "=", "N", ".", "read_csv", "(", "S", ")", ";", "N"])
    b = kgram_hashes(["N", "=", "N", ".", "read_csv", "(", "S", ")", ";", "N"])
    c = kgram_hashes(["N", "N", "=", ".", "read_csv", "(", "S", ")", ";", "N"])
    assert a.tolist() == b.tolist() and a.tolist() != c.tolist()


def test_short_inputs():
    assert len(fingerprint(["N"] * (K - 1))) == 0
    few = winnow(kgram_hashes(_tokens(K + 1, 3)))
    assert len(few) == 1
