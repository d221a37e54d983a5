# SPDX-License-Identifier: Apache-2.0
#
# Sourced by the shell test scripts: one case is a command, the exit status
# it must give and what its output must or must not hold. The script sets
# T (a scratch directory) and may set CASE_LABEL (printed before a failed
# case's name); fails and cases count as the cases run.
fails=0
cases=0

# t NAME WANT_STATUS [out:TEXT | err:TEXT | noout:TEXT | noerr:TEXT]... -- COMMAND...
t() {
  local name=$1 want=$2
  shift 2
  local checks=()
  while [[ $1 != -- ]]; do
    checks+=("$1")
    shift
  done
  shift
  cases=$((cases + 1))
  "$@" >"$T/stdout" 2>"$T/stderr"
  local got=$? bad=""
  [[ $got -eq $want ]] || bad+=" status $got (want $want);"
  for c in "${checks[@]}"; do
    case $c in
    out:*) grep -qF -- "${c#out:}" "$T/stdout" || bad+=" stdout lacks '${c#out:}';" ;;
    err:*) grep -qF -- "${c#err:}" "$T/stderr" || bad+=" stderr lacks '${c#err:}';" ;;
    noout:*) ! grep -qF -- "${c#noout:}" "$T/stdout" || bad+=" stdout has '${c#noout:}';" ;;
    noerr:*) ! grep -qF -- "${c#noerr:}" "$T/stderr" || bad+=" stderr has '${c#noerr:}';" ;;
    esac
  done
  if [[ -n $bad ]]; then
    fails=$((fails + 1))
    echo "FAIL ${CASE_LABEL:+$CASE_LABEL }$name:$bad"
    sed 's/^/    stdout: /' "$T/stdout" | head -20
    sed 's/^/    stderr: /' "$T/stderr" | head -20
  fi
}
