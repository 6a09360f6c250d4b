#!/bin/bash
# The agent's entry point inside the sandbox: trace every bash command, then run the agent.
# BASH_ENV makes each non-interactive bash (the agent's scripts, `bash -c ...`) source
# bash_env.sh, which sends an xtrace of its commands, time-stamped, to the trace folder.
export BASH_ENV=/run/mlea/bash_env.sh
export PYTHONPATH=/run/mlea/py${PYTHONPATH:+:$PYTHONPATH}
cd /home || exit 1
exec bash -c "$MLEA_AGENT_CMD"
