"""Step 3: the notebook index. MinHash LSH over chunks of fingerprints finds candidates
in milliseconds; the pairs step then compares only those exactly.

Each notebook is cut into overlapping chunks (`CHUNK` API-channel fingerprints,
every `STEP`); each chunk gets a MinHash signature. A query is chunked the same way,
so a copy of a part of a long notebook meets the chunks it came from with a high
Jaccard even though the two whole files share little. Candidates are ranked by the
number of chunk hits.

The signatures are datasketch's MinHash (its affine32 scheme and permutations,
bit for bit; a test checks it), computed for all chunks of a file in one numpy pass,
and the banding is datasketch's optimal (bands, rows) for `LSH_THRESHOLD`. The band
tables themselves are sorted numpy arrays rather than datasketch's `MinHashLSH`:
that class is filled key by key (about 70 µs a key: minutes for the millions of
chunks of 100,000 notebooks, at every load) and persists only through pickle or a
Redis/Cassandra server, where sorted arrays build in seconds and search by bisection.

LSH over 16-line chunks misses copies shorter than a chunk (a 40 % part of a short
notebook, or a short notebook over a few cells): their chunks are mostly the agent's
own code. A second, exact candidate source covers them: a sample of every notebook's
API fingerprints (one in `FP_SAMPLE`, by hash value, so both sides keep the same
ones) in a sorted array, the notebook of each beside it. A notebook sharing at least
`MIN_SHARED_FP` sampled fingerprints with the query is a candidate too; fingerprints
found in more than `MAX_POSTING` notebooks are boilerplate and ignored. It is asked for
queries of up to `SMALL_QUERY_TOKENS` tokens, and for longer ones the LSH finds
nothing for: on long queries the LSH alone finds what is worth comparing, and the
exact table would add pairs that share only a block or two.

The file is one `.npz` (numpy, loaded with `allow_pickle=False`): arrays for the
signatures, the notebooks' code and line maps, and a JSON header validated with
pydantic. Nothing in it is executed or unpickled, so an index from elsewhere is safe
to load.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
import zipfile
from concurrent.futures import ProcessPoolExecutor
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from datasketch import MinHash, MinHashLSH
from pydantic import BaseModel, ValidationError

from monitors.plagiarism.calibrate import Background, background
from monitors.plagiarism.fingerprint import K, W
from monitors.plagiarism.notebooks import CodeText, NotebookFile
from monitors.plagiarism.pairs import Doc, analyse, compare

FORMAT = "mle-auditor-plagiarism-index"
VERSION = 3  # 3: imports dropped, module paths and self. normalised
NUM_PERM = 64
SEED = 1
STEP = 32  # fingerprints; a chunk is two steps, about 16 lines of code
CHUNK = 2 * STEP
LSH_THRESHOLD = 0.3
MAX_CANDIDATES = 10
MIN_HIT_SHARE = 4  # candidates need at least 1/4 of the best candidate's chunk hits
DEFAULT_COPY_THRESHOLD = 0.6
FP_SAMPLE = 4  # one API fingerprint in 4 goes into the exact candidate table
MIN_SHARED_FP = 3  # about 30 tokens in common, among the sampled fingerprints
MAX_POSTING = 64
SMALL_QUERY_TOKENS = 600  # below about three LSH chunks, chunks are mostly the agent's own code

_LSH_PARAMS = MinHashLSH(threshold=LSH_THRESHOLD, num_perm=NUM_PERM)
BANDS, ROWS = _LSH_PARAMS.b, _LSH_PARAMS.r
_A, _B = (np.asarray(x, dtype=np.uint32) for x in MinHash(num_perm=NUM_PERM, seed=SEED).permutations)
_BAND_MULT = np.random.RandomState(12345).randint(1, 2**62, size=ROWS, dtype=np.int64).astype(np.uint64) * np.uint64(2) + np.uint64(1)


class IndexFormatError(ValueError):
    """A file that is not a plagiarism index this version can read; the message says why."""


class IndexMeta(BaseModel):
    format: str
    version: int
    k: int
    w: int
    num_perm: int
    seed: int
    chunk: int
    step: int
    competitions: list[str]
    sources: list[str]
    backgrounds: dict[str, Background]
    content_hash: str = ""


@dataclass
class Candidate:
    doc: int
    hits: int


def fmix32(h: np.ndarray) -> np.ndarray:
    """MurmurHash3's 32-bit finaliser, which datasketch's affine32 scheme applies first."""
    h = h ^ (h >> np.uint32(16))
    h = h * np.uint32(0x85EBCA6B)
    h = h ^ (h >> np.uint32(13))
    h = h * np.uint32(0xC2B2AE35)
    return h ^ (h >> np.uint32(16))


def minhash_values(values: np.ndarray) -> np.ndarray:
    """Permuted hash values (n, NUM_PERM) of uint32 inputs, as datasketch's update_batch makes them."""
    with np.errstate(over="ignore"):
        return fmix32(values.astype(np.uint32))[:, None] * _A[None, :] + _B[None, :]


