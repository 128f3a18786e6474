#!/usr/bin/env python3
"""Helpers for scripts/bench (standard library only).

  bench.py derive LOG ROOT       the cargo command(s) `cargo multiarch build -v` ran, one shell
                                 line per call (`cd ROOT && …`), with `-v` turned back into
                                 the `--quiet` that `-q` passes
  bench.py split-targets FILE    those lines again, one call per `--target`
  bench.py workspace DIR N       writes an N-package workspace (a lib and a bin each, path
                                 dependencies on two earlier packages) under DIR
  bench.py report META ROWS OUT  formats the hyperfine JSON files named in ROWS as Markdown
"""
import json
import os
import re
import shlex
import statistics
import sys

RUNNING = re.compile(r"^\s*Running `(.*)`\s*$")
ENV_WORD = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")


def split_line(words):
    """(cwd, env words, argv) of one logged shell line; cwd may be None."""
    cwd = None
    if len(words) >= 3 and words[0] == "cd" and words[2] == "&&":
        cwd, words = words[1], words[3:]
    env = []
    while words:
        if ENV_WORD.match(words[0]):
            env.append(words[0])
            words = words[1:]
        elif words[0] == "env" and len(words) >= 3 and words[1] == "-u":
            env.append(("-u", words[2]))
            words = words[3:]
        else:
            break
    return cwd, env, words


def is_backend_call(argv):
    if len(argv) < 2:
        return False
    prog = os.path.basename(argv[0])
    return (prog == "cargo" and argv[1] in ("build", "zigbuild")) or (
        prog in ("cargo-zigbuild", "cross") and argv[1] in ("build", "zigbuild")
    )


def join_line(cwd, env, argv):
    out = []
    if cwd:
        out += ["cd", shlex.quote(cwd), "&&"]
    for e in env:
        if isinstance(e, tuple):
            out += ["env", "-u", shlex.quote(e[1])]
        else:
            k, v = e.split("=", 1)
            out.append(f"{k}={shlex.quote(v)}")
    out += [shlex.quote(a) for a in argv]
    return " ".join(out)


def derive(log, root):
    calls = []
    for line in open(log, encoding="utf-8", errors="replace"):
        m = RUNNING.match(line)
        if not m:
            continue
        try:
            words = shlex.split(m.group(1))
        except ValueError:
            continue
        cwd, env, argv = split_line(words)
        if not is_backend_call(argv):
            continue
        argv = ["--quiet" if a in ("-v", "-vv") else a for a in argv]
        calls.append(join_line(cwd or root, env, argv))
    if not calls:
        sys.exit(f"bench.py: no `Running \\`cargo build …\\`` line in {log}")
    return calls


def split_targets(path):
    out = []
    for call in open(path).read().splitlines():
        cwd, env, argv = split_line(shlex.split(call))
        targets, rest, i = [], [], 0
        while i < len(argv):
            a = argv[i]
            if a == "--target" and i + 1 < len(argv):
                targets.append(argv[i + 1])
                i += 2
                continue
            if a.startswith("--target="):
                targets.append(a.split("=", 1)[1])
            else:
                rest.append(a)
            i += 1
        for t in targets or [None]:
            argv2 = rest if t is None else rest[:2] + [f"--target={t}"] + rest[2:]
            out.append(join_line(cwd, env, argv2))
    return out


