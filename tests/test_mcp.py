"""`pipectl mcp`: the tools in-process through the SDK's client, and one real stdio session.

Each read tool returns exactly what its `--format json` command prints; a write tool returns the
lead as `show -f json` prints it afterwards; a refusal is a tool error with the CLI's `Error:` line
and changes nothing. Skipped where the optional SDK is not installed (CI installs it).
"""

import json
import os
import sys

import pytest

pytest.importorskip("mcp")

import anyio
from mcp import Client, StdioServerParameters

from pipectl.cli.mcp_server import build_server
from pipectl.cli.mcp_tools import TOOLS


def session(db_location, calls, *, read_only: bool = False):
    """Run `calls(client)` against an in-process server on the test database; returns its result."""

    async def run():
        async with Client(build_server(db_location, read_only=read_only), mode="legacy") as client:
            return await calls(client)

    return anyio.run(run)


@pytest.fixture
def filled(ok, new_lead):
    ok("init")
    ada = new_lead("Ada Lovelace", "--company", "Analytical", "--value", "12k", "--industry", "retail")
    ok("plan", ada, "Call back", "--due", "-1d")
    bob = new_lead("Bob", "--value", "3k")
    ok("log", bob, "meeting", "--note", "met the team")
    return {"ada": ada, "bob": bob}


READS = [
    ("show", {"lead": "Ada Lovelace"}, ["show", "Ada Lovelace"]),
    ("brief", {"lead": "1"}, ["brief", "1"]),
    ("search", {"text": "ada"}, ["search", "ada"]),
    (
        "search",
        {"text": "lovelace", "status": "open", "limit": 1},
        ["search", "lovelace", "--status", "open", "-n", "1"],
    ),
    ("list", {"sort": "value", "min_score": 0}, ["list", "--sort", "value", "--min-score", "0"]),
    ("next", {"within": "3d"}, ["next", "--within", "3d"]),
    ("status", {}, ["status"]),
    ("metrics", {"by": "industry"}, ["metrics", "--by", "industry"]),
    ("metrics", {}, ["metrics"]),
    ("forecast", {"quota": "20k", "period": "quarter"}, ["forecast", "--quota", "20k", "--period", "quarter"]),
]


@pytest.mark.parametrize(("tool", "arguments", "command"), READS)
def test_a_read_tool_returns_exactly_the_json_of_its_command(filled, ok, db_location, tool, arguments, command):
    result = session(db_location, lambda client: client.call_tool(tool, arguments))
    assert not result.is_error, result.content[0].text
    assert result.content[0].text == ok(*command, "--format", "json").stdout


def test_the_tools_are_listed_with_descriptions_and_schemas(filled, db_location):
    listed = session(db_location, lambda client: client.list_tools()).tools
    names = [tool.name for tool in listed]
    assert names == [tool.name for tool in TOOLS]
    assert {"search", "show", "brief", "list", "next", "status", "metrics", "forecast"} <= set(names)
    assert {"add", "log", "plan", "done", "move", "qualify", "won", "lost"} <= set(names)
    for tool in listed:
        assert tool.description and tool.input_schema["type"] == "object"
    add = next(tool for tool in listed if tool.name == "add")
    assert add.input_schema["required"] == ["name"] and "company_size" in add.input_schema["properties"]


def test_write_tools_change_the_pipeline_as_the_cli_does(filled, ok, db_location):
    async def calls(client):
        added = await client.call_tool(
            "add", {"name": "Cy", "value": "5k", "tags": ["warm"], "fields": {"plan": "pro"}}
        )
        cy = json.loads(added.content[0].text)["id"]
        results = [added]
        for tool, arguments in [
            ("log", {"lead": str(cy), "kind": "call", "outcome": "connected"}),
            ("plan", {"lead": str(cy), "action": "Send proposal", "due": "friday"}),
            ("done", {"lead": str(cy), "note": "sent", "next": "Follow up", "due": "3d"}),
            ("qualify", {"lead": str(cy), "budget": "yes: 5k", "need": "no"}),
            ("move", {"lead": str(cy), "stage": "Contact"}),
            ("won", {"lead": str(cy), "value": "6k"}),
            ("lost", {"lead": "Bob", "reason": "price"}),
        ]:
            results.append(await client.call_tool(tool, arguments))
        return cy, results

    cy, results = session(db_location, calls)
    assert [result.is_error for result in results] == [False] * 8, [result.content[0].text for result in results]
    # Each write returns the lead as `show -f json` prints it now.
    assert results[-2].content[0].text == ok("show", str(cy), "-f", "json").stdout
    shown = json.loads(results[-2].content[0].text)
    assert (shown["status"], shown["value"], shown["tags"], shown["fields"]) == (
        "won",
        6000.0,
        ["warm"],
        {"plan": "pro"},
    )
    assert shown["bant"]["budget"] == {"status": "yes", "note": "5k"}
    kinds = [activity["kind"] for activity in shown["activities"]]
    assert kinds[:2] == ["won", "stage_change"] and "call" in kinds
    assert json.loads(ok("show", "Bob", "-f", "json").stdout)["lost_reason"] == "price"


