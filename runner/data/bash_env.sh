# Sourced by every non-interactive bash in the sandbox (BASH_ENV): trace its commands.
if exec 213>>/run/mlea-trace/shell.trace 2>/dev/null; then
  BASH_XTRACEFD=213
  PS4='+mlea ${EPOCHREALTIME} '
  set -x
fi
