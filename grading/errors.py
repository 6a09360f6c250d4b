"""The two ways grading can fail: the submission, or the grader's own inputs."""


class InvalidSubmission(Exception):
    """The submission cannot be scored; MLE-bench gives it a null score. The message says why."""


class GradingSetupError(Exception):
    """Something grading needs is missing or unusable (answers, leaderboard, unknown competition)."""
