"""Build src/pipectl/data/demo.jsonl, the pipeline `pipectl demo` loads, with pipectl's own commands.

Example: python examples/make_demo.py  (then: pipectl demo)

Forty leads go through the default stages over the months before
2026-11-23, with calls, emails, replies, meetings, marketing signals, BANT
answers, planned next actions, and a few won and lost deals with reasons.
Every step is a real pipectl command with `--at` set to when it happened, run
against a temporary database; the result is `pipectl export --what all`.
The same seed always gives the same file.
"""

import json
import os
import random
import sys
import tempfile
from datetime import datetime, timedelta
from pathlib import Path

NOW = datetime(2026, 11, 23, 9, 0)
OUT = Path(__file__).parent.parent / "src" / "pipectl" / "data" / "demo.jsonl"  # shipped with pipectl: `pipectl demo`

FIRST = [
    "Ada",
    "Grace",
    "Alan",
    "Katherine",
    "Linus",
    "Margaret",
    "Tim",
    "Radia",
    "Dennis",
    "Barbara",
    "Ken",
    "Frances",
    "Guido",
    "Hedy",
    "Edsger",
    "Annie",
    "Niklaus",
    "Joan",
    "Bjarne",
    "Sophie",
    "Yukihiro",
    "Mary",
    "Anders",
    "Jean",
    "Rasmus",
    "Lynn",
    "Brendan",
    "Karen",
    "Larry",
    "Evelyn",
    "Chen",
    "Amara",
    "José",
    "Ingrid",
    "Mei",
    "Tomasz",
    "Priya",
    "Olu",
    "Fatima",
    "Søren",
]
LAST = [
    "Lovelace",
    "Hopper",
    "Turing",
    "Johnson",
    "Torvalds",
    "Hamilton",
    "Berners-Lee",
    "Perlman",
    "Ritchie",
    "Liskov",
    "Thompson",
    "Allen",
    "van Rossum",
    "Lamarr",
    "Dijkstra",
    "Easley",
    "Wirth",
    "Clarke",
    "Stroustrup",
    "Wilson",
    "Matsumoto",
    "Keller",
    "Hejlsberg",
    "Sammet",
    "Lerdorf",
    "Conway",
    "Eich",
    "Spärck Jones",
    "Wall",
    "Boyd",
    "Wei",
    "Okafor",
    "García",
    "Larsen",
    "Tanaka",
    "Nowak",
    "Raman",
    "Adeyemi",
    "Haddad",
    "Kierkegaard",
]
COMPANIES = [
    "Northwind",
    "Globex",
    "Initech",
    "Umbrella Health",
    "Stark Logistics",
    "Wayne Foods",
    "Acme Tools",
    "Hooli",
    "Vandelay Imports",
    "Soylent",
    "Tyrell Systems",
    "Cyberdyne",
    "Wonka Retail",
    "Oceanic Air",
    "Massive Dynamic",
    "Aperture Labs",
    "Blue Sun",
    "Gringotts Finance",
    "Monarch Media",
    "Pied Piper",
]
TITLES = [
    "CTO",
    "Head of Sales",
    "VP Engineering",
    "Operations Manager",
    "CEO",
    "IT Director",
    "Procurement Lead",
    "Marketing Director",
]
INDUSTRIES = ["software", "logistics", "healthcare", "retail", "finance", "manufacturing", "media"]
SOURCES = ["website", "referral", "event", "cold outreach", "webinar", "partner"]
OWNERS = ["sam", "kim"]
TAGS = ["warm", "enterprise", "smb", "renewal", "urgent", "eu", "us"]
SIGNALS = [
    "email_open",
    "web_visit",
    "content_download",
    "form_submission",
    "trial_request",
    "event_registration",
    "social_engagement",
]
LOST_REASONS = [
    "went with a competitor",
    "no budget this year",
    "project cancelled",
    "no reply after 5 follow-ups",
    "chose to build in-house",
]
NEXT_ACTIONS = [
    "Follow-up call",
    "Send the proposal",
    "Book a demo",
    "Send case study",
    "Check in on budget",
    "Intro to the decision maker",
]


def run(*args: str) -> str:
    """One pipectl command, in process; stops the build if it fails."""
    from typer.testing import CliRunner

    from pipectl.cli.app import app

    result = CliRunner().invoke(app, [str(arg) for arg in args])
    if result.exit_code != 0:
        sys.exit(f"pipectl {' '.join(map(str, args))} failed:\n{result.output}")
    return result.stdout


