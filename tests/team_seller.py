"""One seller of the concurrency test (tests/test_team_concurrency.py): runs commands through the CLI entry.

Usage: python tests/team_seller.py DB NAME SEED COUNT SELLERS OUT.jsonl. Each command is run in this
process through Typer's CliRunner (the CLI entry, its error handler and one transaction each, as in
a shell), so eight of these are eight sellers at once with eight connections, without paying
Python's start-up 2,400 times. Every command and its outcome is written to OUT for the checks.
"""

import json
import random
import sys
import traceback

from typer.testing import CliRunner

from pipectl.cli.app import app


def main() -> None:
    db, name, seed, count, sellers, out = sys.argv[1:7]
    pick = random.Random(int(seed))
    team = [f"seller{n}" for n in range(int(sellers))]
    runner = CliRunner()
    known: list[int] = []
    with open(out, "w", encoding="utf-8") as log:
        for step in range(int(count)):
            roll = pick.random()
            lead = str(pick.choice(known)) if known else "1"
            if roll < 0.22:
                args = ["add", f"{name} lead {step}", "--email", f"{name}.{step}@example.com", "--size", str(step)]
            elif roll < 0.40:
                args = ["claim", "--next", "-f", "json"]
            elif roll < 0.55:
                args = ["claim", lead, "-f", "json"]
            elif roll < 0.70:
                args = ["assign", "--round-robin", "--limit", "1", "-f", "json"]
            elif roll < 0.80:
                args = ["assign", lead, "--to", pick.choice(team), "-f", "json"]
            elif roll < 0.90:
                args = ["release", lead, "-f", "json"]
            else:
                args = ["log", lead, "call", "--note", f"{name} call {step}"]
            result = runner.invoke(app, ["--db", db, "--as", name, *args])
            error = result.exception if not isinstance(result.exception, SystemExit) else None
            record = {"args": args, "code": result.exit_code, "stdout": result.stdout, "stderr": result.stderr}
            if error is not None:  # the whole traceback, so a crash under load can be read afterwards
                record["crash"] = "".join(traceback.format_exception(*result.exc_info))
            log.write(json.dumps(record) + "\n")
            if args[0] == "add" and result.exit_code == 0:
                known.append(int(result.stdout.strip()))
            elif result.exit_code == 0 and args[0] in ("claim", "assign"):
                known.extend(row["id"] for row in json.loads(result.stdout))


if __name__ == "__main__":
    main()
