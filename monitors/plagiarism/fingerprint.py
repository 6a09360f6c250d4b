"""Step 2: token stream → k-gram hashes → winnowed fingerprints (Schleimer et al. 2003).

Winnowing keeps the minimum hash of every window of `w` consecutive k-grams, so any
shared run of at least w + k - 1 tokens leaves at least one shared fingerprint
while only about 2/(w+1) of the k-grams are kept. Everything is vectorised with
numpy; token ids come from CRC-32 so that fingerprints are the same in every
process (Python's `hash` of a str is salted per process).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

K = 9  # tokens per k-gram: about one statement of normalised Python
W = 4  # winnowing window, in k-grams

_BASE = np.uint64(1_000_003)
_token_ids: dict[str, int] = {}


@dataclass(frozen=True, slots=True)
class Fingerprints:
    """Selected k-gram hashes and the token position where each k-gram starts."""

    hashes: np.ndarray  # uint64
    positions: np.ndarray  # int64, token index of the k-gram's first token

    def __len__(self) -> int:
        return len(self.hashes)


def token_ids(tokens: list[str]) -> np.ndarray:
    out = np.empty(len(tokens), dtype=np.uint64)
    for i, tok in enumerate(tokens):
        tid = _token_ids.get(tok)
        if tid is None:
            tid = _token_ids[tok] = zlib.crc32(tok.encode("utf-8")) + 1
        out[i] = tid
    return out


def kgram_hashes(tokens: list[str], k: int = K) -> np.ndarray:
    """Hash of every k-gram (polynomial, wrapping in uint64), one per start position."""
    ids = token_ids(tokens)
    n = len(ids) - k + 1
    if n <= 0:
        return np.empty(0, dtype=np.uint64)
    h = np.zeros(n, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for j in range(k):
            h = h * _BASE + ids[j : j + n]
        # a final avalanche step so that winnowing's minimum is not biased towards
        # k-grams that start with low token ids
        h ^= h >> np.uint64(33)
        h *= np.uint64(0xFF51AFD7ED558CCD)
        h ^= h >> np.uint64(33)
    return h


def winnow(hashes: np.ndarray, w: int = W) -> Fingerprints:
    """The winnowed fingerprints of a k-gram hash sequence (rightmost minimum per window)."""
    n = len(hashes)
    if n == 0:
        return Fingerprints(np.empty(0, dtype=np.uint64), np.empty(0, dtype=np.int64))
    if n <= w:
        pos = np.array([n - 1 - int(np.argmin(hashes[::-1]))], dtype=np.int64)
        return Fingerprints(hashes[pos], pos)
    windows = sliding_window_view(hashes, w)
    # rightmost minimum: argmin on the reversed window, mapped back
    rightmost = w - 1 - np.argmin(windows[:, ::-1], axis=1)
    pos = np.unique(np.arange(len(windows)) + rightmost).astype(np.int64)
    return Fingerprints(hashes[pos], pos)


def fingerprint(tokens: list[str], k: int = K, w: int = W) -> Fingerprints:
    return winnow(kgram_hashes(tokens, k), w)