@pytest.mark.parametrize(
    ("tool", "arguments", "command"),
    [
        ("move", {"lead": "1", "stage": "Nowhere"}, ["move", "1", "Nowhere"]),
        ("show", {"lead": "Nobody"}, ["show", "Nobody"]),
        ("done", {"lead": "2"}, ["done", "2"]),
        ("won", {"lead": "1", "value": "lots"}, None),
        ("log", {"lead": "1", "kind": "telepathy"}, ["log", "1", "telepathy"]),
        ("add", {"name": "Ada Lovelace", "company": "Analytical"}, ["add", "Ada Lovelace", "--company", "Analytical"]),
        ("list", {"limit": "2"}, None),
        ("search", {"text": '"*'}, ["search", '"*']),
        ("list", {"colour": "red"}, None),
        ("plan", {"lead": "1", "action": "x"}, None),
    ],
)
def test_a_refusal_is_a_tool_error_with_the_cli_message_and_changes_nothing(
    filled, cli, db_location, snapshot, tool, arguments, command
):
    before = snapshot()
    result = session(db_location, lambda client: client.call_tool(tool, arguments))
    assert result.is_error
    text = result.content[0].text
    assert text.startswith("Error: ") and "\n" not in text.strip()
    if command is not None:
        refused = cli(*command)
        assert refused.exit_code in (1, 2)
        assert text == refused.stderr.strip()
    assert snapshot() == before


def test_read_only_lists_only_reads_and_refuses_writes(filled, db_location, snapshot):
    before = snapshot()

    async def calls(client):
        listed = await client.list_tools()
        refused = await client.call_tool("won", {"lead": "1"})
        read = await client.call_tool("status", {})
        return listed, refused, read

    listed, refused, read = session(db_location, calls, read_only=True)
    assert [tool.name for tool in listed.tools] == [
        "show",
        "brief",
        "search",
        "list",
        "next",
        "status",
        "metrics",
        "forecast",
    ]
    assert all(tool.annotations.read_only_hint for tool in listed.tools)
    assert refused.is_error and "read-only" in refused.content[0].text
    assert not read.is_error
    assert snapshot() == before


def test_a_real_stdio_session(filled, ok, db_location):
    """A subprocess: initialise, list the tools, a read, a write, a refusal; stdout carries only the protocol."""
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    server = StdioServerParameters(
        command=sys.executable, args=["-m", "pipectl", "mcp", "--db", db_location], env=environment
    )

    async def run():
        # "legacy": the initialize handshake, as every client of the 2025 protocol does it.
        async with Client(server, mode="legacy") as client:
            assert client.server_info is not None and client.server_info.name == "pipectl"
            listed = await client.list_tools()
            read = await client.call_tool("list", {})
            wrote = await client.call_tool("log", {"lead": "1", "kind": "email", "note": "sent the deck"})
            refused = await client.call_tool("move", {"lead": "1", "stage": "Nowhere"})
            return listed, read, wrote, refused

    listed, read, wrote, refused = anyio.run(run)
    assert len(listed.tools) == len(TOOLS)
    assert not read.is_error and [lead["name"] for lead in json.loads(read.content[0].text)] == ["Ada Lovelace", "Bob"]
    assert not wrote.is_error and json.loads(wrote.content[0].text)["activities"][0]["note"] == "sent the deck"
    assert refused.is_error and refused.content[0].text.startswith("Error: There is no stage 'Nowhere'")
    assert ok("show", "1", "-f", "json").stdout.count("sent the deck") == 1


def test_without_the_sdk_the_command_says_how_to_install_it(cli, monkeypatch):
    # A None entry in sys.modules makes `import mcp…` raise ImportError, as on a machine without the extra.
    for name in [name for name in sys.modules if name == "mcp" or name.startswith("mcp.")]:
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, "mcp.server.stdio", None)
    result = cli("mcp")
    assert result.exit_code == 1
    assert (
        result.stderr
        == "Error: pipectl mcp needs the MCP SDK: pip install 'pipectl[mcp]' (or pipx inject pipectl 'mcp>=2.3,<3').\n"
    )
    assert result.stdout == ""
