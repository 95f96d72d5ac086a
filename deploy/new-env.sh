#!/bin/sh
# Write deploy/.env from deploy/.env.example, every empty secret filled with 64 random hex
# characters (hex: the secrets are parts of URLs). Refuses to overwrite an existing .env.
#   sh deploy/new-env.sh [OUT]        (OUT defaults to deploy/.env)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/.env}
if [ -e "$out" ]; then
  echo "$out exists; not overwritten (rotate one secret at a time: deploy/OPERATIONS.md)" >&2
  exit 1
fi
umask 077
tmp="$out.tmp.$$"
trap 'rm -f "$tmp"' EXIT
while IFS= read -r line || [ -n "$line" ]; do
  case "$line" in
    *PASSWORD=|*SECRET_KEY=)
      secret=$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')
      printf '%s%s\n' "$line" "$secret" ;;
    *) printf '%s\n' "$line" ;;
  esac
done < "$here/.env.example" > "$tmp"
mv "$tmp" "$out"
trap - EXIT
echo "wrote $out (mode 600); keep a copy of it with the backups"
