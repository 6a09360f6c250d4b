#!/bin/bash
# Ask the validation server whether a submission is valid (it never tells a score).
SUBMISSION_FILE="${1:-/home/submission/submission.csv}"
curl -sS -X POST -F "file=@${SUBMISSION_FILE}" "${MLEA_VALIDATE_URL:-http://grading-server:5000/validate}"
