#!/bin/bash
# Entry point of the shipcrate image. The script is POSIX sh, but it runs under bash: GitHub
# passes inputs as `INPUT_ON-TAGS` and the like, and dash (Debian's /bin/sh) silently drops
# environment variables whose names hold a hyphen before it execs anything.
#
# CI runners mount the checkout owned by another uid than the container's user, and git
# refuses such repositories. Mark exactly the working directory (and its submodules) as safe,
# rather than switching git's ownership check off.
set -eu

mark_safe() {
  git config --global --add safe.directory "$1"
}

mark_safe "$PWD"
for dir in "${GITHUB_WORKSPACE:-}" "${CI_PROJECT_DIR:-}"; do
  if [ -n "$dir" ] && [ "$dir" != "$PWD" ]; then
    mark_safe "$dir"
  fi
done
if [ -f .gitmodules ]; then
  # shellcheck disable=SC2016 # $toplevel and $sm_path are expanded by `git submodule foreach`.
  git submodule foreach --quiet --recursive 'printf "%s\n" "$toplevel/$sm_path"' 2>/dev/null |
    while IFS= read -r sub; do mark_safe "$sub"; done
fi

# GitLab starts a job image's entrypoint with a shell and feeds the job script on stdin.
case "${1:-}" in
  sh | bash | dash | /bin/sh | /bin/bash | /bin/dash | /usr/bin/sh | /usr/bin/bash)
    exec "$@"
    ;;
esac

exec shipcrate "$@"
