#!/usr/bin/env bash
# Install the system tools the test suite needs, from Debian, when they are missing.
# R + metafor (the oracle), PostgreSQL (the team database), Chromium (browser tests).
# As root: `apt-get update` once, then one `apt-get install`. Not root: say what is missing.
set -euo pipefail

missing=()
command -v Rscript >/dev/null 2>&1 || missing+=(r-base-core)
if command -v Rscript >/dev/null 2>&1; then
  for pkg in metafor lme4 metadat jsonlite survival; do
    Rscript -e "quit(status = !requireNamespace('$pkg', quietly = TRUE))" >/dev/null 2>&1 \
      || missing+=("r-cran-$pkg")
  done
else
  missing+=(r-cran-metafor r-cran-lme4 r-cran-metadat r-cran-jsonlite r-cran-survival)
fi
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
command -v /usr/bin/chromium >/dev/null 2>&1 || missing+=(chromium)

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "system packages missing: ${missing[*]}"
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "not root (or no apt-get): install them with" >&2
  echo "  sudo apt-get install ${missing[*]}" >&2
  if [ "${CI:-}" = "true" ]; then exit 1; fi
fi