def chunk_signatures(doc: Doc) -> np.ndarray:
    """MinHash signatures (uint32, one row per chunk) of the doc's API fingerprints."""
    hashes = doc.api.hashes
    if len(hashes) == 0:
        return np.empty((0, NUM_PERM), dtype=np.uint32)
    folded = ((hashes ^ (hashes >> np.uint64(32))) & np.uint64(0xFFFFFFFF)).astype(np.uint32)
    block_min = np.minimum.reduceat(minhash_values(folded), np.arange(0, len(folded), STEP), axis=0)
    if len(block_min) == 1:
        return block_min
    return np.minimum(block_min[:-1], block_min[1:])  # a chunk is two consecutive blocks


def band_keys(sigs: np.ndarray, salt: np.ndarray) -> np.ndarray:
    """(BANDS, n) uint64 keys, one per band of each signature, salted by competition."""
    with np.errstate(over="ignore"):
        rows = sigs[:, : BANDS * ROWS].astype(np.uint64).reshape(len(sigs), BANDS, ROWS)
        keys = (rows * _BAND_MULT[None, None, :]).sum(axis=2, dtype=np.uint64)
        keys ^= salt.astype(np.uint64)[:, None] * np.uint64(0x9E3779B97F4A7C15)
        keys ^= keys >> np.uint64(29)
    return np.ascontiguousarray(keys.T)


class BandTables:
    """The LSH tables: per band, the sorted keys of all chunks and the chunk of each key."""

    def __init__(self, sigs: np.ndarray, competition_of_chunk: np.ndarray) -> None:
        keys = band_keys(sigs, competition_of_chunk)
        order = np.argsort(keys, axis=1, kind="stable")
        self.keys = np.take_along_axis(keys, order, axis=1)
        self.chunks = order.astype(np.int32)

    def query(self, sigs: np.ndarray, competition: int) -> np.ndarray:
        """Chunk ids that share at least one band with any of `sigs` (with repeats)."""
        if len(sigs) == 0 or self.keys.shape[1] == 0:
            return np.empty(0, dtype=np.int32)
        q = band_keys(sigs, np.full(len(sigs), competition))
        found = []
        for band in range(BANDS):
            lo = np.searchsorted(self.keys[band], q[band], side="left")
            hi = np.searchsorted(self.keys[band], q[band], side="right")
            found.extend(self.chunks[band, a:b] for a, b in zip(lo.tolist(), hi.tolist()) if b > a)
        return np.concatenate(found) if found else np.empty(0, dtype=np.int32)


