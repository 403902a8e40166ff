#!/usr/bin/env python3
"""The code, docs/ and the man pages name the same directives and commands.

  check-docs.py SRC_DIR NTPNODE NTPCTL CONF_LIST

- config directives: the parser's tables (CONF_LIST prints them) against
  the directive tables of docs/*.md (tables whose header starts with
  "| directive |"; every backticked item of the first cell) and the
  DIRECTIVES section of docs/man/ntpnode.conf.5 (the first word after each
  .TP or .TQ);
- ntpctl commands: `ntpctl --help` against the command table of
  docs/ntpctl.md and the .SS headings under COMMANDS in docs/man/ntpctl.8;
- ntpnode commands: `ntpnode --help` against the command table of
  docs/install.md and the .SS headings under COMMANDS in
  docs/man/ntpnode.8.
Every name missing from one of them is printed; exit 1 if any.
"""
import glob
import os
import re
import subprocess
import sys


def roff_words(line):
    """A roff line without its macro, fonts and escapes, as words."""
    line = re.sub(r"^\.[A-Za-z]+\s*", "", line)
    line = re.sub(r"\\f[BIRP]", "", line)
    line = line.replace("\\-", "-").replace('"', "")
    return line.split()


def man_section(path, section):
    """Lines of one .SH section of a man page."""
    out, inside = [], False
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith(".SH "):
                inside = line[4:].strip().strip('"') == section
                continue
            if inside:
                out.append(line)
    return out


def man_directives(path):
    names, lines = set(), man_section(path, "DIRECTIVES")
    for i, line in enumerate(lines):
        if line in (".TP", ".TQ") and i + 1 < len(lines):
            w = roff_words(lines[i + 1])
            if w:
                names.add(w[0])
    return names


def man_commands(path):
    """.SS headings under COMMANDS: their leading command words."""
    names = set()
    for line in man_section(path, "COMMANDS"):
        if line.startswith(".SS "):
            names.add(command_words(roff_words(line)))
    return names


def command_words(words):
    """The command's own words: lowercase words up to the first argument."""
    out = []
    for w in words:
        if not re.fullmatch(r"[a-z][a-z-]*", w):
            break
        out.append(w)
    return " ".join(out)


def doc_tables(paths, header):
    """First cells of the rows of markdown tables whose header row starts
    with `header`."""
    cells = []
    for p in paths:
        inside = False
        with open(p) as f:
            for line in f:
                line = line.strip()
                if line.startswith(header):
                    inside = True
                    continue
                if not line.startswith("|"):
                    inside = False
                    continue
                if inside and not line.startswith("|-") and not line.startswith("| -"):
                    cells.append(re.split(r"(?<!\\)\|", line)[1])
    return cells


def backticked(cell):
    return [b.replace("\\|", "|") for b in re.findall(r"`([^`]+)`", cell)]


def help_ntpctl(ntpctl):
    out = subprocess.run([ntpctl, "--help"], capture_output=True, text=True,
                         check=True).stdout
    names, inside = set(), False
    for line in out.splitlines():
        if line.lower().startswith("commands"):
            inside = True
            continue
        if inside and line.startswith("  ") and line[2] != " ":
            head = re.split(r"\s{2,}", line.strip())[0]
            names.add(command_words(head.split()))
    return names


def help_ntpnode(ntpnode):
    out = subprocess.run([ntpnode, "--help"], capture_output=True, text=True,
                         check=True).stdout
    names, inside = set(), False
    for line in out.splitlines():
        if line == "commands:":
            inside = True
            continue
        if inside and not line.startswith("  "):
            break
        if inside and line[2] != " ":
            names.add(line.split()[0])
    return names


def compare(what, sets):
    bad = 0
    every = set().union(*sets.values())
    for name in sorted(every):
        missing = [where for where, s in sets.items() if name not in s]
        if missing:
            have = [where for where, s in sets.items() if name in s]
            print("%s '%s': in %s, missing from %s"
                  % (what, name, ", ".join(have), ", ".join(missing)))
            bad = 1
    if not every:
        print("%s: none found at all" % what)
        bad = 1
    return bad


def main():
    src, ntpnode, ntpctl, conf_list = sys.argv[1:5]
    docs = sorted(glob.glob(os.path.join(src, "docs", "*.md")))
    man = os.path.join(src, "docs", "man")

    code = set()
    out = subprocess.run([conf_list], capture_output=True, text=True,
                         check=True).stdout
    for line in out.splitlines():
        code.add(line.split("\t")[0])
    doc = set()
    for cell in doc_tables(docs, "| directive |"):
        for item in backticked(cell):
            doc.add(item.split()[0])
    bad = compare("directive", {
        "the parser": code,
        "docs/*.md directive tables": doc,
        "ntpnode.conf(5)": man_directives(os.path.join(man, "ntpnode.conf.5")),
    })

    doc = set()
    for cell in doc_tables([os.path.join(src, "docs", "ntpctl.md")],
                           "| command |"):
        for item in backticked(cell)[:1]:
            doc.add(command_words(item.split()))
    bad |= compare("ntpctl command", {
        "ntpctl --help": help_ntpctl(ntpctl),
        "docs/ntpctl.md": doc,
        "ntpctl(8)": man_commands(os.path.join(man, "ntpctl.8")),
    })

    doc = set()
    for cell in doc_tables([os.path.join(src, "docs", "install.md")],
                           "| command |"):
        for item in backticked(cell)[:1]:
            w = item.split()
            if len(w) > 1 and w[0] == "ntpnode":
                doc.add(w[1])
    bad |= compare("ntpnode command", {
        "ntpnode --help": help_ntpnode(ntpnode),
        "docs/install.md": doc,
        "ntpnode(8)": man_commands(os.path.join(man, "ntpnode.8")),
    })
    if not bad:
        print("check-docs: directives and commands agree")
    return bad


if __name__ == "__main__":
    sys.exit(main())
