# Sourced by every non-interactive bash in the sandbox (BASH_ENV): trace its commands.
# (The braces keep the 2>/dev/null to the exec alone; on exec itself it would silence the shell's stderr.)
if { exec 213>>/run/mlea-trace/shell.trace; } 2>/dev/null; then
  BASH_XTRACEFD=213
  PS4='+mlea ${EPOCHREALTIME} '
  set -x
fi
