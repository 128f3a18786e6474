#!/usr/bin/env python3
"""Runs a GitHub Actions workflow on this machine, for the subset of Actions that
docs/ci/github-actions.yml and the repository's action.yml use, and fails on anything
outside it, so the template cannot drift out of what the tests execute.

What it models, as GitHub's runner does it:
- jobs in `needs` order; `strategy.matrix` (axes, or an `include` list); job and step
  `if:` (an implicit `success() &&` unless a status function is used); `env:` at
  workflow, job and step level; `runs-on` (logged: every job runs on this host);
- `${{ }}` expressions: literals, `!`, `==`, `!=`, `&&`, `||`, parentheses; the contexts
  github, env, inputs, matrix, secrets, vars, runner, steps (outputs, outcome,
  conclusion); the functions startsWith, endsWith, contains, format, success, failure,
  always, cancelled. Anything else (another function, an index, `<`, an unknown
  property of github or runner) is an error, not an empty string;
- `run:` steps through bash: `bash -e {0}` without `shell`, `bash --noprofile --norc
  -eo pipefail {0}` with `shell: bash` (no other shell); `working-directory`;
  GITHUB_ENV, GITHUB_PATH, GITHUB_OUTPUT (both `k=v` and `k<<DELIM` forms) and
  GITHUB_STEP_SUMMARY files, fresh per step, read back after it; the variables the
  runner sets (GITHUB_*, RUNNER_*, CI, HOME);
- `github.event`: `ref`, `repository.full_name` and, for a pull request,
  `pull_request.head.repo.full_name` (--head-repo, for a fork's);
- `uses:` steps: actions/checkout@v4 (a fetch of the commit from --repo; the token
  left in .git/config unless `persist-credentials: false`), actions/cache@v4
  (restore by key and restore-keys, save after the job as its post step, only on
  success and on a miss, entries keyed by the exact path list as GitHub's cache version
  is; paths outside this job's runner directory are neither restored nor saved, with a
  note), actions/upload-artifact@v4 and actions/download-artifact@v4 (a directory of
  this run), actions/attest-build-provenance@v2 (subjects found and hashed; signing and
  storing with GitHub not modelled, said in the log), actions/github-script@v7 for
  scripts made only of `core.exportVariable('NAME', process.env.NAME || '');` lines
  (each exports the runner's NAME, or ''), and composite actions: `./path` in the workspace, or `owner/repo@ref`
  mapped with --action to a local checkout (placed, as the runner does, at
  <runner>/work/_actions/<owner>/<repo>/<ref>), with inputs, outputs and their own
  steps context. Any other `uses:` is an error.

Not modelled: secret masking, job outputs, services, containers, concurrency,
timeouts, fail-fast cancelling the other legs of a matrix (legs run one after
another, every one to its end), the cache's per-branch scope; glob filters of `on:`
use fnmatch (its `*` also matches `/`). A step that is skipped is still parsed with
`bash -n`. Each job gets a fresh runner directory under --root with its own HOME,
RUNNER_TEMP, RUNNER_TOOL_CACHE and workspace; jobs run one after another.
"""

import argparse
import fnmatch
import glob
import hashlib
import itertools
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import time
import uuid

import yaml


class Unsupported(Exception):
    """The workflow uses something this interpreter does not model."""


class JobFailed(Exception):
    pass


def log(msg):
    print(f"::run_workflow:: {msg}", file=sys.stderr, flush=True)


# --- expressions ---------------------------------------------------------------------

TOKEN = re.compile(
    r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<num>-?\d+(?:\.\d+)?)|(?P<op>==|!=|&&|\|\||!|\(|\)|,|\.)"
    r"|(?P<id>[A-Za-z_][A-Za-z0-9_-]*)|(?P<bad>\S))"
)

STATUS_FUNCTIONS = {"success", "failure", "always", "cancelled"}


def tokenize(text):
    tokens = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        m = TOKEN.match(text, pos)
        if not m or m.end() == pos:
            break
        pos = m.end()
        kind = m.lastgroup
        value = m.group(kind)
        if kind == "bad":
            raise Unsupported(f"expression `{text}`: `{value}` is not supported")
        tokens.append((kind, value))
    return tokens


