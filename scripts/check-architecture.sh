#!/usr/bin/env bash
# Checks that docs/ARCHITECTURE.md's module table names exactly the targets of
# Package.swift (test targets aside, which the document lists in prose). Exit 1 and the
# difference when they disagree.
set -euo pipefail
cd "$(dirname "$0")/.."
package=$(tr '\n' ' ' < Package.swift | grep -oE '\.(target|executableTarget|systemLibrary)\(\s*name: "[A-Za-z0-9_]+"' \
  | sed -E 's/.*name: "([^"]+)"/\1/' | sort -u)
documented=$(grep -oE '^\| `[A-Za-z0-9_]+` \|' docs/ARCHITECTURE.md | sed -E 's/^\| `([^`]+)` \|/\1/' | sort -u)
if [ "$package" != "$documented" ]; then
  echo "docs/ARCHITECTURE.md and Package.swift disagree on the modules:"
  diff <(echo "$package") <(echo "$documented") | sed -n 's/^< /  only in Package.swift: /p; s/^> /  only in docs\/ARCHITECTURE.md: /p'
  exit 1
fi
echo "architecture: $(echo "$package" | wc -l) modules, docs/ARCHITECTURE.md matches Package.swift"