def at(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M")


def build(random_: random.Random) -> None:
    for number in range(40):
        name = f"{FIRST[number]} {LAST[number]}"
        company = COMPANIES[number % len(COMPANIES)] if number < 20 else random_.choice(COMPANIES) + " Group"
        email = f"{FIRST[number].lower()}.{LAST[number].lower().replace(' ', '')}@example.com"
        depth = random_.choices([0, 1, 2, 3], weights=[3, 4, 4, 4])[0]
        fate = random_.random()
        closes = (depth >= 3 and fate < 0.45) or (depth >= 1 and fate > 0.85) or (depth == 0 and fate > 0.8)
        # Closed deals are older and ended a while ago; open ones are younger and mostly still being worked.
        created = NOW - timedelta(
            days=random_.randint(45, 110) if closes else random_.randint(6, 40), hours=random_.randint(0, 8)
        )
        options = [
            "--company",
            company,
            "--email",
            email,
            "--title",
            random_.choice(TITLES),
            "--industry",
            random_.choice(INDUSTRIES),
            "--size",
            str(random_.choice([12, 40, 120, 600, 2500])),
            "--source",
            random_.choice(SOURCES),
            "--owner",
            random_.choice(OWNERS),
            "--value",
            f"{random_.randint(4, 90) * 500}",
            "--at",
            at(created),
        ]
        for tag in random_.sample(TAGS, random_.randint(0, 2)):
            options += ["--tag", tag]
        if random_.random() < 0.3:
            options += ["--field", f"Plan={random_.choice(['starter', 'team', 'enterprise'])}"]
        lead = run("add", name, *options).strip()
        last_step = NOW - timedelta(days=random_.uniform(5, 30) if closes else random_.uniform(0.2, 9))
        walk(random_, lead, created, last_step, depth, fate)


def walk(random_: random.Random, lead: str, created: datetime, last_step: datetime, depth: int, fate: float) -> None:
    """One lead's life: touches, stage moves, BANT, and an outcome or a next action, spread evenly
    between its creation and `last_step`."""
    steps: list[tuple] = [
        ("log", lead, random_.choice(SIGNALS)),
        ("log", lead, random_.choice(["call", "email"]), "--note", "first outreach"),
    ]
    if depth >= 1:
        answers = ["yes" if random_.random() < 0.75 else random_.choice(["no", "unknown"]) for _ in range(4)]
        if depth >= 3:
            answers = ["yes"] * 4
        steps += [
            ("log", lead, "reply", "--note", "interested, asked for details"),
            ("move", lead, "Qualification"),
            (
                "qualify",
                lead,
                "--budget",
                f"{answers[0]}:{random_.randint(10, 80)}k approved" if answers[0] == "yes" else answers[0],
                "--authority",
                answers[1],
                "--need",
                answers[2],
                "--timeline",
                f"{answers[3]}:decides in Q1" if answers[3] == "yes" else answers[3],
            ),
        ]
    if depth >= 2:
        steps += [
            ("log", lead, "meeting", "--note", "discovery call with the team"),
            ("move", lead, "Contact"),
            ("log", lead, "demo"),
        ]
    if depth >= 3:
        steps += [("move", lead, "Proposal"), ("log", lead, "email", "--note", "sent the proposal")]
        if random_.random() < 0.3:
            steps.append(("log", lead, "competitor", "--note", "also talking to a competitor"))
    if depth >= 3 and fate < 0.45:
        steps.append(("won", lead))
    elif depth >= 1 and fate > 0.85:
        steps.append(("lost", lead, "--reason", random_.choice(LOST_REASONS)))
    elif depth == 0 and fate > 0.8:
        steps.append(("lost", lead, "--reason", "no reply after 5 follow-ups"))
    span = (last_step - created) / len(steps)
    for number, step in enumerate(steps, start=1):
        moment = created + span * (number - 1 + random_.uniform(0.6, 1.0))
        run(*step, "--at", at(min(moment, last_step)))
    if steps[-1][0] not in ("won", "lost"):
        due = NOW + timedelta(days=random_.randint(-3, 10))
        run("plan", lead, random_.choice(NEXT_ACTIONS), "--due", due.strftime("%Y-%m-%d"))


def nobodys(lines: str) -> str:
    """The demo's history was done by no one in particular: its activities name no actor (not whoever built it)."""
    records = [json.loads(line) for line in lines.splitlines()]
    for record in records:
        if record["type"] == "activity":
            record["actor"] = None
    return "".join(json.dumps(record, ensure_ascii=False) + "\n" for record in records)


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        os.environ["PIPECTL_DB"] = str(Path(folder) / "demo.db")
        os.environ["PIPECTL_NOW"] = NOW.isoformat()
        os.environ["TZ"] = "UTC"
        build(random.Random(7))
        OUT.write_text(nobodys(run("export", "--what", "all", "--format", "jsonl")), encoding="utf-8")
    print(f"Wrote {OUT}", file=sys.stderr)


if __name__ == "__main__":
    main()