class Expr:
    """A parsed `${{ }}` expression, evaluated against a dict of contexts."""

    def __init__(self, text):
        self.text = text
        self.tokens = tokenize(text)
        self.pos = 0
        self.tree = self.parse_or()
        if self.pos != len(self.tokens):
            raise Unsupported(f"expression `{text}`: unexpected `{self.tokens[self.pos][1]}`")

    def peek(self):
        return self.tokens[self.pos] if self.pos < len(self.tokens) else (None, None)

    def take(self, value=None):
        tok = self.peek()
        if tok[0] is None or (value is not None and tok[1] != value):
            raise Unsupported(f"expression `{self.text}`: expected `{value}`")
        self.pos += 1
        return tok

    def parse_or(self):
        left = self.parse_and()
        while self.peek() == ("op", "||"):
            self.take()
            left = ("or", left, self.parse_and())
        return left

    def parse_and(self):
        left = self.parse_eq()
        while self.peek() == ("op", "&&"):
            self.take()
            left = ("and", left, self.parse_eq())
        return left

    def parse_eq(self):
        left = self.parse_unary()
        while self.peek() in (("op", "=="), ("op", "!=")):
            op = self.take()[1]
            left = (op, left, self.parse_unary())
        return left

    def parse_unary(self):
        if self.peek() == ("op", "!"):
            self.take()
            return ("not", self.parse_unary())
        return self.parse_primary()

    def parse_primary(self):
        kind, value = self.take()
        if kind == "str":
            return ("lit", value[1:-1].replace("''", "'"))
        if kind == "num":
            return ("lit", float(value) if "." in value else int(value))
        if kind == "op" and value == "(":
            inner = self.parse_or()
            self.take(")")
            return inner
        if kind == "id":
            if value in ("true", "false"):
                return ("lit", value == "true")
            if value == "null":
                return ("lit", None)
            if self.peek() == ("op", "("):
                self.take()
                args = []
                if self.peek() != ("op", ")"):
                    args.append(self.parse_or())
                    while self.peek() == ("op", ","):
                        self.take()
                        args.append(self.parse_or())
                self.take(")")
                return ("call", value, args)
            path = [value]
            while self.peek() == ("op", "."):
                self.take()
                k, name = self.take()
                if k != "id":
                    raise Unsupported(f"expression `{self.text}`: `.{name}` is not supported")
                path.append(name)
            return ("path", path)
        raise Unsupported(f"expression `{self.text}`: `{value}` is not supported")

    def uses_status_function(self):
        def walk(node):
            if node[0] == "call":
                return node[1] in STATUS_FUNCTIONS or any(walk(a) for a in node[2])
            return any(walk(n) for n in node[1:] if isinstance(n, tuple))

        return walk(self.tree)

    def eval(self, ctx):
        return self.ev(self.tree, ctx)

    def ev(self, node, ctx):
        op = node[0]
        if op == "lit":
            return node[1]
        if op == "or":
            left = self.ev(node[1], ctx)
            return left if truthy(left) else self.ev(node[2], ctx)
        if op == "and":
            left = self.ev(node[1], ctx)
            return self.ev(node[2], ctx) if truthy(left) else left
        if op == "not":
            return not truthy(self.ev(node[1], ctx))
        if op in ("==", "!="):
            same = loose_equal(self.ev(node[1], ctx), self.ev(node[2], ctx))
            return same if op == "==" else not same
        if op == "path":
            return lookup(node[1], ctx, self.text)
        if op == "call":
            return call(node[1], [self.ev(a, ctx) for a in node[2]], ctx, self.text)
        raise AssertionError(node)


def truthy(v):
    return v not in (None, False, 0, "") and not (isinstance(v, float) and v == 0.0)


def to_number(v):
    if v is None:
        return 0
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, (int, float)):
        return v
    if isinstance(v, str):
        try:
            return float(v) if v.strip() else 0
        except ValueError:
            return float("nan")
    return float("nan")


def loose_equal(a, b):
    # GitHub: same types compare directly (strings ignoring case); else both as numbers.
    if isinstance(a, str) and isinstance(b, str):
        return a.lower() == b.lower()
    if type(a) is type(b) and not isinstance(a, (dict, list)):
        return a == b
    if isinstance(a, (dict, list)) or isinstance(b, (dict, list)):
        return a is b
    return to_number(a) == to_number(b)


def to_str(v):
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, (dict, list)):
        return json.dumps(v, indent=2)
    return str(v)


class Strict(dict):
    """A context whose unknown keys are an error (github, runner): a template using a
    property this interpreter does not set must fail, not read an empty string."""

    def __init__(self, name, *args, **kw):
        super().__init__(*args, **kw)
        self.name = name


def lookup(path, ctx, text):
    head = path[0]
    if head not in ctx:
        raise Unsupported(f"expression `{text}`: the context `{head}` is not supported here")
    value = ctx[head]
    for key in path[1:]:
        if isinstance(value, Strict) and key not in value:
            raise Unsupported(f"expression `{text}`: `{value.name}.{key}` is not modelled")
        if isinstance(value, dict):
            value = value.get(key)
        else:
            value = None
    return value


def call(name, args, ctx, text):
    if name == "success":
        return not ctx["__failed__"]
    if name == "failure":
        return ctx["__failed__"]
    if name == "always":
        return True
    if name == "cancelled":
        return False
    if name in ("startsWith", "endsWith", "contains") and len(args) == 2:
        a, b = to_str(args[0]).lower(), to_str(args[1]).lower()
        if name == "contains" and isinstance(args[0], list):
            return any(loose_equal(x, args[1]) for x in args[0])
        return {"startsWith": a.startswith, "endsWith": a.endswith, "contains": a.__contains__}[name](b)
    if name == "format" and args:
        fmt = to_str(args[0])

        def sub(m):
            if m.group(0) in ("{{", "}}"):
                return m.group(0)[0]
            return to_str(args[int(m.group(1)) + 1])

        return re.sub(r"\{\{|\}\}|\{(\d+)\}", sub, fmt)
    raise Unsupported(f"expression `{text}`: the function `{name}` is not supported")


EXPR = re.compile(r"\$\{\{(.*?)\}\}", re.S)


def interpolate(value, ctx):
    """A workflow value with each `${{ }}` replaced by its value as a string."""
    if not isinstance(value, str):
        return value
    return EXPR.sub(lambda m: to_str(Expr(m.group(1)).eval(ctx)), value)


def condition(value, ctx):
    if value is None:
        return not ctx["__failed__"]
    if isinstance(value, bool):
        return value and not ctx["__failed__"]
    text = str(value).strip()
    m = EXPR.fullmatch(text)
    if m:
        text = m.group(1)
    elif "${{" in text:
        raise Unsupported(f"if: `{value}` mixes text and expressions")
    expr = Expr(text)
    result = truthy(expr.eval(ctx))
    if not expr.uses_status_function():
        result = result and not ctx["__failed__"]
    return result


