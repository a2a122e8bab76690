#!/usr/bin/env python3
"""The probes of core/probe_list.h and ci/required_probes.txt (python3 stdlib only).

  ci/required_probes.py                 print the probes marked `required` in core/probe_list.h
  ci/required_probes.py --all           print every probe: NAME required|optional
  ci/required_probes.py --write         (re)generate ci/required_probes.txt from the `required` flags
  ci/required_probes.py --check         compare ci/required_probes.txt with the flags: exit 0 when
                                        they agree, 1 (with the differences) when not

ci/required_probes.txt is what the CI campaign (ci/campaign.sh) enforces: one probe name a line,
`#` starts a comment. It starts as the `required` flags of core/probe_list.h; --check tells when the
two drifted apart.
"""
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROBE_LIST = os.path.join(ROOT, "core", "probe_list.h")
REQUIRED_TXT = os.path.join(ROOT, "ci", "required_probes.txt")

_STRING = r'"(?:[^"\\]|\\.)*"'
# Probe{"name", "what" "more what", true}: the description may be split into adjacent literals
# and the entry may span lines (clang-format).
_ENTRY = re.compile(r'Probe\s*\{\s*"((?:[^"\\]|\\.)*)"\s*,\s*(?:' + _STRING + r'\s*)+,\s*(true|false)\s*\}')


def _strip_comments(text):
    # Drops // and /* */ comments outside string literals, so a commented-out entry does not count.
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append(text[i:j + 1])
            i = j + 1
        elif text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            i = n if j < 0 else j + 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


def probes(path=PROBE_LIST):
    """[(name, required)] in listing order."""
    with open(path, encoding="utf-8") as f:
        text = _strip_comments(f.read())
    found = [(m.group(1), m.group(2) == "true") for m in _ENTRY.finditer(text)]
    declared = len(re.findall(r"\bProbe\s*\{", text))
    if declared != len(found):
        sys.exit(f"required_probes.py: {path}: {declared} Probe{{...}} entries but only {len(found)} parsed; "
                 "the extractor expects Probe{\"name\", \"what\", true|false}")
    return found


def read_required(path=REQUIRED_TXT):
    """Names listed in a required-probes file (one a line, # comments)."""
    names = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            name = line.split("#", 1)[0].strip()
            if name:
                names.append(name)
    return names


def main(argv):
    mode = argv[1] if len(argv) > 1 else "--required"
    listed = probes()
    required = [name for name, req in listed if req]
    if mode == "--required":
        print("\n".join(required))
    elif mode == "--all":
        for name, req in listed:
            print(f"{name} {'required' if req else 'optional'}")
    elif mode == "--write":
        with open(REQUIRED_TXT, "w", encoding="utf-8") as f:
            f.write("# Probes the CI campaign (ci/campaign.sh) must fire at least once; it fails otherwise.\n"
                    "# Generated from the `required` flags of core/probe_list.h by ci/required_probes.py --write;\n"
                    "# one name a line, '#' starts a comment. ci/required_probes.py --check tells when the two differ.\n")
            for name in required:
                f.write(name + "\n")
        print(f"required_probes.py: wrote {len(required)} of {len(listed)} probes to {os.path.relpath(REQUIRED_TXT, ROOT)}")
    elif mode == "--check":
        in_file = read_required()
        only_flags = [n for n in required if n not in in_file]
        only_file = [n for n in in_file if n not in required]
        if not only_flags and not only_file:
            print(f"required_probes.py: ci/required_probes.txt agrees with core/probe_list.h ({len(required)} required)")
            return 0
        if only_flags:
            print("required in core/probe_list.h, not in ci/required_probes.txt: " + ", ".join(only_flags))
        if only_file:
            print("in ci/required_probes.txt, not required in core/probe_list.h: " + ", ".join(only_file))
        print("(regenerate with ci/required_probes.py --write, or edit one of the two)")
        return 1
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
