"""`pipectl mcp`: the pipeline as a Model Context Protocol server over stdio, for AI assistants.

The tools are `cli/mcp_tools.TOOLS`. A refusal comes back as a tool error whose text is the CLI's
`Error: …` line, and the transaction that refused changed nothing. Nothing but the protocol goes to
stdout: the SDK's stdio transport points file descriptor 1 at stderr while it serves, and logs go
to stderr. The SDK is an optional extra (`pipectl[mcp]`); without it the command says how to
install it.
"""

import sys
from typing import Annotated, Any

import typer

from pipectl.cli.options import DbOption

INSTALL_HINT = "pipectl mcp needs the MCP SDK: pip install 'pipectl[mcp]' (or pipx inject pipectl 'mcp>=2.3,<3')."
READ_ONLY_REFUSAL = "the MCP server is read-only (pipectl mcp --read-only): {tool} changes the pipeline."


def call(name: str, arguments: dict | None, db: str | None, *, read_only: bool = False) -> tuple[bool, str]:
    """Run one tool: (True, its JSON text) or (False, the `Error: …` line the CLI would print)."""
    from pipectl.cli.mcp_tools import BY_NAME, as_json, check_arguments
    from pipectl.cli.runtime import start_command
    from pipectl.errors import PipectlError, UsageError
    from pipectl.terminal import visible

    try:
        tool = BY_NAME.get(name)
        if tool is None:
            raise UsageError(f"There is no tool {name!r}; the tools are: {', '.join(BY_NAME)}.")
        if tool.writes and read_only:
            raise UsageError(READ_ONLY_REFUSAL.format(tool=name))
        start_command(f"mcp {name}")
        return True, as_json(tool.run(check_arguments(tool, arguments), db))
    except PipectlError as error:
        return False, f"Error: {visible(error)}"
    except Exception as error:
        from pipectl.cli.failures import explain

        failure = explain(error)
        if failure is None:
            # A bug, not the user's doing: the assistant gets one line, the log on stderr gets the traceback.
            import logging

            logging.getLogger("pipectl.mcp").exception("tool %s failed", name)
            return False, f"Error: {name} failed unexpectedly ({type(error).__name__}); see the server's log."
        return False, f"Error: {visible(failure)}"


def build_server(db: str | None = None, *, read_only: bool = False) -> Any:
    """The MCP server (the SDK's low-level `Server`), its tools listed from the table."""
    import anyio
    import mcp.types as types
    from mcp.server import Server

    from pipectl import __version__
    from pipectl.cli.mcp_tools import TOOLS

    offered = [tool for tool in TOOLS if not (read_only and tool.writes)]

    async def list_tools(_ctx, _params) -> types.ListToolsResult:
        return types.ListToolsResult(
            tools=[
                types.Tool(
                    name=tool.name,
                    description=tool.description,
                    input_schema=tool.schema,
                    annotations=types.ToolAnnotations(read_only_hint=not tool.writes, destructive_hint=False),
                )
                for tool in offered
            ]
        )

    async def call_tool(_ctx, params: types.CallToolRequestParams) -> types.CallToolResult:
        # The database work is blocking: a worker thread keeps the protocol answering (pings, cancels).
        succeeded, text = await anyio.to_thread.run_sync(
            lambda: call(params.name, params.arguments, db, read_only=read_only)
        )
        return types.CallToolResult(content=[types.TextContent(text=text)], is_error=not succeeded)

    return Server(
        "pipectl",
        version=__version__,
        instructions="A sales pipeline: leads, stages, activities, scores and forecasts. Tools return the JSON "
        "of the matching `pipectl … --format json` command.",
        on_list_tools=list_tools,
        on_call_tool=call_tool,
    )


def mcp(
    read_only: Annotated[
        bool,
        typer.Option(
            "--read-only",
            envvar="PIPECTL_MCP_READ_ONLY",
            help="Offer only the tools that read; the writing ones are not listed and are refused.",
        ),
    ] = False,
    db: DbOption = None,
) -> None:
    """Serve the pipeline to AI assistants over stdio (Model Context Protocol); needs pipectl[mcp].

    Tools: show, brief, list, next, status, metrics, forecast (read); add, log, plan, done,
    move, qualify, won, lost (write). Each returns the JSON of the matching `--format json`
    command; a write returns the lead as `pipectl show LEAD -f json` prints it afterwards. A
    refusal is a tool error with the CLI's `Error:` message and changes nothing. Register it
    with an MCP client as the command `pipectl mcp` (add `--db PATH` for another pipeline).

    Example: pipectl mcp --read-only --db ~/sales/pipeline.db
    """
    import logging

    from pipectl.cli.runtime import admitted_location
    from pipectl.errors import RuleViolation

    try:
        import anyio
        from mcp.server.stdio import stdio_server
    except ImportError:
        raise RuleViolation(INSTALL_HINT) from None
    # Logs on stderr: stdout carries the protocol only.
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING, format="pipectl mcp: %(levelname)s %(message)s")
    admitted_location(db, write=not read_only)  # a mistyped --db is refused now, not at the first call
    server = build_server(db, read_only=read_only)

    async def serve() -> None:
        async with stdio_server() as (read_stream, write_stream):
            await server.run(read_stream, write_stream, server.create_initialization_options())

    anyio.run(serve)


def register(app: typer.Typer) -> None:
    app.command()(mcp)