# --- files the runner reads back after a step --------------------------------------------


def read_kv_file(path):
    """GITHUB_ENV / GITHUB_OUTPUT: `name=value` lines and `name<<DELIM … DELIM` blocks."""
    out = {}
    if not os.path.exists(path):
        return out
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if not line.strip():
            continue
        heredoc = re.fullmatch(r"([^=<]+)<<(.+)", line)
        if heredoc and ("=" not in line or line.index("<<") < line.index("=")):
            name, delim = heredoc.group(1), heredoc.group(2)
            body = []
            while i < len(lines) and lines[i] != delim:
                body.append(lines[i])
                i += 1
            if i == len(lines):
                raise JobFailed(f"{path}: no closing `{delim}` for `{name}`")
            i += 1
            out[name] = "\n".join(body)
        elif "=" in line:
            name, val = line.split("=", 1)
            out[name] = val
        else:
            raise JobFailed(f"{path}: invalid line `{line}`")
    return out


# --- the run ---------------------------------------------------------------------------


class Run:
    def __init__(self, args):
        self.args = args
        self.root = os.path.abspath(args.root)
        self.cache_dir = os.path.abspath(args.cache_dir)
        self.repo = os.path.abspath(args.repo)
        self.actions = {}
        for spec in args.action:
            name, path = spec.split("=", 1)
            self.actions[name] = os.path.abspath(path)
        self.vars = dict(kv.split("=", 1) for kv in args.var)
        self.secrets = dict(kv.split("=", 1) for kv in args.secret)
        self.secrets.setdefault("GITHUB_TOKEN", "ghs_run-workflow-token")
        self.extra_env = dict(kv.split("=", 1) for kv in args.env)
        self.sha = git(self.repo, "rev-parse", f"{args.ref}^{{commit}}")
        self.report = {"jobs": [], "root": self.root}
        machine = platform.machine()
        self.arch = {"x86_64": "X64", "aarch64": "ARM64", "arm64": "ARM64"}.get(machine)
        if not self.arch:
            raise Unsupported(f"runner architecture `{machine}`")

    def github_context(self):
        ref = self.args.ref
        ref_type = "tag" if ref.startswith("refs/tags/") else "branch"
        ref_name = ref.split("/", 2)[2] if ref.count("/") >= 2 else ref
        return {
            "ref": ref,
            "ref_name": ref_name,
            "ref_type": ref_type,
            "sha": self.sha,
            "event_name": self.args.event,
            "event": self.event_payload(),
            "repository": self.args.repository,
            "repository_owner": self.args.repository.split("/")[0],
            "actor": self.args.repository.split("/")[0],
            "server_url": self.args.server_url,
            "api_url": self.args.server_url.rstrip("/") + "/api/v3",
            "token": self.secrets["GITHUB_TOKEN"],
            "workflow": self.workflow.get("name", ""),
            "run_id": "1",
            "run_number": "1",
            "run_attempt": "1",
        }

    def event_payload(self):
        """github.event: the repository, and for a pull request the repository its
        head branch lives in (--head-repo: another one for a fork's)."""
        event = Strict("github.event", {"ref": self.args.ref, "repository": {"full_name": self.args.repository}})
        if self.args.event == "pull_request":
            head = self.args.head_repo or self.args.repository
            event["pull_request"] = {"head": {"repo": {"full_name": head}}}
        return event

    def main(self):
        with open(self.args.workflow, encoding="utf-8") as f:
            self.workflow = yaml.safe_load(f)
        wf = self.workflow
        known = {"name", "on", True, "permissions", "env", "jobs"}
        for key in wf:
            if key not in known:
                raise Unsupported(f"workflow key `{key}`")
        self.check_trigger(wf.get("on", wf.get(True)))
        if os.path.exists(self.root):
            shutil.rmtree(self.root)
        os.makedirs(self.root)
        self.artifacts = os.path.join(self.root, "artifacts")
        os.makedirs(self.artifacts)
        os.makedirs(self.cache_dir, exist_ok=True)
        if "permissions" in wf:
            log(f"permissions {wf['permissions']}: not enforced here")
        results = {}
        ok = True
        for job_id in self.job_order(wf["jobs"]):
            job = wf["jobs"][job_id]
            needs = job.get("needs", [])
            needs = [needs] if isinstance(needs, str) else needs
            if any(results.get(n) != "success" for n in needs):
                log(f"job {job_id}: skipped (a needed job did not succeed)")
                results[job_id] = "skipped"
                self.report["jobs"].append({"id": job_id, "result": "skipped"})
                continue
            result = "success"
            for index, matrix in enumerate(self.matrix(job_id, job), start=1):
                if not self.run_job(wf, job_id, job, matrix, index):
                    result = "failure"
            results[job_id] = result
            ok = ok and result == "success"
        if self.args.report:
            with open(self.args.report, "w", encoding="utf-8") as f:
                json.dump(self.report, f, indent=2)
        return ok

    def check_trigger(self, on):
        event = self.args.event
        if isinstance(on, str):
            on = {on: None}
        elif isinstance(on, list):
            on = {e: None for e in on}
        if event not in on:
            raise JobFailed(f"the workflow does not run on `{event}` (it runs on {', '.join(on)})")
        filters = on[event] or {}
        for key in filters:
            if key not in ("branches", "tags"):
                raise Unsupported(f"on.{event}.{key}")
        if event == "push" and filters:
            ref = self.args.ref
            kind, name = ("tags", ref[len("refs/tags/"):]) if ref.startswith("refs/tags/") else ("branches", ref[len("refs/heads/"):])
            patterns = filters.get(kind)
            if patterns is None or not any(fnmatch.fnmatchcase(name, p) for p in patterns):
                raise JobFailed(f"the workflow does not run on a push of {ref}")

    def job_order(self, jobs):
        order, seen = [], set()

        def visit(j, stack=()):
            if j in seen:
                return
            if j in stack:
                raise Unsupported(f"a cycle in `needs` through {j}")
            if j not in jobs:
                raise Unsupported(f"`needs` names an unknown job `{j}`")
            needs = jobs[j].get("needs", [])
            for n in [needs] if isinstance(needs, str) else needs:
                visit(n, stack + (j,))
            seen.add(j)
            order.append(j)

        for j in jobs:
            visit(j)
        return order

    def matrix(self, job_id, job):
        strategy = job.get("strategy")
        if not strategy:
            return [{}]
        for key in strategy:
            if key not in ("matrix", "fail-fast", "max-parallel"):
                raise Unsupported(f"jobs.{job_id}.strategy.{key}")
        m = dict(strategy["matrix"])
        include = m.pop("include", None)
        if "exclude" in m:
            raise Unsupported(f"jobs.{job_id}.strategy.matrix.exclude")
        if m and include:
            raise Unsupported(f"jobs.{job_id}: matrix axes together with include")
        if include:
            return [dict(i) for i in include]
        names = list(m)
        return [dict(zip(names, combo)) for combo in itertools.product(*(m[n] for n in names))]

    # --- one job ---------------------------------------------------------------------------

    def run_job(self, wf, job_id, job, matrix, index):
        for key in job:
            if key not in ("name", "runs-on", "needs", "strategy", "steps", "env", "permissions", "if", "timeout-minutes"):
                raise Unsupported(f"jobs.{job_id}.{key}")
        runner_dir = os.path.join(self.root, f"{job_id}-{index}" if matrix else job_id)
        repo_name = self.args.repository.split("/")[1]
        dirs = {
            "home": os.path.join(runner_dir, "home"),
            "temp": os.path.join(runner_dir, "temp"),
            "tool_cache": os.path.join(runner_dir, "tool-cache"),
            "files": os.path.join(runner_dir, "files"),
            "workspace": os.path.join(runner_dir, "work", repo_name, repo_name),
        }
        for d in dirs.values():
            os.makedirs(d)
        job_state = {
            "dir": runner_dir,
            "dirs": dirs,
            "env": {},  # from GITHUB_ENV
            "path": [],  # from GITHUB_PATH, newest first
            "failed": False,
            "post": [],
            "summary": os.path.join(runner_dir, "summary.md"),
            "job_id": job_id,
            "steps_report": [],
        }
        runner = Strict("runner", {
            "os": "Linux",
            "arch": self.arch,
            "name": f"run-workflow-{job_id}-{index}",
            "temp": dirs["temp"],
            "tool_cache": dirs["tool_cache"],
            "debug": "",
        })
        github = Strict("github", self.github_context())
        github["job"] = job_id
        github["workspace"] = dirs["workspace"]
        ctx = {
            "github": github,
            "matrix": matrix,
            "secrets": self.secrets,
            "vars": self.vars,
            "runner": runner,
            "env": {},
            "steps": {},
            "__failed__": False,
        }
        job_state["ctx"] = ctx
        name = interpolate(job.get("name", job_id), ctx)
        runs_on = interpolate(job.get("runs-on"), ctx)
        log(f"job {job_id} ({name}): runs-on {runs_on} -> this host (Linux {self.arch}), runner dir {runner_dir}")
        if runs_on and "arm" in str(runs_on) and self.arch == "X64":
            log(f"job {job_id}: an arm64 runner stands in as this x86_64 host (RUNNER_ARCH=X64): arm64 targets cross-build (zig for C)")
        if "permissions" in job:
            log(f"job {job_id}: permissions {job['permissions']}: not enforced here")
        if "if" in job and not condition(job["if"], ctx):
            log(f"job {job_id}: skipped by its if")
            self.report["jobs"].append({"id": job_id, "name": name, "result": "skipped"})
            return True
        self.wf_env = {k: to_str(interpolate(v, ctx)) for k, v in (wf.get("env") or {}).items()}
        ctx["env"] = dict(self.wf_env)
        self.job_env = dict(self.wf_env)
        for k, v in (job.get("env") or {}).items():
            self.job_env[k] = to_str(interpolate(v, ctx))
        ctx["env"] = dict(self.job_env)
        with open(os.path.join(dirs["temp"], "event.json"), "w", encoding="utf-8") as f:
            json.dump({"ref": self.args.ref, "repository": {"full_name": self.args.repository}}, f)
        self.run_steps(job_state, job["steps"], ctx, scope=job_id, action=None)
        for post in reversed(job_state["post"]):
            try:
                post(job_state["failed"])
            except JobFailed as e:
                log(f"job {job_id}: post step: {e}")
                job_state["failed"] = True
        result = "failure" if job_state["failed"] else "success"
        log(f"job {job_id} ({name}): {result}")
        self.report["jobs"].append({
            "id": job_id,
            "name": name,
            "matrix": matrix,
            "result": result,
            "runner_dir": runner_dir,
            "workspace": dirs["workspace"],
            "summary": job_state["summary"],
            "steps": job_state["steps_report"],
        })
        return not job_state["failed"]

    def run_steps(self, job, steps, ctx, scope, action):
        """Runs steps in order. A failed step marks the job failed; the steps after it
        still have their `if:` evaluated (so `if: always()` or `failure()` would run)."""
        for n, step in enumerate(steps, start=1):
            for key in step:
                if key not in ("name", "id", "uses", "with", "run", "shell", "env", "if", "working-directory", "timeout-minutes"):
                    raise Unsupported(f"{scope}: step {n}: `{key}`")
            step_id = step.get("id") or f"__{n}"
            ctx["__failed__"] = job["failed"]
            ctx["env"] = {**job["env"], **self.job_env, **(action["env"] if action else {})}
            label = step.get("name") or step.get("uses") or (step.get("run") or "").split("\n")[0]
            label = interpolate(label, ctx)
            if not condition(step.get("if"), ctx):
                log(f"{scope}: skip `{label}` (if: {step.get('if', 'success()')})")
                if "run" in step:
                    self.syntax_check(step["run"], ctx, scope, label)
                ctx["steps"][step_id] = {"outputs": {}, "outcome": "skipped", "conclusion": "skipped"}
                job["steps_report"].append({"scope": scope, "name": label, "result": "skipped"})
                continue
            step_env = {k: to_str(interpolate(v, ctx)) for k, v in (step.get("env") or {}).items()}
            ctx["env"].update(step_env)
            log(f"{scope}: run `{label}`")
            started = time.monotonic()
            try:
                if "run" in step:
                    outputs = self.run_script(job, step, ctx, step_env, scope, action)
                elif "uses" in step:
                    outputs = self.run_uses(job, step, ctx, step_env, scope)
                else:
                    raise Unsupported(f"{scope}: step `{label}` has neither run nor uses")
            except JobFailed as e:
                log(f"{scope}: `{label}` failed: {e}")
                job["failed"] = True
                ctx["steps"][step_id] = {"outputs": {}, "outcome": "failure", "conclusion": "failure"}
                job["steps_report"].append({"scope": scope, "name": label, "result": "failure"})
                continue
            seconds = round(time.monotonic() - started, 2)
            ctx["steps"][step_id] = {"outputs": outputs, "outcome": "success", "conclusion": "success"}
            job["steps_report"].append({"scope": scope, "name": label, "result": "success", "seconds": seconds})
            log(f"{scope}: `{label}` done in {seconds:.1f} s")

    def syntax_check(self, script, ctx, scope, label):
        """A skipped step is still parsed by bash (its expressions with what is known)."""
        text = interpolate(script, ctx)
        r = subprocess.run(["bash", "-n"], input=text, text=True, capture_output=True)
        if r.returncode != 0:
            raise JobFailed(f"{scope}: `{label}` is not valid bash: {r.stderr.strip()}")

    def process_env(self, job, step_env, action):
        """The environment of a step's process: the runner's own, GITHUB_ENV, then the
        workflow, job and step `env:` (a composite action's caller's included), then
        the variables the runner sets, which nothing overrides."""
        d = job["dirs"]
        env = {
            "PATH": self.args.path,
            "HOME": d["home"],
            "LANG": os.environ.get("LANG", "C.UTF-8"),
        }
        env.update(self.extra_env)
        env.update(job["env"])
        env.update(self.job_env)
        if action:
            env.update(action["env"])
        env.update(step_env)
        if job["path"]:
            env["PATH"] = os.pathsep.join(job["path"] + [env["PATH"]])
        gh = job["ctx"]["github"]
        env.update({
            "CI": "true",
            "GITHUB_ACTIONS": "true",
            "GITHUB_WORKSPACE": d["workspace"],
            "GITHUB_REPOSITORY": gh["repository"],
            "GITHUB_REPOSITORY_OWNER": gh["repository_owner"],
            "GITHUB_ACTOR": gh["actor"],
            "GITHUB_SHA": gh["sha"],
            "GITHUB_REF": gh["ref"],
            "GITHUB_REF_NAME": gh["ref_name"],
            "GITHUB_REF_TYPE": gh["ref_type"],
            "GITHUB_EVENT_NAME": gh["event_name"],
            "GITHUB_EVENT_PATH": os.path.join(d["temp"], "event.json"),
            "GITHUB_SERVER_URL": gh["server_url"],
            "GITHUB_API_URL": gh["api_url"],
            "GITHUB_WORKFLOW": gh["workflow"],
            "GITHUB_RUN_ID": gh["run_id"],
            "GITHUB_RUN_NUMBER": gh["run_number"],
            "GITHUB_RUN_ATTEMPT": gh["run_attempt"],
            "GITHUB_JOB": job["job_id"],
            "RUNNER_OS": "Linux",
            "RUNNER_ARCH": self.arch,
            "RUNNER_NAME": job["ctx"]["runner"]["name"],
            "RUNNER_TEMP": d["temp"],
            "RUNNER_TOOL_CACHE": d["tool_cache"],
        })
        if action:
            env["GITHUB_ACTION_PATH"] = action["path"]
        return env

    def run_script(self, job, step, ctx, step_env, scope, action):
        shell = step.get("shell")
        if action and shell is None:
            raise Unsupported(f"{scope}: a composite action's run step needs `shell`")
        if shell == "bash":
            argv = ["bash", "--noprofile", "--norc", "-eo", "pipefail"]
        elif shell is None:
            argv = ["bash", "-e"]
        else:
            raise Unsupported(f"{scope}: shell `{shell}`")
        script = interpolate(step["run"], ctx)
        d = job["dirs"]
        files = {}
        for name in ("GITHUB_ENV", "GITHUB_PATH", "GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY"):
            files[name] = os.path.join(d["files"], f"{name.lower()}_{uuid.uuid4().hex}")
            open(files[name], "w").close()
        script_path = os.path.join(d["temp"], f"{uuid.uuid4()}.sh")
        with open(script_path, "w", encoding="utf-8") as f:
            f.write(script)
        cwd = d["workspace"]
        if "working-directory" in step:
            cwd = os.path.join(cwd, interpolate(step["working-directory"], ctx))
        if not os.path.isdir(cwd):
            raise JobFailed(f"{scope}: working-directory {cwd} does not exist")
        env = self.process_env(job, step_env, action)
        env.update(files)
        r = subprocess.run(argv + [script_path], cwd=cwd, env=env)
        # Like the runner: what the step wrote is read back even when it failed.
        new_env = read_kv_file(files["GITHUB_ENV"])
        for k in new_env:
            if k.startswith(("GITHUB_", "RUNNER_")):
                raise JobFailed(f"{scope}: GITHUB_ENV may not set {k}")
        job["env"].update(new_env)
        with open(files["GITHUB_PATH"], encoding="utf-8") as f:
            for line in f.read().splitlines():
                if line.strip():
                    job["path"].insert(0, line.strip())
        outputs = read_kv_file(files["GITHUB_OUTPUT"])
        with open(files["GITHUB_STEP_SUMMARY"], encoding="utf-8") as f:
            summary = f.read()
        if summary:
            with open(job["summary"], "a", encoding="utf-8") as f:
                f.write(summary)
        if r.returncode != 0:
            raise JobFailed(f"exit code {r.returncode}")
        return outputs

    # --- uses: -----------------------------------------------------------------------

    def run_uses(self, job, step, ctx, step_env, scope):
        uses = step["uses"]
        with_ = {k: to_str(interpolate(v, ctx)) for k, v in (step.get("with") or {}).items()}
        if uses == "actions/checkout@v4":
            return self.checkout(job, with_)
        if uses == "actions/cache@v4":
            return self.cache(job, with_, scope)
        if uses == "actions/upload-artifact@v4":
            return self.upload(job, with_)
        if uses == "actions/download-artifact@v4":
            return self.download(job, with_)
        if uses == "actions/attest-build-provenance@v2":
            return self.attest(job, with_)
        if uses == "actions/github-script@v7":
            return self.github_script(job, with_, step_env, scope)
        if uses.startswith("./"):
            path = os.path.normpath(os.path.join(job["dirs"]["workspace"], uses))
            return self.composite(job, path, with_, ctx, step_env, scope, uses)
        m = re.fullmatch(r"([\w.-]+/[\w.-]+)@([\w./-]+)", uses)
        if m and m.group(1) in self.actions:
            path = os.path.join(job["dirs"]["workspace"], "..", "..", "_actions", m.group(1), m.group(2))
            path = os.path.normpath(path)
            if not os.path.exists(path):
                copy_checkout(self.actions[m.group(1)], path)
            return self.composite(job, path, with_, ctx, step_env, scope, uses)
        raise Unsupported(f"{scope}: `uses: {uses}`")

    def github_script(self, job, with_, step_env, scope):
        for k in with_:
            if k != "script":
                raise Unsupported(f"actions/github-script input `{k}`")
        env = self.process_env(job, step_env, None)
        line = re.compile(r"core\.exportVariable\('([A-Za-z_][A-Za-z0-9_]*)', process\.env\.([A-Za-z_][A-Za-z0-9_]*) \|\| ''\);")
        for text in with_["script"].splitlines():
            if not text.strip():
                continue
            m = line.fullmatch(text.strip())
            if not m or m.group(1) != m.group(2):
                raise Unsupported(f"{scope}: github-script line `{text.strip()}` (only exportVariable of a runner variable)")
            name = m.group(1)
            if name.startswith(("GITHUB_", "RUNNER_")):
                raise JobFailed(f"{scope}: github-script may not export {name}")
            job["env"][name] = env.get(name, "")
            log(f"github-script: exported {name} ({'set' if env.get(name) else 'empty'})")
        return {}

    def attest(self, job, with_):
        """GitHub's attestation: the subjects are found and hashed as the action does;
        signing them with Sigstore and storing them with GitHub is not modelled (no
        GitHub here), which the log says."""
        if set(with_) != {"subject-path"}:
            raise Unsupported(f"actions/attest-build-provenance with {sorted(with_)}")
        ws = job["dirs"]["workspace"]
        subjects = []
        for pattern in with_["subject-path"].split():
            matched = sorted(glob.glob(os.path.join(ws, pattern)))
            if not matched:
                raise JobFailed(f"attest-build-provenance: no file matches `{pattern}`")
            subjects += [m for m in matched if os.path.isfile(m)]
        for path in subjects:
            with open(path, "rb") as f:
                digest = hashlib.sha256(f.read()).hexdigest()
            log(f"attest-build-provenance: subject {os.path.relpath(path, ws)} sha256:{digest}")
        log(f"attest-build-provenance: {len(subjects)} subjects; the Sigstore signature and GitHub's attestation store are not modelled here")
        return {}

    def checkout(self, job, with_):
        if set(with_) - {"persist-credentials"}:
            raise Unsupported(f"actions/checkout with {sorted(with_)}")
        persist = with_.get("persist-credentials", "true")
        if persist not in ("true", "false"):
            raise JobFailed(f"checkout: persist-credentials `{persist}` is not true or false")
        ws = job["dirs"]["workspace"]
        git(ws, "init", "--quiet")
        git(ws, "fetch", "--quiet", "--no-tags", "--depth", "1", f"file://{self.repo}", self.args.ref)
        git(ws, "checkout", "--quiet", "--detach", "FETCH_HEAD")
        got = git(ws, "rev-parse", "HEAD")
        if got != self.sha:
            raise JobFailed(f"checkout: {self.args.ref} is {got}, not {self.sha}")
        if persist == "true":
            # As actions/checkout does: the job's token stays in .git/config for
            # every later step (and anything it runs) to read.
            git(ws, "config", "--local", f"http.{self.args.server_url}/.extraheader", f"AUTHORIZATION: basic {self.secrets['GITHUB_TOKEN']}")
        log(f"checkout: {self.repo} at {self.args.ref} ({self.sha[:12]}) into {ws} (persist-credentials: {persist})")
        return {}

    def composite(self, job, path, with_, ctx, step_env, scope, uses):
        meta_path = next((os.path.join(path, n) for n in ("action.yml", "action.yaml") if os.path.exists(os.path.join(path, n))), None)
        if not meta_path:
            raise JobFailed(f"{uses}: no action.yml in {path}")
        with open(meta_path, encoding="utf-8") as f:
            meta = yaml.safe_load(f)
        runs = meta.get("runs") or {}
        if runs.get("using") != "composite":
            raise Unsupported(f"{uses}: runs.using `{runs.get('using')}` (only composite)")
        declared = meta.get("inputs") or {}
        for k in with_:
            if k not in declared:
                raise JobFailed(f"{uses}: unexpected input `{k}`")
        github = Strict("github", dict(ctx["github"]))
        github["action_path"] = path
        inner = {
            "github": github,
            # No secrets or vars in an action: a workflow passes them as inputs.
            "runner": ctx["runner"],
            "env": ctx["env"],
            "steps": {},
            "__failed__": ctx["__failed__"],
        }
        inputs = {}
        for name, spec in declared.items():
            spec = spec or {}
            if name in with_:
                inputs[name] = with_[name]
            elif "default" in spec:
                inputs[name] = to_str(interpolate(spec["default"], inner))
            elif spec.get("required"):
                raise JobFailed(f"{uses}: input `{name}` is required")
            else:
                inputs[name] = ""
        inner["inputs"] = inputs
        action = {"path": path, "env": step_env}
        failed_before = job["failed"]
        self.run_steps(job, runs["steps"], inner, scope=f"{scope} > {meta.get('name', uses)}", action=action)
        if job["failed"] and not failed_before:
            raise JobFailed(f"{uses}: a step of the action failed")
        outputs = {}
        for name, spec in (meta.get("outputs") or {}).items():
            outputs[name] = to_str(interpolate(spec.get("value", ""), inner))
        return outputs

    # actions/cache ------------------------------------------------------------------

    def cache(self, job, with_, scope):
        for k in with_:
            if k not in ("path", "key", "restore-keys"):
                raise Unsupported(f"actions/cache input `{k}`")
        paths = [p.strip() for p in with_["path"].splitlines() if p.strip()]
        key = with_["key"]
        restore_keys = [k.strip() for k in with_.get("restore-keys", "").splitlines() if k.strip()]
        ws = job["dirs"]["workspace"]
        home = job["dirs"]["home"]

        def resolve(p):
            p = os.path.join(home, p[2:]) if p.startswith("~/") else p
            return os.path.normpath(os.path.join(ws, p))

        inside, outside = [], []
        for p in paths:
            (inside if is_within(resolve(p), job["dir"]) else outside).append(p)
        for p in outside:
            log(f"cache {key}: {p} is outside this runner's directory (a directory of this machine): neither restored nor saved")
        version = json.dumps(paths)
        entries = self.cache_entries(version)
        hit = None
        if key in entries:
            hit = key
        else:
            for prefix in restore_keys:
                matches = [k for k in entries if k.startswith(prefix)]
                if matches:
                    hit = max(matches, key=lambda k: entries[k]["created"])
                    break
        if hit and inside:
            archive = os.path.join(entries[hit]["dir"], "data.tar")
            subprocess.run(["tar", "-xf", archive, "-P", "-C", ws], check=True)
            log(f"cache restored from key: {hit}")
        elif hit:
            log(f"cache {hit}: found, nothing inside this runner to restore")
        else:
            log(f"cache not found for key {key} (restore keys: {', '.join(restore_keys) or 'none'})")

        def save(failed):
            if failed:
                log(f"cache {key}: not saved (the job failed)")
                return
            if hit == key:
                log(f"cache {key}: hit on the primary key, not saved")
                return
            if key in self.cache_entries(version):
                log(f"cache {key}: another job saved it already, not saved")
                return
            present = [p for p in inside if os.path.exists(resolve(p))]
            if not present:
                log(f"cache {key}: no path to save ({', '.join(paths)})")
                return
            entry = os.path.join(self.cache_dir, uuid.uuid4().hex)
            tmp = entry + ".tmp"
            os.makedirs(tmp)
            rel = [os.path.relpath(resolve(p), ws) for p in present]
            subprocess.run(["tar", "-cf", os.path.join(tmp, "data.tar"), "-P", "-C", ws, *rel], check=True)
            with open(os.path.join(tmp, "entry.json"), "w", encoding="utf-8") as f:
                json.dump({"key": key, "version": version, "created": time.time_ns()}, f)
            os.rename(tmp, entry)
            log(f"cache saved with key: {key} ({', '.join(present)})")

        job["post"].append(save)
        # As actions/cache: "true" on the primary key, "false" on a restore key, unset on a miss.
        return {"cache-hit": "true" if hit == key else "false"} if hit else {}

    def cache_entries(self, version):
        entries = {}
        for name in os.listdir(self.cache_dir):
            path = os.path.join(self.cache_dir, name)
            meta = os.path.join(path, "entry.json")
            if name.endswith(".tmp") or not os.path.exists(meta):
                continue
            with open(meta, encoding="utf-8") as f:
                e = json.load(f)
            if e["version"] == version:
                e["dir"] = path
                entries[e["key"]] = e
        return entries

    # artifacts ------------------------------------------------------------------------

    def upload(self, job, with_):
        for k in with_:
            if k not in ("name", "path", "if-no-files-found", "retention-days"):
                raise Unsupported(f"actions/upload-artifact input `{k}`")
        name = with_.get("name") or "artifact"
        paths = [p.strip() for p in with_["path"].splitlines() if p.strip()]
        if len(paths) != 1 or any(c in paths[0] for c in "*?[!"):
            raise Unsupported(f"upload-artifact path `{with_['path']}` (one file or directory)")
        src = os.path.join(job["dirs"]["workspace"], paths[0])
        dest = os.path.join(self.artifacts, name)
        if os.path.exists(dest):
            raise JobFailed(f"upload-artifact: an artifact named `{name}` exists already")
        if not os.path.exists(src):
            mode = with_.get("if-no-files-found", "warn")
            if mode == "error":
                raise JobFailed(f"upload-artifact: no files found at {paths[0]}")
            log(f"upload-artifact: no files found at {paths[0]} ({mode})")
            return {}
        if os.path.isdir(src):
            shutil.copytree(src, dest, symlinks=True)
        else:
            os.makedirs(dest)
            shutil.copy2(src, dest)
        if "retention-days" in with_:
            log(f"upload-artifact {name}: retention-days {with_['retention-days']} (no effect here)")
        log(f"artifact {name}: {paths[0]}")
        return {"artifact-id": name}

    def download(self, job, with_):
        for k in with_:
            if k not in ("name", "pattern", "path", "merge-multiple"):
                raise Unsupported(f"actions/download-artifact input `{k}`")
        dest = os.path.join(job["dirs"]["workspace"], with_.get("path") or ".")
        names = sorted(os.listdir(self.artifacts))
        if with_.get("name"):
            if with_["name"] not in names:
                raise JobFailed(f"download-artifact: no artifact `{with_['name']}`")
            shutil.copytree(os.path.join(self.artifacts, with_["name"]), dest, dirs_exist_ok=True)
            return {"download-path": dest}
        pattern = with_.get("pattern") or "*"
        chosen = [n for n in names if fnmatch.fnmatchcase(n, pattern)]
        if not chosen:
            raise JobFailed(f"download-artifact: no artifact matches `{pattern}`")
        merge = with_.get("merge-multiple", "false") == "true"
        for n in chosen:
            shutil.copytree(os.path.join(self.artifacts, n), dest if merge else os.path.join(dest, n), dirs_exist_ok=True)
            log(f"download-artifact: {n} -> {dest if merge else os.path.join(dest, n)}")
        return {"download-path": dest}


