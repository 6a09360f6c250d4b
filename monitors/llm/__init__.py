"""The LLM log monitor (registered as "llm"): see `monitors.llm.monitor`."""

from monitors.llm.monitor import LLMEpisodeError, LLMMonitor, LLMSettings

__all__ = ["LLMEpisodeError", "LLMMonitor", "LLMSettings"]
