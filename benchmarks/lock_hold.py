"""A writer holds the write lock for a long time: readers answer at once, a writer waits or says who holds it.

Example: python -m benchmarks.lock_hold --hold 40

A child process opens the pipeline the way `pipectl import` does (a write
transaction, under the name `import`), adds a lead, and holds the lock for
HOLD seconds. Meanwhile `list`, `show`, `export` and `metrics` run as real
`pipectl` processes and must answer (exit 0) while the lock is still held;
an `add` with a short busy timeout must fail with the message naming the
holder; an `add` with the default (30 s) timeout is started during the hold
and must either succeed once the writer ends or fail with that same message.
The reliability suite runs it with a hold of a few seconds
(tests/test_reliability_locking.py); this script is the 40-second version.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
READERS = (["list", "--format", "json"], ["show", "1", "--format", "json"], ["export"], ["metrics", "--format", "json"])

HOLDER = textwrap.dedent("""
    import os, sys, time
    from pipectl.cli.runtime import pipeline, root_db
    from pipectl.core.leads import add_lead, validate_fields

    root_db["command"] = "import"
    with pipeline(sys.argv[1]) as session:
        add_lead(session, validate_fields(name="Held by the writer"), tags=[], custom={})
        session.flush()
        print("holding", flush=True)
        deadline, release = time.monotonic() + float(sys.argv[2]), sys.argv[3]
        while time.monotonic() < deadline and not os.path.exists(release):
            time.sleep(0.05)
    print("committed", flush=True)
""")


def scenario(db: Path, hold: float, *, release_early: bool = False) -> dict:
    """Run the scenario on `db` (which must hold lead 1); returns what happened, for a test or a person.

    With `release_early` the writer lets go as soon as the readers and the impatient `add` are done
    (and the waiting `add` is waiting), instead of after `hold` seconds: a test then proves "during
    the hold" without depending on how fast a loaded machine runs the readers.
    """
    env = dict(os.environ, PIPECTL_DB=str(db))
    pythonpath = [str(ROOT / "src"), env.get("PYTHONPATH", "")]
    env["PYTHONPATH"] = os.pathsep.join(part for part in pythonpath if part)
    release = Path(f"{db}.release")
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(db), str(hold), str(release)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    report: dict = {"hold_seconds": hold, "readers": []}
    try:
        assert holder.stdout.readline().strip() == "holding", holder.stderr.read()
        started = time.monotonic()
        waiting_add = subprocess.Popen(
            [sys.executable, "-m", "pipectl", "add", "Waited for the lock"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for args in READERS:
            report["readers"].append(_timed(args, env) | {"lock_still_held": holder.poll() is None})
        report["short_timeout_add"] = _timed(["add", "Impatient"], dict(env, PIPECTL_BUSY_TIMEOUT="0.5")) | {
            "lock_still_held": holder.poll() is None
        }
        if release_early:
            release.touch()
        out, err = waiting_add.communicate(timeout=hold + 60)
        report["waiting_add"] = {
            "exit": waiting_add.returncode,
            "stdout": out,
            "stderr": err,
            "seconds": round(time.monotonic() - started, 2),
        }
        holder_out, holder_err = holder.communicate(timeout=hold + 60)
        report["writer"] = {"exit": holder.returncode, "stdout": holder_out, "stderr": holder_err}
    finally:
        release.unlink(missing_ok=True)
        if holder.poll() is None:
            holder.kill()
            holder.communicate()
    return report


def _timed(args: list[str], env: dict) -> dict:
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "pipectl", *args], capture_output=True, text=True, env=env, timeout=120
    )
    return {
        "args": args,
        "exit": done.returncode,
        "stderr": done.stderr,
        "stdout_bytes": len(done.stdout),
        "seconds": round(time.monotonic() - started, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--hold", type=float, default=40.0, help="Seconds the writer holds the lock.")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="pipectl-lock-") as folder:
        db = Path(folder) / "pipeline.db"
        env = dict(os.environ, PIPECTL_DB=str(db), PYTHONPATH=str(ROOT / "src"))
        subprocess.run([sys.executable, "-m", "pipectl", "add", "First lead"], check=True, capture_output=True, env=env)
        report = scenario(db, options.hold)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