def is_within(path, root):
    path, root = os.path.realpath(path), os.path.realpath(root)
    return path == root or path.startswith(root + os.sep)


def git(cwd, *args):
    r = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True)
    if r.returncode != 0:
        raise JobFailed(f"git {' '.join(args)}: {r.stderr.strip()}")
    return r.stdout.strip()


def copy_checkout(src, dest):
    """An action's checkout, as the runner downloads it: the repository's tracked (and
    new, not ignored) files, without its build output."""
    listing = subprocess.run(
        ["git", "-C", src, "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        capture_output=True, check=True,
    ).stdout.decode().split("\0")
    for rel in listing:
        if not rel or not os.path.lexists(os.path.join(src, rel)):
            continue
        os.makedirs(os.path.dirname(os.path.join(dest, rel)), exist_ok=True)
        shutil.copy2(os.path.join(src, rel), os.path.join(dest, rel), follow_symlinks=False)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("workflow")
    p.add_argument("--repo", required=True, help="git repository actions/checkout fetches from")
    p.add_argument("--ref", required=True, help="the ref that triggered the run (refs/tags/v1.0.0, refs/heads/main)")
    p.add_argument("--event", default="push")
    p.add_argument("--head-repo", help="for --event pull_request: the repository of its head (a fork's; default, --repository)")
    p.add_argument("--repository", default="acme/app", help="GITHUB_REPOSITORY")
    p.add_argument("--server-url", default="https://github.com")
    p.add_argument("--root", required=True, help="runner directories (wiped first)")
    p.add_argument("--cache-dir", required=True, help="the actions/cache store (kept between runs)")
    p.add_argument("--action", action="append", default=[], help="OWNER/REPO=DIR: a local checkout for `uses: OWNER/REPO@ref`")
    p.add_argument("--var", action="append", default=[], help="NAME=VALUE in the vars context")
    p.add_argument("--secret", action="append", default=[], help="NAME=VALUE in the secrets context")
    p.add_argument("--env", action="append", default=[], help="NAME=VALUE in the runner's own environment")
    p.add_argument("--path", default=os.environ.get("PATH", ""), help="the runner's PATH")
    p.add_argument("--report", help="write a JSON report of jobs and steps here")
    args = p.parse_args()
    try:
        ok = Run(args).main()
    except Unsupported as e:
        print(f"run_workflow: unsupported: {e}", file=sys.stderr)
        sys.exit(3)
    except JobFailed as e:
        print(f"run_workflow: {e}", file=sys.stderr)
        sys.exit(1)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