class NotebookIndex:
    def __init__(
        self,
        meta: IndexMeta,
        doc_comp: np.ndarray,
        texts: list[str],
        file_lines: list[list[int]],
        chunk_doc: np.ndarray,
        chunk_sigs: np.ndarray,
        fp_hashes: np.ndarray | None = None,
        fp_docs: np.ndarray | None = None,
    ) -> None:
        self.meta = meta
        self.fp_hashes = fp_hashes if fp_hashes is not None else np.empty(0, dtype=np.uint64)
        self.fp_docs = fp_docs if fp_docs is not None else np.empty(0, dtype=np.int32)
        self.doc_comp = doc_comp
        self.texts = texts
        self.file_lines = file_lines
        self.chunk_doc = chunk_doc
        self.chunk_sigs = chunk_sigs
        self._tables: BandTables | None = None
        self._docs: OrderedDict[int, Doc] = OrderedDict()
        self._lock = threading.Lock()  # the pipeline may check episodes in threads

    # ------------------------------------------------------------------ building

    @classmethod
    def build(
        cls,
        notebooks: Iterable[NotebookFile],
        copy_threshold: float = DEFAULT_COPY_THRESHOLD,
        content_hash: str = "",
        calibrate: bool = True,
        workers: int = 1,
    ) -> NotebookIndex:
        competitions: list[str] = []
        comp_ids: dict[str, int] = {}
        sources, texts, file_lines, doc_comp = [], [], [], []
        chunk_doc: list[np.ndarray] = []
        chunk_sigs: list[np.ndarray] = []
        fp_hashes: list[np.ndarray] = []
        fp_docs: list[np.ndarray] = []
        notebooks = list(notebooks)
        for nb, (sigs, sampled) in zip(notebooks, _signatures([nb.code.text for nb in notebooks], workers)):
            if nb.competition not in comp_ids:
                comp_ids[nb.competition] = len(competitions)
                competitions.append(nb.competition)
            doc_id = len(sources)
            sources.append(nb.source)
            texts.append(nb.code.text)
            file_lines.append(nb.code.file_lines)
            doc_comp.append(comp_ids[nb.competition])
            chunk_doc.append(np.full(len(sigs), doc_id, dtype=np.int32))
            chunk_sigs.append(sigs)
            fp_hashes.append(sampled)
            fp_docs.append(np.full(len(sampled), doc_id, dtype=np.int32))
        meta = IndexMeta(
            format=FORMAT, version=VERSION, k=K, w=W, num_perm=NUM_PERM, seed=SEED, chunk=CHUNK, step=STEP,
            competitions=competitions, sources=sources, backgrounds={}, content_hash=content_hash,
        )  # fmt: skip
        index = cls(
            meta,
            np.array(doc_comp, dtype=np.int32),
            texts,
            file_lines,
            np.concatenate(chunk_doc) if chunk_doc else np.empty(0, dtype=np.int32),
            np.concatenate(chunk_sigs) if chunk_sigs else np.empty((0, NUM_PERM), dtype=np.uint32),
            *_fingerprint_table(fp_hashes, fp_docs),
        )
        if calibrate:
            for comp in competitions:
                index.meta.backgrounds[comp] = index.calibrate(comp, copy_threshold)
        return index

    def calibrate(self, competition: str, copy_threshold: float) -> Background:
        ids = self.docs_of(competition)
        return background(len(ids), lambda i, j: compare(self.doc(ids[i]), self.doc(ids[j])).score, copy_threshold)

    # ------------------------------------------------------------------ reading

    def __len__(self) -> int:
        return len(self.meta.sources)

    def docs_of(self, competition: str) -> list[int]:
        try:
            cid = self.meta.competitions.index(competition)
        except ValueError:
            return []
        return np.flatnonzero(self.doc_comp == cid).tolist()

    def source(self, doc_id: int) -> str:
        return self.meta.sources[doc_id]

    def code(self, doc_id: int) -> CodeText:
        return CodeText(self.texts[doc_id], self.file_lines[doc_id])

    def background(self, competition: str) -> Background:
        return self.meta.backgrounds.get(competition, Background())

    def doc(self, doc_id: int) -> Doc:
        """The analysed notebook, from a small LRU cache (analysis is the costly step)."""
        with self._lock:
            cached = self._docs.get(doc_id)
            if cached is not None:
                self._docs.move_to_end(doc_id)
                return cached
        d = analyse(self.texts[doc_id])
        with self._lock:
            self._docs[doc_id] = d
            if len(self._docs) > 512:
                self._docs.popitem(last=False)
        return d

    def candidates(self, competition: str, query: Doc, limit: int = MAX_CANDIDATES) -> list[Candidate]:
        """Notebooks of `competition` whose chunks the LSH puts near the query's, most hits first."""
        try:
            cid = self.meta.competitions.index(competition)
        except ValueError:
            return []
        with self._lock:
            if self._tables is None:  # built on the first query, for all competitions at once
                self._tables = BandTables(self.chunk_sigs, self.doc_comp[self.chunk_doc])
        chunks = np.unique(self._tables.query(chunk_signatures(query), cid))
        docs = self.chunk_doc[chunks]
        docs = docs[self.doc_comp[docs] == cid]  # a salted key may collide across competitions
        ids, hits = np.unique(docs, return_counts=True)
        order = np.lexsort((ids, -hits))[:limit]
        found: list[Candidate] = []
        if len(order):
            # the source of a copy shares many chunks; notebooks that share a small
            # fraction of the best one's hits are chance band collisions, not worth a comparison
            floor = max(1, int(hits[order[0]]) // MIN_HIT_SHARE)
            found = [Candidate(int(ids[i]), int(hits[i])) for i in order if hits[i] >= floor]
        if found and len(query) > SMALL_QUERY_TOKENS:
            return found
        known = {c.doc for c in found}
        return found + [c for c in self.fingerprint_candidates(cid, query, limit) if c.doc not in known]

    def fingerprint_candidates(self, cid: int, query: Doc, limit: int) -> list[Candidate]:
        """Notebooks of competition `cid` sharing at least `MIN_SHARED_FP` sampled API
        fingerprints with the query, most first."""
        sampled = sampled_fingerprints(query)
        if len(sampled) == 0 or len(self.fp_hashes) == 0:
            return []
        lo = np.searchsorted(self.fp_hashes, sampled, side="left")
        hi = np.searchsorted(self.fp_hashes, sampled, side="right")
        keep = (hi > lo) & (hi - lo <= MAX_POSTING)
        if not keep.any():
            return []
        docs = np.concatenate([self.fp_docs[a:b] for a, b in zip(lo[keep].tolist(), hi[keep].tolist())])
        docs = docs[self.doc_comp[docs] == cid]
        ids, hits = np.unique(docs, return_counts=True)
        order = np.lexsort((ids, -hits))[:limit]
        return [Candidate(int(ids[i]), int(hits[i])) for i in order if hits[i] >= MIN_SHARED_FP]

    # ------------------------------------------------------------------ files

    def save(self, path: str | Path) -> None:
        """Write the index atomically (temp file in the same folder, then rename)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        text_bytes = [t.encode("utf-8") for t in self.texts]
        arrays = {
            "meta": np.frombuffer(self.meta.model_dump_json().encode("utf-8"), dtype=np.uint8),
            "doc_comp": self.doc_comp,
            "text_bytes": np.frombuffer(b"".join(text_bytes), dtype=np.uint8),
            "text_offsets": _offsets([len(b) for b in text_bytes]),
            "file_lines": np.array([x for fl in self.file_lines for x in fl], dtype=np.int32),
            "file_line_offsets": _offsets([len(fl) for fl in self.file_lines]),
            "chunk_doc": self.chunk_doc,
            "chunk_sigs": self.chunk_sigs,
            "fp_hashes": self.fp_hashes,
            "fp_docs": self.fp_docs,
        }
        fd, tmp = tempfile.mkstemp(prefix=".index-", suffix=".npz", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as fh:
                np.savez_compressed(fh, **arrays)
            os.chmod(tmp, 0o644)  # mkstemp makes it private; an index is shared data
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    @classmethod
    def load(cls, path: str | Path) -> NotebookIndex:
        try:
            with np.load(path, allow_pickle=False) as z:
                arrays = {name: z[name] for name in z.files}
        except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
            raise IndexFormatError(f"{path}: not a plagiarism index (.npz): {exc}") from exc
        return cls._from_arrays(arrays, str(path))

    @classmethod
    def _from_arrays(cls, a: dict[str, np.ndarray], where: str) -> NotebookIndex:
        needed = {"meta", "doc_comp", "text_bytes", "text_offsets", "file_lines", "file_line_offsets",
                  "chunk_doc", "chunk_sigs", "fp_hashes", "fp_docs"}  # fmt: skip
        missing = needed - set(a)
        if missing:
            raise IndexFormatError(f"{where}: not a plagiarism index: missing {sorted(missing)}")
        try:
            meta = IndexMeta.model_validate(json.loads(a["meta"].tobytes().decode("utf-8")))
        except (ValueError, ValidationError) as exc:
            raise IndexFormatError(f"{where}: bad index header: {exc}") from exc
        if meta.format != FORMAT or meta.version != VERSION:
            raise IndexFormatError(f"{where}: index format {meta.format!r} v{meta.version}, expected {FORMAT!r} v{VERSION}")
        if (meta.k, meta.w, meta.num_perm, meta.seed, meta.chunk, meta.step) != (K, W, NUM_PERM, SEED, CHUNK, STEP):
            raise IndexFormatError(f"{where}: index built with other parameters; rebuild it")
        n = len(meta.sources)
        doc_comp, chunk_doc, sigs = a["doc_comp"], a["chunk_doc"], a["chunk_sigs"]
        t_off, l_off = a["text_offsets"], a["file_line_offsets"]
        consistent = (
            doc_comp.shape == (n,) and t_off.shape == (n + 1,) and l_off.shape == (n + 1,)
            and sigs.ndim == 2 and sigs.shape[1] == NUM_PERM and chunk_doc.shape == (sigs.shape[0],)
            and (n == 0 or (int(doc_comp.max()) < len(meta.competitions) and int(doc_comp.min()) >= 0))
            and (len(chunk_doc) == 0 or (int(chunk_doc.max()) < n and int(chunk_doc.min()) >= 0))
            and int(t_off[-1]) == len(a["text_bytes"]) and int(l_off[-1]) == len(a["file_lines"])
            and a["fp_hashes"].shape == a["fp_docs"].shape and a["fp_hashes"].ndim == 1
            and (len(a["fp_docs"]) == 0 or (int(a["fp_docs"].max()) < n and int(a["fp_docs"].min()) >= 0))
            and bool(np.all(a["fp_hashes"][1:] >= a["fp_hashes"][:-1]))
        )  # fmt: skip
        if not consistent:
            raise IndexFormatError(f"{where}: index arrays are inconsistent (truncated or edited file)")
        raw = a["text_bytes"].tobytes()
        texts = [raw[t_off[i] : t_off[i + 1]].decode("utf-8", errors="replace") for i in range(n)]
        fl = a["file_lines"].tolist()
        file_lines = [fl[l_off[i] : l_off[i + 1]] for i in range(n)]
        return cls(meta, doc_comp.astype(np.int32), texts, file_lines, chunk_doc.astype(np.int32), sigs.astype(np.uint32),
                   a["fp_hashes"].astype(np.uint64), a["fp_docs"].astype(np.int32))


def sampled_fingerprints(doc: Doc) -> np.ndarray:
    """The doc's API fingerprints that go into the exact candidate table (unique, sorted)."""
    h = doc.api.hashes
    return np.unique(h[((h >> np.uint64(17)) % np.uint64(FP_SAMPLE)) == 0])


def _fingerprint_table(hashes: list[np.ndarray], docs: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    if not hashes:
        return np.empty(0, dtype=np.uint64), np.empty(0, dtype=np.int32)
    h, d = np.concatenate(hashes), np.concatenate(docs)
    order = np.argsort(h, kind="stable")
    return h[order], d[order]


def _signatures_of(text: str) -> tuple[np.ndarray, np.ndarray]:
    doc = analyse(text)
    return chunk_signatures(doc), sampled_fingerprints(doc)


def _signatures(texts: list[str], workers: int) -> Iterable[tuple[np.ndarray, np.ndarray]]:
    """Chunk signatures and sampled fingerprints of every text; in `workers` processes for large corpora."""
    if workers <= 1 or len(texts) < 200:
        return map(_signatures_of, texts)
    with ProcessPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(_signatures_of, texts, chunksize=64))


def _offsets(lengths: list[int]) -> np.ndarray:
    out = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=out[1:])
    return out
