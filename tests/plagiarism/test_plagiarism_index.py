"""The index: LSH candidates, a safe file format, the CLI command and the cache."""

import io
import pickle
import zipfile

import numpy as np
import pytest

from monitors.plagiarism.cli import index_command, load_or_build_index
from monitors.plagiarism.index import IndexFormatError, NotebookIndex
from monitors.plagiarism.notebooks import read_notebooks
from monitors.plagiarism.pairs import analyse
from plag_helpers import notebook_text, renamed, write_notebooks


@pytest.fixture
def notebooks(tmp_path):
    root = tmp_path / "nbs"
    write_notebooks(root, "comp-a", 40)
    write_notebooks(root, "comp-b", 5, seed0=1000)
    return root


def test_lsh_finds_the_source_of_a_disguised_copy_among_many(notebooks):
    index = NotebookIndex.build(read_notebooks(notebooks))
    query = analyse("import os\nprint('own code')\n" + renamed(notebook_text(17)))
    cands = index.candidates("comp-a", query)
    assert cands and index.source(cands[0].doc) == "comp-a/user17_notebook-17.py"
    # only the competition asked for is searched
    assert all(index.source(c.doc).startswith("comp-a/") for c in cands)
    assert index.candidates("comp-b", query) == [] or all(
        index.source(c.doc).startswith("comp-b/") for c in index.candidates("comp-b", query)
    )
    assert index.candidates("no-such-competition", query) == []


def test_save_and_load_round_trip(notebooks, tmp_path):
    index = NotebookIndex.build(read_notebooks(notebooks))
    out = tmp_path / "idx" / "nb.index"
    index.save(out)
    loaded = NotebookIndex.load(out)
    assert loaded.meta.sources == index.meta.sources
    assert loaded.texts == index.texts
    assert np.array_equal(loaded.chunk_sigs, index.chunk_sigs)
    assert loaded.meta.backgrounds["comp-a"].pairs == index.meta.backgrounds["comp-a"].pairs > 0
    q = analyse(notebook_text(3))
    assert [c.doc for c in loaded.candidates("comp-a", q)] == [c.doc for c in index.candidates("comp-a", q)]


def test_untrusted_files_are_refused_not_executed(tmp_path):
    evil = tmp_path / "evil.npz"
    evil.write_bytes(pickle.dumps({"meta": "x"}))
    with pytest.raises(IndexFormatError):
        NotebookIndex.load(evil)
    # an npz holding a pickled object array: numpy refuses it with allow_pickle=False
    buf = io.BytesIO()
    np.savez(buf, meta=np.array([{"a": 1}], dtype=object))
    objects = tmp_path / "objects.npz"
    objects.write_bytes(buf.getvalue())
    with pytest.raises(IndexFormatError):
        NotebookIndex.load(objects)


def test_inconsistent_or_truncated_index_is_refused(notebooks, tmp_path):
    good = tmp_path / "good.npz"
    NotebookIndex.build(read_notebooks(notebooks), calibrate=False).save(good)
    with np.load(good, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    arrays["chunk_doc"] = arrays["chunk_doc"][:-1]
    bad = tmp_path / "bad.npz"
    np.savez(bad, **arrays)
    with pytest.raises(IndexFormatError, match="inconsistent"):
        NotebookIndex.load(bad)
    cut = tmp_path / "cut.npz"
    cut.write_bytes(good.read_bytes()[:200])
    with pytest.raises(IndexFormatError):
        NotebookIndex.load(cut)
    assert zipfile.is_zipfile(good)


def test_index_command_writes_an_index_and_rejects_bad_input(notebooks, tmp_path, capsys):
    out = tmp_path / "nb.npz"
    assert index_command(str(notebooks), str(out)) == 0
    assert len(NotebookIndex.load(out)) == 45
    assert "indexed 45 notebooks of 2 competitions" in capsys.readouterr().out
    assert index_command(str(tmp_path / "missing"), str(out)) == 2
    empty = tmp_path / "empty"
    empty.mkdir()
    assert index_command(str(empty), str(tmp_path / "e.npz")) == 2


def test_a_directory_is_indexed_once_and_then_loaded_from_the_cache(notebooks, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    first = load_or_build_index(notebooks)
    cached = list((tmp_path / "cache" / "mle-auditor").glob("plagiarism-*.npz"))
    assert len(cached) == 1
    mtime = cached[0].stat().st_mtime_ns
    second = load_or_build_index(notebooks)
    assert second.meta.sources == first.meta.sources
    assert cached[0].stat().st_mtime_ns == mtime  # loaded, not rebuilt
    (notebooks / "comp-b" / "new_nb.py").write_text(notebook_text(99))
    third = load_or_build_index(notebooks)  # changed content, new key
    assert len(third) == len(first) + 1
    with pytest.raises(FileNotFoundError):
        load_or_build_index(tmp_path / "nowhere")


def test_signatures_are_datasketch_minhash_bit_for_bit():
    from datasketch import MinHash

    from monitors.plagiarism.index import NUM_PERM, SEED, chunk_signatures

    doc = analyse(notebook_text(5, steps=3))  # short: one chunk
    sigs = chunk_signatures(doc)
    assert sigs.shape == (1, NUM_PERM)
    h = doc.api.hashes
    folded = ((h ^ (h >> np.uint64(32))) & np.uint64(0xFFFFFFFF)).astype(np.uint32)
    m = MinHash(num_perm=NUM_PERM, seed=SEED, hashfunc=int)
    m.update_batch(folded)
    assert np.array_equal(m.hashvalues, sigs[0])


def test_parallel_build_gives_the_same_index(notebooks):
    one = NotebookIndex.build(read_notebooks(notebooks), calibrate=False)
    many = list(read_notebooks(notebooks)) * 5  # enough texts to use the process pool
    two = NotebookIndex.build(many, calibrate=False, workers=2)
    n = len(one.chunk_sigs)
    assert np.array_equal(two.chunk_sigs[:n], one.chunk_sigs)
