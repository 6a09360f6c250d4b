"""Reading submissions and answers as MLE-bench does, whatever pandas version is installed.

MLE-bench reads both with `pd.read_csv(path, float_precision="round_trip")` under pandas 2.2:
exact floats, default missing-value tokens, per-column type inference, text columns as
`object`. pandas 3 infers a dedicated string dtype instead; we turn those columns back into
`object` so that every later step (comparisons, `astype(str)`, sorting) sees what pandas 2.2 saw.

Unlike MLE-bench, a file the CSV reader rejects (ragged rows, bytes that are not UTF-8) or one
too large to read safely is an invalid submission with a reason, never a crash.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from grading.errors import GradingSetupError, InvalidSubmission

MIN_SIZE_LIMIT = 256 * 1024 * 1024  # bytes; every size limit is at least this
ANSWERS_SIZE_FACTOR = 16  # a submission may be this many times larger than the answers file


def read_csv_like_mlebench(path: str | os.PathLike[str]) -> pd.DataFrame:
    """pandas' CSV reader with exact floats; an empty file is an empty table (as MLE-bench)."""
    try:
        frame = _read_exact(path)
    except pd.errors.EmptyDataError:
        return pd.DataFrame()
    return _text_columns_as_object(frame)


def _read_exact(path) -> pd.DataFrame:
    # pandas 3 deprecates the option because its default became exact; pandas 2.2 needs it.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*float_precision.*")
        try:
            return pd.read_csv(path, float_precision="round_trip")
        except TypeError as exc:
            if "float_precision" not in str(exc):
                raise
    return pd.read_csv(path)


def _text_columns_as_object(frame: pd.DataFrame) -> pd.DataFrame:
    # pandas 3's "str" dtype keeps missing values missing under astype(str) and sorts and
    # compares through its own code; pandas 2.2 had object columns of Python str and NaN.
    text_columns = {c: object for c, dtype in frame.dtypes.items() if isinstance(dtype, pd.StringDtype)}
    return frame.astype(text_columns) if text_columns else frame


def size_limit(answers_path: Path) -> int:
    """Largest submission we read: generous (16 x the answers file, at least 256 MiB).

    A submission has one row per answer row and usually fewer columns, so a valid one is never
    near this; a larger file (a 2 GB dump) is refused without being read, to bound memory.
    """
    try:
        answers_size = answers_path.stat().st_size
    except OSError:
        answers_size = 0
    return max(MIN_SIZE_LIMIT, ANSWERS_SIZE_FACTOR * answers_size)


def read_submission(path: Path, limit: int) -> pd.DataFrame:
    """Read a submission CSV; any reason it cannot be read becomes `InvalidSubmission`."""
    size = path.stat().st_size
    if size > limit:
        raise InvalidSubmission(
            f"submission is {size:,} bytes, larger than the {limit:,}-byte limit "
            f"({ANSWERS_SIZE_FACTOR} x the answers file, at least {MIN_SIZE_LIMIT:,}); not read"
        )
    try:
        return read_csv_like_mlebench(path)
    except UnicodeDecodeError as exc:
        raise InvalidSubmission(f"submission is not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    except pd.errors.ParserError as exc:
        raise InvalidSubmission(f"malformed CSV: {_first_line(exc)}") from exc
    except (ValueError, OSError, MemoryError, OverflowError) as exc:
        raise InvalidSubmission(f"submission could not be read: {type(exc).__name__}: {_first_line(exc)}") from exc


def read_answers(path: Path) -> pd.DataFrame:
    """Read a competition's answers; a missing or unreadable file is a setup error, named."""
    if not path.is_file():
        raise GradingSetupError(f"answers file missing: {path} (prepare the competition's data first)")
    try:
        return _cached_answers(str(path), *_stamp(path))
    except (ValueError, OSError, UnicodeDecodeError) as exc:
        raise GradingSetupError(f"answers file {path} could not be read: {_first_line(exc)}") from exc


def _stamp(path: Path) -> tuple[int, int]:
    st = path.stat()
    return st.st_mtime_ns, st.st_size


_ANSWERS_CACHE: dict[tuple[str, int, int], pd.DataFrame] = {}


def _cached_answers(path: str, mtime_ns: int, size: int) -> pd.DataFrame:
    # A JSONL or a run grades many submissions of one competition: read its answers once.
    # Graders never modify their inputs, so sharing the frame is safe.
    key = (path, mtime_ns, size)
    if key not in _ANSWERS_CACHE:
        if len(_ANSWERS_CACHE) >= 4:
            _ANSWERS_CACHE.pop(next(iter(_ANSWERS_CACHE)))
        _ANSWERS_CACHE[key] = read_csv_like_mlebench(path)
    return _ANSWERS_CACHE[key]


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:300] if text else type(exc).__name__


# --------------------------------------------------------------------------- frame helpers


def sort_order(values: np.ndarray) -> np.ndarray:
    """The row order of pandas 2.2's `sort_values(column)`: numpy quicksort, missing last.

    Quicksort is not stable; with duplicated keys the pairing of rows follows this exact
    algorithm, as in MLE-bench.
    """
    missing = pd.isna(values)
    if not missing.any():
        return np.argsort(values, kind="quicksort")
    positions = np.arange(len(values))
    present = positions[~missing]
    return np.concatenate([present[np.argsort(values[~missing], kind="quicksort")], positions[missing]])


def column_values(frame: pd.DataFrame, column: str) -> np.ndarray:
    """A column as the numpy array pandas 2.2's `.to_numpy()` gave (object for text)."""
    return frame[column].to_numpy()


def require_columns(frame: pd.DataFrame, *columns: str) -> None:
    for column in columns:
        if column not in frame.columns:
            raise InvalidSubmission(f"submission has no column {column!r}")


def require_rows(frame: pd.DataFrame, answers: pd.DataFrame) -> None:
    if len(frame) != len(answers):
        raise InvalidSubmission(f"submission has {len(frame)} rows, the answers have {len(answers)}")


def sorted_by(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    return frame.iloc[sort_order(column_values(frame, column))]