def workspace(root, n):
    os.makedirs(os.path.join(root, "crates"), exist_ok=True)
    with open(os.path.join(root, "Cargo.toml"), "w") as f:
        f.write('[workspace]\nresolver = "2"\nmembers = ["crates/*"]\n\n')
        f.write('[workspace.package]\nversion = "0.1.0"\nedition = "2021"\nlicense = "MIT"\n')
    for i in range(n):
        d = os.path.join(root, "crates", f"p{i}")
        os.makedirs(os.path.join(d, "src"), exist_ok=True)
        deps = sorted({j for j in (i - 1, i // 2) if 0 <= j < i})
        with open(os.path.join(d, "Cargo.toml"), "w") as f:
            f.write(f'[package]\nname = "p{i}"\nversion.workspace = true\n')
            f.write("edition.workspace = true\nlicense.workspace = true\n\n[dependencies]\n")
            for j in deps:
                f.write(f'p{j} = {{ path = "../p{j}" }}\n')
        with open(os.path.join(d, "src", "lib.rs"), "w") as f:
            f.write("".join(f"pub use p{j};\n" for j in deps))
            f.write(f"pub const N: usize = {i};\n")
        with open(os.path.join(d, "src", "main.rs"), "w") as f:
            f.write(f"fn main() {{ println!(\"{{}}\", p{i}::N); }}\n")


# ---------------------------------------------------------------------------- report


def load(path):
    return json.load(open(path))["results"]


def stat(r):
    times = r.get("times") or [r["mean"]]
    return min(times), statistics.median(times)


def fmt_s(x, unit):
    if unit == "ms":
        return f"{x * 1000:.1f} ms"
    return f"{x:.2f} s" if x >= 10 else f"{x:.3f} s"


def cell(text):
    return text.replace("|", "\\|")


def goal_cell(goal, value):
    """goal like '<=1.02' (ratio) or '<=20ms' (difference); value in the same unit."""
    if not goal:
        return ""
    limit = float(goal[2:].rstrip("ms").rstrip("x"))
    ok = value <= limit
    shown = goal.replace("<=", "≤ ")
    if not shown.endswith("ms"):
        shown += "×"
    return f"{shown}: **{'met' if ok else 'not met'}**"


# Why a goal can be missed here, and what was tried: printed under the goals table for
# each goal a run did not meet (keyed by the start of the section's title).
WHY = {
    "No-op overhead": (
        "The floor is one `cargo metadata` (~20 ms here, through rustup's proxy) before "
        "the cargo call; the rustc and zig probes are remembered. Tried: one full-resolve metadata instead "
        "of one per target, C detection in-process, no rewrite of an unchanged staging."
    ),
    "Clean build of multi": (
        "A clean build of `multi` is ~0.5 s, and the tool adds ~20 ms to it that raw "
        "cargo does not spend: staging copies, hashes and syncs the six fresh binaries "
        "(3.6 MB) into the out dir, and `cargo metadata` (~25 ms of CPU) runs on the "
        "second core beside the probes, before the build starts. On a build of seconds this is below 1 %; the ratio of medians also "
        "moves by a few percent between runs on this 2-core machine."
    ),
    "Clean build of a real crate": (
        "On 2 cores a clean build of such a crate is rustc's compile time, the same in "
        "every tool. Ours and `cargo zigbuild` are both one cargo process for both "
        "targets now, so what is left to win is x86_64's C through "
        "`x86_64-linux-musl-gcc` instead of zig and a linker that is not `zig cc`: a few "
        "percent on a crate with a few C files. The 0.8× goal was set against a two-call "
        "split whose tails each idled a core on a 40-crate service; the row against that "
        "split shows what one process gains here. Tried: one cargo process with "
        "per-target `zig cc` wrappers, no probe a build does not need; a head start that "
        "ran the last identical run's cargo call before planning (removed: a terminal and "
        "CI must behave alike). Not tried, on purpose: anything that changes what rustc compiles "
        "(codegen units, profile), which would change the user's binaries."
    ),
    "Packaging": (
        "Small binaries make the fixed cost (one `cargo metadata --no-deps`) the larger "
        "part; each archive is compressed on one core, where pigz uses both."
    ),
}


def report(meta_path, rows_path, out_path):
    meta = [l.rstrip("\n").split("\t", 1) for l in open(meta_path) if "\t" in l]
    rows = [l.rstrip("\n").split("\t") for l in open(rows_path) if l.strip()]
    m = dict(meta)
    lines = [
        "# Benchmarks",
        "",
        f"Generated by `scripts/bench{m.get('args', '')}` on {m.get('date', '?')} "
        f"(cargo-multiarch {m.get('commit', '?')}); regenerate with `scripts/bench`. "
        "Every row is measured side by side in one hyperfine run; min and median are over "
        "the runs shown, the ratio is ours / theirs of the medians (below 1.00: we are faster).",
        "",
    ]
    if m.get("note"):
        lines += [m["note"], ""]
    lines += ["## Machine and tools", "", "| | |", "|---|---|"]
    for k, v in meta:
        if k.startswith("machine.") or k.startswith("tool."):
            lines.append(f"| {k.split('.', 1)[1]} | {v} |")
    lines.append("")

    goals = []
    section = None
    for row in rows:
        kind = row[0]
        if kind == "section":
            _, title, text = row
            lines += [f"## {title}", ""]
            if text:
                lines += [text, ""]
            section = title
            continue
        if kind == "text":
            lines += [row[1], ""]
            continue
        if kind == "code":
            lines += ["```sh"] + open(row[1]).read().splitlines() + ["```", ""]
            continue
        if kind == "header":
            lines += [row[1], row[2]]
            continue
        if kind == "end":
            lines.append("")
            continue
        if kind == "pair":
            # pair LABEL JSON OURS OTHER UNIT GOAL THEIRS-LABEL
            _, label, path, i, j, unit, goal, theirs = row
            theirs = cell(theirs)
            r = load(path)
            o, t = r[int(i)], r[int(j)]
            (omin, omed), (tmin, tmed) = stat(o), stat(t)
            ratio = omed / tmed
            runs = len(o.get("times") or [0])
            if goal.endswith("ms"):
                diff = (omed - tmed) * 1000
                g = goal_cell(goal, diff)
                extra = f"{ratio:.2f} (+{diff:.1f} ms)" if diff >= 0 else f"{ratio:.2f} ({diff:.1f} ms)"
            else:
                g = goal_cell(goal, ratio)
                extra = f"{ratio:.2f}"
            lines.append(
                f"| {label} | {fmt_s(omin, unit)} / {fmt_s(omed, unit)} | {theirs} | "
                f"{fmt_s(tmin, unit)} / {fmt_s(tmed, unit)} | {extra} | {g} | {runs} |"
            )
            if g:
                goals.append((section, label, theirs, g))
            continue
        if kind == "single":
            # single LABEL JSON INDEX UNIT
            _, label, path, i, unit = row
            r = load(path)[int(i)]
            mn, med = stat(r)
            runs = len(r.get("times") or [0])
            lines.append(f"| {label} | {fmt_s(mn, unit)} / {fmt_s(med, unit)} | {runs} |")
            continue
        if kind == "plan":
            # plan N JSON OURS REF
            _, n, path, i, j = row
            r = load(path)
            (omin, omed), (tmin, tmed) = stat(r[int(i)]), stat(r[int(j)])
            runs = len(r[int(i)].get("times") or [0])
            lines.append(
                f"| {n} | {omin * 1000:.0f} / {omed * 1000:.0f} ms | {omed * 1000 / int(n):.2f} ms | "
                f"{tmin * 1000:.0f} / {tmed * 1000:.0f} ms | {tmed * 1000 / int(n):.2f} ms | "
                f"{omed / tmed:.2f} | {runs} |"
            )
            continue
        if kind == "growth":
            _, path200, path400, n1, n2 = row
            a = stat(load(path200)[0])[1]
            b = stat(load(path400)[0])[1]
            lines += [
                "",
                f"Growth from {n1} to {n2} packages: {b / a:.2f}× the time for "
                f"{int(n2) / int(n1):.2f}× the packages (linear: ≈ {int(n2) / int(n1):.2f}; "
                f"per package {a * 1000 / int(n1):.2f} → {b * 1000 / int(n2):.2f} ms; each package "
                f"past {n1} adds {(b - a) * 1000 / (int(n2) - int(n1)):.2f} ms).",
            ]
            continue
        raise SystemExit(f"bench.py: unknown row kind {kind!r}")

    if goals:
        summary = ["## Goals", "", "| section | row | against | goal |", "|---|---|---|---|"]
        summary += [f"| {s} | {l} | {t} | {g} |" for s, l, t, g in goals]
        lines += summary + [""]
        for section, label, _, g in goals:
            if "not met" not in g:
                continue
            why = next((w for k, w in WHY.items() if section.startswith(k)), None)
            if why:
                lines += [f"**Not met: {section}, {label}.** {why}", ""]
    timing = [(k[len("duration."):], v) for k, v in meta if k.startswith("duration.")]
    if timing:
        lines += ["## How long each section took", "", "| section | wall time |", "|---|---|"]
        lines += [f"| {k} | {v} s |" for k, v in timing] + [""]
    with open(out_path, "w") as f:
        f.write("\n".join(lines).rstrip("\n") + "\n")


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "derive":
        print("\n".join(derive(args[0], args[1])))
    elif cmd == "split-targets":
        print("\n".join(split_targets(args[0])))
    elif cmd == "workspace":
        workspace(args[0], int(args[1]))
    elif cmd == "report":
        report(*args)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
