"""Plagiarism: the agent's code against public notebooks of its competition.

A pipeline as in Dolos, one small module per step:
`notebooks` (read and clean) → `tokenize` (two normalised channels) → `fingerprint`
(k-grams, winnowing) → `index` (MinHash LSH over chunks: candidates) → `fragments` and
`pairs` (exact matched fragments and the pair's score) → `calibrate` (per-competition
background) → `monitor` (flags with evidence). `cli` holds `audit notebooks index`.
"""

from monitors.plagiarism.cli import index_command, load_or_build_index
from monitors.plagiarism.monitor import PlagiarismMonitor

__all__ = ["PlagiarismMonitor", "index_command", "load_or_build_index"]
