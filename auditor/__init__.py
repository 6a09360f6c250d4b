"""mle-auditor: read agent runs into episodes, monitor them, adjudicate, report."""

__version__ = "0.1.0"
