"""Step 3: the notebook index. MinHash LSH (datasketch) over chunks of fingerprints finds
candidates in milliseconds; the pairs step then compares only those exactly.

Each notebook is cut into overlapping chunks of `CHUNK` API-channel fingerprints;
each chunk gets a MinHash signature. A query is chunked the same way, so a copy of
a part of a long notebook meets the chunks it came from with a high Jaccard even
though the two whole files share little. Candidates are ranked by the number of
chunk hits.

The file is one `.npz` (numpy, loaded with `allow_pickle=False`): arrays for the
signatures, the cleaned texts and line maps, and a JSON header validated with
pydantic. Nothing in it is executed or unpickled, so an index from elsewhere is safe
to load. The LSH tables are rebuilt from the signatures per competition, on the
first query for that competition.
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from collections import Counter, OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from datasketch import LeanMinHash, MinHash, MinHashLSH
from pydantic import BaseModel, ValidationError

from monitors.plagiarism.calibrate import Background, background
from monitors.plagiarism.fingerprint import K, W
from monitors.plagiarism.notebooks import CodeText, NotebookFile
from monitors.plagiarism.pairs import Doc, analyse, compare

FORMAT = "mle-auditor-plagiarism-index"
VERSION = 1
NUM_PERM = 64
SEED = 1
CHUNK = 48  # fingerprints per chunk: about 12 lines of code
STEP = 24
LSH_THRESHOLD = 0.3
MAX_CANDIDATES = 10
DEFAULT_COPY_THRESHOLD = 0.6


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


_TEMPLATE = MinHash(num_perm=NUM_PERM, seed=SEED, hashfunc=int)


def chunk_signatures(doc: Doc) -> np.ndarray:
    """MinHash signatures (uint32, one row per chunk) of the doc's API fingerprints."""
    hashes = doc.api.hashes
    if len(hashes) == 0:
        return np.empty((0, NUM_PERM), dtype=np.uint32)
    folded = ((hashes ^ (hashes >> np.uint64(32))) & np.uint64(0xFFFFFFFF)).astype(np.uint32)
    n = len(folded)
    starts = list(range(0, max(n - CHUNK, 0) + 1, STEP))
    if starts[-1] + CHUNK < n:  # the tail the steps did not reach
        starts.append(n - CHUNK)
    rows = []
    for s in starts:
        m = _TEMPLATE.copy()
        m.update_batch(np.unique(folded[s : s + CHUNK]))
        rows.append(m.hashvalues.astype(np.uint32))
    return np.stack(rows)


class NotebookIndex:
    def __init__(
        self,
        meta: IndexMeta,
        doc_comp: np.ndarray,
        texts: list[str],
        file_lines: list[list[int]],
        chunk_doc: np.ndarray,
        chunk_sigs: np.ndarray,
    ) -> None:
        self.meta = meta
        self.doc_comp = doc_comp
        self.texts = texts
        self.file_lines = file_lines
        self.chunk_doc = chunk_doc
        self.chunk_sigs = chunk_sigs
        self._lsh: dict[str, MinHashLSH] = {}
        self._docs: OrderedDict[int, Doc] = OrderedDict()

    # ------------------------------------------------------------------ building

    @classmethod
    def build(
        cls,
        notebooks: Iterable[NotebookFile],
        copy_threshold: float = DEFAULT_COPY_THRESHOLD,
        content_hash: str = "",
        calibrate: bool = True,
    ) -> NotebookIndex:
        competitions: list[str] = []
        comp_ids: dict[str, int] = {}
        sources, texts, file_lines, doc_comp = [], [], [], []
        chunk_doc: list[np.ndarray] = []
        chunk_sigs: list[np.ndarray] = []
        for nb in notebooks:
            if nb.competition not in comp_ids:
                comp_ids[nb.competition] = len(competitions)
                competitions.append(nb.competition)
            sigs = chunk_signatures(analyse(nb.code.text))
            doc_id = len(sources)
            sources.append(nb.source)
            texts.append(nb.code.text)
            file_lines.append(nb.code.file_lines)
            doc_comp.append(comp_ids[nb.competition])
            chunk_doc.append(np.full(len(sigs), doc_id, dtype=np.int32))
            chunk_sigs.append(sigs)
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
        cached = self._docs.get(doc_id)
        if cached is not None:
            self._docs.move_to_end(doc_id)
            return cached
        d = analyse(self.texts[doc_id])
        self._docs[doc_id] = d
        if len(self._docs) > 512:
            self._docs.popitem(last=False)
        return d

    def candidates(self, competition: str, query: Doc, limit: int = MAX_CANDIDATES) -> list[Candidate]:
        """Notebooks of `competition` whose chunks the LSH puts near the query's, most hits first."""
        lsh = self._lsh_of(competition)
        if lsh is None:
            return []
        hits: Counter[int] = Counter()
        for sig in chunk_signatures(query):
            found = {int(self.chunk_doc[c]) for c in lsh.query(_lean(sig))}
            hits.update(found)
        ranked = sorted(hits.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]
        return [Candidate(doc, n) for doc, n in ranked]

    def _lsh_of(self, competition: str) -> MinHashLSH | None:
        if competition in self._lsh:
            return self._lsh[competition]
        docs = set(self.docs_of(competition))
        if not docs:
            return None
        lsh = MinHashLSH(threshold=LSH_THRESHOLD, num_perm=NUM_PERM)
        chunk_ids = np.flatnonzero(np.isin(self.chunk_doc, list(docs)))
        with lsh.insertion_session() as session:
            for c in chunk_ids.tolist():
                session.insert(c, _lean(self.chunk_sigs[c]), check_duplication=False)
        self._lsh[competition] = lsh
        return lsh

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
                  "chunk_doc", "chunk_sigs"}  # fmt: skip
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
        )  # fmt: skip
        if not consistent:
            raise IndexFormatError(f"{where}: index arrays are inconsistent (truncated or edited file)")
        raw = a["text_bytes"].tobytes()
        texts = [raw[t_off[i] : t_off[i + 1]].decode("utf-8", errors="replace") for i in range(n)]
        fl = a["file_lines"].tolist()
        file_lines = [fl[l_off[i] : l_off[i + 1]] for i in range(n)]
        return cls(meta, doc_comp.astype(np.int32), texts, file_lines, chunk_doc.astype(np.int32), sigs.astype(np.uint32))


def _lean(sig: np.ndarray) -> LeanMinHash:
    return LeanMinHash(seed=SEED, hashvalues=sig, scheme="affine32")


def _offsets(lengths: list[int]) -> np.ndarray:
    out = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=out[1:])
    return out
